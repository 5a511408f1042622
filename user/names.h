/* Project names as the dashboard contract allows them: ^[A-Za-z0-9_-]{1,50}$. */
#ifndef AGENTPERF_NAMES_H
#define AGENTPERF_NAMES_H

#include <stdbool.h>

#define NAMES_PROJECT_MAX 50

bool names_project_valid(const char *name);

#endif
