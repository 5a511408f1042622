/* Run history: finished runs' records appended, one JSON line each, fsynced. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"

#define HISTORY_FILE "runs.jsonl"

int history_prepare(const char *dir)
{
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int history_append(const char *dir, const cJSON *rec)
{
	char path[PATH_MAX], *json = cJSON_PrintUnformatted(rec), *line = NULL;
	struct stat st;
	bool created;
	int fd, err;

	if (!json || asprintf(&line, "%s\n", json) < 0) {
		free(json);
		return -ENOMEM;
	}
	free(json);
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	created = stat(path, &st) != 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		free(line);
		return err;
	}
	err = write_all(fd, line, strlen(line));
	if (err)
		/* Leave no half line behind for the next append to glue onto. */
		(void)!ftruncate(fd, st.st_size);
	else if (fsync(fd))
		err = -errno;
	close(fd);
	free(line);
	if (!err && created) {
		/* A new file's directory entry must be durable too. */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return err;
}

cJSON *history_read(const char *dir, const char *project, unsigned limit)
{
	cJSON *out = cJSON_CreateArray();
	char path[PATH_MAX], *line = NULL;
	unsigned count = 0;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return out;
		cJSON_Delete(out);
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		cJSON *rec = cJSON_ParseWithLength(line, (size_t)n);
		const char *p;

		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			continue;
		}
		p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "project"));
		if (project && project[0] && (!p || strcmp(p, project))) {
			cJSON_Delete(rec);
			continue;
		}
		/* Appended oldest first: hand them back newest first. */
		cJSON_InsertItemInArray(out, 0, rec);
		if (limit && ++count > limit)
			cJSON_DeleteItemFromArray(out, (int)limit);
	}
	free(line);
	fclose(f);
	return out;
}
