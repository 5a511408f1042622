/* Project names as the dashboard contract allows them: ^[A-Za-z0-9_-]{1,50}$;
 * other names (commands, run ids) made safe to print. */
#ifndef AGENTPERF_NAMES_H
#define AGENTPERF_NAMES_H

#include <stdbool.h>

#define NAMES_PROJECT_MAX 50
/* A run id, "{pid}-{started_at}", and its NUL. */
#define NAMES_RUN_ID_MAX 64
/* A project's WebSocket is at this path and its name. */
#define NAMES_WS_PREFIX "/ws/projects/"

bool names_project_valid(const char *name);
/* Makes s safe for a terminal, in place and keeping its length: every byte of a
 * C0 or C1 control (ESC above all), DEL or malformed UTF-8 becomes '?'. */
void names_sanitize(char *s);

#endif
