"""Hostile traffic against agentperfd's HTTP/WebSocket port: each case sends
something no well-behaved client would, then checks that the daemon still
answers /healthz at once. Usage: hostile.py HOST:PORT CASE... (or "all")."""
import socket
import sys
import time

ADDR = None
HEALTH_DEADLINE = 1.0  # seconds /healthz may take after each case


def conn():
    s = socket.create_connection(ADDR, timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_quietly(s, data):
    """Sends data; a daemon that resets an abusive connection is fine."""
    try:
        s.sendall(data)
    except OSError:
        pass


def healthz():
    t = time.monotonic()
    s = conn()
    s.settimeout(HEALTH_DEADLINE)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
            if b"\r\n\r\n" in got and got.endswith(b"ok\n"):
                break
    except socket.timeout:
        pass
    s.close()
    took = time.monotonic() - t
    if not got.startswith(b"HTTP/1.1 200") or not got.endswith(b"ok\n"):
        raise SystemExit(f"/healthz did not answer 200 ok within {HEALTH_DEADLINE} s: {got[:80]!r}")
    return took


def case_connect_close():
    conn().close()


def case_junk():
    s = conn()
    send_quietly(s, bytes(range(256)) * 4)
    s.close()


def case_partial_request():
    s = conn()
    send_quietly(s, b"GET /healthz HTTP/1.1\r\nHost: 127.")
    s.close()


def case_long_request_line():
    s = conn()
    send_quietly(s, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n")
    s.close()


def case_many_headers():
    s = conn()
    send_quietly(s, b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(10000)) + b"\r\n")
    s.close()


def case_huge_header():
    s = conn()
    send_quietly(s, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"z" * 100000 + b"\r\n\r\n")
    s.close()


def case_half_open_many():
    # Many partial requests held open at once, then dropped.
    socks = []
    for _ in range(200):
        s = conn()
        send_quietly(s, b"GET /ws/projects/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        socks.append(s)
    healthz()
    for s in socks:
        s.close()


def case_connect_close_storm():
    for _ in range(2000):
        conn().close()


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    global ADDR
    host, port = sys.argv[1].rsplit(":", 1)
    ADDR = (host, int(port))
    names = list(CASES) if sys.argv[2:] == ["all"] else sys.argv[2:]
    for name in names:
        CASES[name]()
        time.sleep(0.05)
        took = healthz()
        print(f"{name}: daemon up, /healthz in {took * 1000:.1f} ms")


if __name__ == "__main__":
    main()
