/* Syslog-level logger on stderr, with a bridge for libbpf's own messages. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int log_verbose;

void log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

static void log_vmsg(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info", "debug" };
	int threshold = log_verbose >= 1 ? LOG_DEBUG : LOG_INFO;

	if (level > threshold)
		return;
	/* One line, whole, whichever thread writes it (the token workers log). */
	flockfile(stderr);
	fprintf(stderr, "agentperfd: %s: ", names[level & 7]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	/* libbpf's lines carry their own newline. */
	if (level == LIBBPF_DEBUG && log_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbose < 1)
		return 0;
	flockfile(stderr);
	fputs("agentperfd: ", stderr);
	n = vfprintf(stderr, fmt, ap);
	funlockfile(stderr);
	return n;
}
