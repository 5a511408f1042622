/* The CLI's side of the control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"

/* Replies carry at most the whole history; refuse anything absurd. */
#define CLIENT_REPLY_MAX (256u << 20)

int client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	if (e == ENOENT || e == ECONNREFUSED)
		snprintf(err, errlen,
			 "agentperfd is not running (nothing listens on %s; start it with: sudo "
			 "agentperfd)",
			 path);
	else if (e == EACCES)
		snprintf(err, errlen,
			 "no access to %s (be root or in the daemon's --control-group)", path);
	else
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(e));
	return -1;
}


/* Reads up to and without the newline; malloc'd, NULL with err set. */
static char *read_line(int fd, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;
		char *nl;

		if (len == cap - 1) {
			char *nbuf = cap < CLIENT_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nbuf) {
				snprintf(err, errlen, "reply from agentperfd too large");
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "agentperfd closed the connection%s%s",
				 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf + len - n, '\n', (size_t)n);
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

cJSON *client_call(int fd, const struct control_request *req, char *err, size_t errlen)
{
	char *line = control_format_request(req), *reply;
	const cJSON *ok, *msg;
	cJSON *o;
	int e;

	if (!line) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e = buf_send_all(fd, line, strlen(line));
	free(line);
	if (e) {
		snprintf(err, errlen, "cannot talk to agentperfd: %s", strerror(-e));
		return NULL;
	}
	reply = read_line(fd, err, errlen);
	if (!reply)
		return NULL;
	o = cJSON_Parse(reply);
	free(reply);
	ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
	if (cJSON_IsTrue(ok))
		return o;
	msg = cJSON_GetObjectItemCaseSensitive(o, "error");
	snprintf(err, errlen, "%s",
		 cJSON_IsString(msg) ? msg->valuestring : "malformed reply from agentperfd");
	cJSON_Delete(o);
	return NULL;
}
