/* What agentperfd checks and sets before it opens anything. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "startup.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* The reasons agentperfd cannot start that a user can fix, each as one line. */
int startup_preflight(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "agentperfd: must run as root to load BPF programs (try: sudo "
				"agentperfd)\n");
		return -EPERM;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		fprintf(stderr,
			"agentperfd: this kernel exposes no BTF (%s is missing); use a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y\n",
			VMLINUX_BTF);
		return -ENOENT;
	}
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 11))) {
		fprintf(stderr,
			"agentperfd: Linux %s is too old; agentperfd needs 5.11 or newer (BPF "
			"task storage)\n",
			u.release);
		return -ENOTSUP;
	}
	return 0;
}

/* 1000 WebSocket clients need more descriptors than the usual 1024. */
void startup_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Binds once ourselves so that a taken port gets a clear line, not lws's. */
static int probe_bind(const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	bool v6 = inet_pton(AF_INET6, host, &a6.sin6_addr) == 1;
	int one = 1, fd, e = 0;

	if (!v6 && inet_pton(AF_INET, host, &a4.sin_addr) != 1) {
		snprintf(err, errlen, "--listen: %s is not an IP address", host);
		return -EINVAL;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))))
		e = errno;
	if (fd >= 0)
		close(fd);
	if (e) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%d: %s%s", v6 ? "[" : "", host,
			 v6 ? "]" : "", port, strerror(e),
			 e == EADDRINUSE ? " (another agentperfd? choose one with --listen)" : "");
		return -e;
	}
	return 0;
}

int startup_check_listen(const char *host, int port, char *err, size_t errlen)
{
	return probe_bind(strcmp(host, "localhost") ? host : "127.0.0.1", port, err, errlen);
}
