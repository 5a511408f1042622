/* The environment of a run's command: its run id for the agent's own
 * OpenTelemetry (man/agentperf.1, "run"). Pure string work. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runenv.h"

/* Whether OTEL_RESOURCE_ATTRIBUTES may carry c in a value unencoded: W3C
 * baggage's value octets, less '%' (OpenTelemetry percent-decodes values). */
static bool otel_value_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\' &&
	       c != '%';
}

/* Writes into out (size cap) the OTEL_RESOURCE_ATTRIBUTES of a run's child:
 * old's entries in their order, less empty ones and any agentperf.run_id (a
 * run started inside another names the run it is in), then
 * agentperf.run_id=RUN_ID, percent-encoded where the format wants it.
 * Returns -1 when it does not fit. */
int runenv_otel_attributes(const char *old, const char *run_id, char *out, size_t cap)
{
	static const char key[] = "agentperf.run_id";
	size_t n = 0;
	int w;

	for (const char *e = old ? old : ""; *e;) {
		const char *end = strchr(e, ',');
		size_t len = end ? (size_t)(end - e) : strlen(e);
		const char *k = e, *eq = memchr(e, '=', len);
		const char *kend = eq ? eq : e + len;

		while (k < kend && (*k == ' ' || *k == '\t'))
			k++;
		while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
			kend--;
		if (kend > k && !((size_t)(kend - k) == sizeof(key) - 1 && !memcmp(k, key, kend - k))) {
			if (n + len + 1 >= cap)
				return -1;
			memcpy(out + n, e, len);
			n += len;
			out[n++] = ',';
		}
		e += len + (end != NULL);
	}
	w = snprintf(out + n, cap - n, "%s=", key);
	if (w < 0 || (size_t)w >= cap - n)
		return -1;
	n += w;
	for (const unsigned char *c = (const unsigned char *)run_id; *c; c++) {
		w = snprintf(out + n, cap - n, otel_value_char(*c) ? "%c" : "%%%02X", *c);
		if (w < 0 || (size_t)w >= cap - n)
			return -1;
		n += w;
	}
	return 0;
}
