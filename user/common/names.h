/* Project names as the dashboard contract allows them: ^[A-Za-z0-9_-]{1,50}$. */
#ifndef AGENTPERF_NAMES_H
#define AGENTPERF_NAMES_H

#include <stdbool.h>

#define NAMES_PROJECT_MAX 50
/* A run id, "{pid}-{started_at}", and its NUL. */
#define NAMES_RUN_ID_MAX 64
/* A project's WebSocket is at this path and its name. */
#define NAMES_WS_PREFIX "/ws/projects/"

bool names_project_valid(const char *name);

#endif
