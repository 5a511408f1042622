/* Syslog-level logger on stderr, with a bridge for libbpf's own messages. */
#ifndef AGENTPERF_LOG_H
#define AGENTPERF_LOG_H

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <syslog.h>

void log_set_verbose(int verbose);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* libbpf_print_fn_t: libbpf's warnings at LOG_WARNING, its debug only with -v -v. */
int log_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
