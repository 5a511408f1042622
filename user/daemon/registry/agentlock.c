/* The agent harness's lock file, <project>/.autoforge/.agent.lock:
 * "PID:CREATE_TIME", CREATE_TIME the process's start as unix seconds (float). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agentlock.h"

int agentlock_parse(const char *buf, size_t len, struct agentlock *out)
{
	char text[AGENTLOCK_MAX + 1], *p, *end;
	long pid;
	double ct;

	if (len > AGENTLOCK_MAX)
		return -EINVAL;
	memcpy(text, buf, len);
	text[len] = '\0';
	if (strlen(text) != len) /* a NUL inside */
		return -EINVAL;
	p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || end == p || *end != ':' || pid <= 0 || pid > INT_MAX)
		return -EINVAL;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	ct = strtod(p, &end);
	if (errno || end == p || !isfinite(ct) || ct <= 0)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	out->pid = (pid_t)pid;
	out->create_time = ct;
	return 0;
}

bool agentlock_matches(const struct agentlock *l, double start_time)
{
	return fabs(l->create_time - start_time) <= AGENTLOCK_TOLERANCE_S;
}
