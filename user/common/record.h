/* The run record's human renderings (docs/interfaces.md "The run record"): pure, for the client. */
#ifndef AGENTPERF_RECORD_H
#define AGENTPERF_RECORD_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* The renderings never hold a control byte: the record's strings (a command's
 * name is whatever the process set) pass through names_sanitize. */
/* One paragraph for `agentperf run` (no trailing newline); writes at most len bytes. */
void record_summary(const cJSON *rec, char *buf, size_t len);
/* Fixed-width table for `agentperf runs`/`status`: the header, then one row per record. */
void record_table_header(char *buf, size_t len);
void record_table_row(const cJSON *rec, char *buf, size_t len);

/* "812KiB", "1.2GiB": binary units, as free(1) -h prints them; returns buf. */
char *record_bytes_human(double bytes, char *buf, size_t len);

#endif
