"""
agentperf PerfMon Source
========================

Feeds the PerfMon panel's ``perf_metrics`` messages from agentperfd, the
agentperf daemon, over the page's own project WebSocket. (This file is
agentperf's ``contrib/autoforge/agentperf_relay.py``: change it there.)

``relay(name, websocket.send_text, fallback=...)`` subscribes to agentperfd's
``/ws/projects/{name}`` and hands each ``perf_metrics`` message, unchanged, to
``send``; nothing else agentperfd says (errors, pongs) is forwarded. While
agentperfd is unreachable, refuses the page or stops answering, ``fallback()``
(the harness's own sampler) runs instead: it starts once the relay has no
connection that delivers, and is cancelled, and awaited, before agentperfd's
first message of a new connection is sent. The two never share the socket.
The relay reconnects with capped exponential backoff (0.1 s doubling to 5 s).

Only the standard library and ``websockets`` (10.x legacy to 15.x) are used.
"""

import asyncio
import inspect
import json
import logging
import os
import urllib.parse

import websockets
import websockets.exceptions

__all__ = ["relay", "DEFAULT_SERVER"]

DEFAULT_SERVER = "127.0.0.1:8765"

logger = logging.getLogger(__name__)

# websockets 14 renamed the handshake's extra request headers.
_HEADERS_KW = ("additional_headers"
               if "additional_headers" in inspect.signature(websockets.connect).parameters
               else "extra_headers")

# Close codes after which trying again cannot help: an invalid project name
# (agentperfd checks the same rule as the harness) and a refused Origin.
_FINAL_CLOSE = {4000: "invalid project name", 4403: "Origin refused"}

# Put in place of a message: agentperfd has no connection that delivers.
_DOWN = object()


def _url(server, project):
    base = server if "://" in server else "ws://" + server
    return base.rstrip("/") + "/ws/projects/" + urllib.parse.quote(project, safe="")


def _http_status(exc):
    """The HTTP status of a refused handshake (401 without the right token)."""
    status = getattr(exc, "status_code", None)  # websockets < 14
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status


def _close_code(ws, exc):
    code = getattr(ws, "close_code", None)
    if code is None and exc is not None:
        code = getattr(getattr(exc, "rcvd", None), "code", None)
    return code


class _Latest:
    """The newest message not yet handed on (or _DOWN). A page's socket slower
    than the stream makes the relay skip to the newest message, as agentperfd
    does for a slow client: nothing queues up, and a message still waiting when
    agentperfd goes away is dropped, not sent after the fallback's."""

    def __init__(self):
        self._item = None
        self._ready = asyncio.Event()

    def put(self, item):
        self._item = item
        self._ready.set()

    async def take(self):
        await self._ready.wait()
        self._ready.clear()
        item, self._item = self._item, None
        return item


async def _end(tasks, grace=2.0):
    """Cancels tasks and waits until each has ended. Once is not always
    enough: before Python 3.12, asyncio.wait_for (which websockets' connect
    and close use) loses a cancellation that lands as its inner await
    completes (gh-86296), and the task goes on: a relay cancelled at that
    moment reconnected for ever. So a task still running after grace
    seconds (longer than any cleanup here: the closing handshake's 1 s) is
    cancelled again, every half second. A cancellation of the caller
    meanwhile waits until they have ended (a cleanup cut short would leave
    one running), then goes on up."""
    loop = asyncio.get_running_loop()
    pending = set(tasks)
    cancelled = False
    for t in pending:
        t.cancel()
    deadline = loop.time() + grace
    while pending:
        try:
            _, pending = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:
            cancelled = True
            pending = {t for t in pending if not t.done()}
        if pending and loop.time() >= deadline:
            for t in pending:  # a cancellation lost on the way: again
                t.cancel()
            deadline = loop.time() + 0.5
    for t in tasks:
        if not t.cancelled():
            t.exception()  # retrieved: their errors are the caller's to look at
    if cancelled:
        raise asyncio.CancelledError


async def _stop(task):
    await _end([task])


async def _forward(latest, send, fallback):
    """The only sender of the page's perf messages: agentperfd's, or while it
    is down the fallback's, never both."""
    down = False
    sampler = None  # the fallback's task while agentperfd is down
    try:
        while True:
            item = await latest.take()
            if item is _DOWN:
                if not down:
                    down = True
                    if fallback is not None:
                        sampler = asyncio.ensure_future(fallback())
                continue
            if down:
                # agentperfd delivers again: the fallback is gone before its message goes out.
                down = False
                if sampler is not None:
                    await _stop(sampler)
                    sampler = None
            result = send(item)
            if inspect.isawaitable(result):
                await result
    finally:
        if sampler is not None:
            await _stop(sampler)


async def _upstream(url, headers, project, latest, as_dict, on_connect, min_backoff, max_backoff,
                    keepalive, fallback):
    """Subscribes, and subscribes again after every loss; returns only when
    agentperfd says the subscription can never work."""
    delay = min_backoff
    down_since = None  # the loop time the current outage was first logged
    meanwhile = "; PerfMon uses its own sampler meanwhile" if fallback is not None else ""
    while True:
        why = None
        try:
            async with websockets.connect(url, compression=None, open_timeout=5, close_timeout=1,
                                          ping_interval=keepalive, ping_timeout=keepalive,
                                          max_size=1 << 20, **{_HEADERS_KW: headers}) as ws:
                if on_connect is not None:
                    result = on_connect(ws)
                    if inspect.isawaitable(result):
                        await result
                closed = None
                try:
                    async for text in ws:
                        try:
                            msg = json.loads(text)
                        except ValueError:
                            continue
                        if not isinstance(msg, dict) or msg.get("type") != "perf_metrics":
                            continue  # errors, pongs: never forwarded
                        if delay != min_backoff or down_since is not None:
                            # A good connection: data flows. Back off from scratch next time.
                            if down_since is not None:
                                logger.info("agentperf relay for %s: %s is back after %.1f s", project,
                                            url, asyncio.get_running_loop().time() - down_since)
                            delay, down_since = min_backoff, None
                        latest.put(msg if as_dict else text)
                except websockets.exceptions.ConnectionClosed as exc:
                    closed = exc
                # Down now, not after the closing handshake.
                latest.put(_DOWN)
                code = _close_code(ws, closed)
                if code in _FINAL_CLOSE:
                    logger.error("agentperf relay for %s: %s closed with %d (%s); not retrying%s", project,
                                 url, code, _FINAL_CLOSE[code], meanwhile)
                    return
                why = "closed (code %s)" % code
        except (OSError, asyncio.TimeoutError, EOFError, websockets.exceptions.WebSocketException) as exc:
            status = _http_status(exc)
            if status == 401:
                why = "refused the token (HTTP 401)"
            elif status is not None:
                why = "refused the connection (HTTP %s)" % status
            else:
                why = "unreachable (%s)" % (exc or type(exc).__name__)
        latest.put(_DOWN)
        if down_since is None:
            down_since = asyncio.get_running_loop().time()
            logger.warning("agentperf relay for %s: %s %s; retrying%s", project, url, why, meanwhile)
        else:
            logger.debug("agentperf relay for %s: %s %s; retrying in %.1f s", project, url, why, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_backoff)


async def relay(project, send, *, server=None, token=None, stop=None, as_dict=False, on_connect=None,
                fallback=None, min_backoff=0.1, max_backoff=5.0, keepalive=3.0):
    """Forwards agentperfd's perf_metrics for ``project`` to ``send``.

    project: the project name, as in the harness's ``/ws/projects/{name}``.
    send: called with each perf_metrics message (the JSON text, or the decoded
      dict with ``as_dict=True``) and awaited if it returns an awaitable:
      Starlette's ``websocket.send_text`` (or ``send_json`` with as_dict).
    server: agentperfd's ``HOST:PORT`` (or a ``ws://`` URL); default
      ``$AGENTPERF_SERVER``, else 127.0.0.1:8765.
    token: agentperfd's bearer token (``--token-file``), sent as
      ``Authorization: Bearer T``; default ``$AGENTPERF_TOKEN``, else none.
    stop: an optional asyncio.Event; the relay returns once it is set.
    on_connect: optional callable, awaited if it returns an awaitable, given
      each new connection to agentperfd (logging, tests).
    fallback: optional coroutine function, the harness's own sampler, which
      sends its own messages. ``fallback()`` runs as a task while agentperfd
      delivers nothing: from the first failed attempt (not before: a reachable
      agentperfd's first message comes first) until a new connection delivers;
      it is cancelled and awaited before that connection's first message is
      sent, so the page never gets both sources' messages in between.
    min_backoff, max_backoff: reconnect delays in seconds: the first retry
      after min_backoff, doubling up to max_backoff; back to min_backoff once a
      connection delivers data.
    keepalive: agentperfd is pinged every ``keepalive`` s; one that does not
      answer within ``keepalive`` s (stopped, host gone) counts as down.

    Returns when ``send`` raises (the page's socket is gone), when ``stop`` is
    set, or, without a fallback, when agentperfd refuses the name for good
    (close 4000; with a fallback, that keeps running). Cancelling the task
    stops it too. The connection to agentperfd, and the fallback's task, are
    closed each way.
    """
    if server is None:
        server = os.environ.get("AGENTPERF_SERVER") or DEFAULT_SERVER
    if token is None:
        token = os.environ.get("AGENTPERF_TOKEN") or None
    headers = {"Authorization": "Bearer " + token} if token else {}
    latest = _Latest()
    up = asyncio.ensure_future(_upstream(_url(server, project), headers, project, latest, as_dict, on_connect,
                                         min_backoff, max_backoff, keepalive, fallback))
    fwd = asyncio.ensure_future(_forward(latest, send, fallback))
    tasks = [up, fwd]
    if stop is not None:
        tasks.append(asyncio.ensure_future(stop.wait()))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if fallback is not None and done == {up} and up.exception() is None:
            # Refused for good: the fallback goes on alone until the page leaves.
            done, _ = await asyncio.wait(tasks[1:], return_when=asyncio.FIRST_COMPLETED)
    finally:
        # On every way out, cancellation included: close agentperfd's connection.
        await _end(tasks)
    if fwd in done:
        logger.debug("agentperf relay for %s: the page's socket is gone (%r); stopping", project,
                     None if fwd.cancelled() else fwd.exception())
    elif up in done and up.exception() is not None:
        raise up.exception()


if __name__ == "__main__":
    # python3 agentperf_relay.py PROJECT: print what a page would receive.
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(sys.argv) != 2:
        sys.exit("usage: agentperf_relay.py PROJECT  (agentperfd from $AGENTPERF_SERVER, "
                 "token from $AGENTPERF_TOKEN)")
    try:
        asyncio.run(relay(sys.argv[1], lambda text: print(text, flush=True)))
    except KeyboardInterrupt:
        pass
