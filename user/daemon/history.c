/* Run history: finished runs' records appended, one JSON line each, fsynced;
 * rotated at a size, and read backwards so that a read costs what it returns. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "history.h"

#define HISTORY_FILE "runs.jsonl"
#define TIMELINE_FILE "timelines.jsonl"
/* The file kept after a rotation: NAME.1 */
#define OLD_SUFFIX ".1"
/* Reads go backwards this much at a time. */
#define HISTORY_BLOCK (64U << 10)

int history_prepare(const char *dir)
{
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static int path_of(char *buf, size_t size, const char *dir, const char *name)
{
	return snprintf(buf, size, "%s/%s", dir, name) >= (int)size ? -ENAMETOOLONG : 0;
}


/* Makes a rename or a new file's directory entry durable. */
static void sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* Opens path to append, rotating it first when line_len more bytes would
 * take it past max_bytes; *st is the file as opened. fd or -errno. */
static int open_rotated(const char *dir, const char *path, size_t line_len, uint64_t max_bytes,
			struct stat *st, bool *created)
{
	char old[PATH_MAX];
	int fd, err;

	*created = stat(path, st) != 0;
	if (!*created && max_bytes && st->st_size > 0 &&
	    (uint64_t)st->st_size + line_len > max_bytes) {
		if (snprintf(old, sizeof(old), "%s%s", path, OLD_SUFFIX) >= (int)sizeof(old))
			return -ENAMETOOLONG;
		if (rename(path, old))
			return -errno;
		*created = true;
	}
	/* O_RDWR: the last byte is read to tell a torn line. */
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int append_to(const char *dir, const char *file, const cJSON *rec, uint64_t max_bytes)
{
	char path[PATH_MAX], *json = cJSON_PrintUnformatted(rec), *line;
	size_t n = json ? strlen(json) : 0;
	bool created = false, torn = false;
	struct stat st;
	int fd, err;
	char last;

	/* line is "\nJSON\n": the leading newline is written only after a torn line. */
	line = json ? malloc(n + 2) : NULL;
	if (!line) {
		free(json);
		return -ENOMEM;
	}
	line[0] = '\n';
	memcpy(line + 1, json, n);
	line[n + 1] = '\n';
	free(json);
	err = path_of(path, sizeof(path), dir, file);
	fd = err ? err : open_rotated(dir, path, n + 1, max_bytes, &st, &created);
	if (fd < 0) {
		free(line);
		return fd;
	}
	if (st.st_size > 0) {
		ssize_t r = pread(fd, &last, 1, st.st_size - 1);

		if (r < 0)
			err = -errno;
		torn = r == 1 && last != '\n';
	}
	if (!err)
		err = buf_write_all(fd, torn ? line : line + 1, torn ? n + 2 : n + 1);
	if (err)
		/* Leave no half line behind for the next append to glue onto. */
		(void)!ftruncate(fd, st.st_size);
	else if (fsync(fd))
		err = -errno;
	close(fd);
	free(line);
	if (!err && created)
		sync_dir(dir);
	return err;
}

int history_append(const char *dir, const cJSON *rec, uint64_t max_bytes)
{
	return append_to(dir, HISTORY_FILE, rec, max_bytes);
}

int history_append_timeline(const char *dir, const cJSON *timeline, uint64_t max_bytes)
{
	return append_to(dir, TIMELINE_FILE, timeline, max_bytes);
}

/* A file's lines, last to first, a block at a time: what is held is a block
 * and the longest line, whatever the file's size. */
struct rlines {
	int fd;
	off_t off; /* the file offset of buf[0] */
	char *buf;
	size_t len, cap;
	bool oversize; /* dropping a line longer than HISTORY_LINE_MAX */
};

/* Reads the block before r's data in front of it. 0 or -errno. */
static int rlines_fill(struct rlines *r)
{
	size_t chunk = r->off < HISTORY_BLOCK ? (size_t)r->off : HISTORY_BLOCK;

	if (r->len > HISTORY_LINE_MAX) {
		r->len = 0;
		r->oversize = true;
	}
	if (r->len + chunk > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 2 * HISTORY_BLOCK;
		char *b;

		while (cap < r->len + chunk)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	memmove(r->buf + chunk, r->buf, r->len);
	for (size_t got = 0; got < chunk;) {
		off_t at = r->off - (off_t)chunk + (off_t)got;
		ssize_t n = pread(r->fd, r->buf + got, chunk - got, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* 0: the file shrank under us */
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	r->off -= (off_t)chunk;
	r->len += chunk;
	return 0;
}

/* The line before the previous one: 1 with *line and *n (not NUL-terminated,
 * valid until the next call), 0 at the start of the file, or -errno. Empty
 * lines are passed over; those too long are counted into *skipped. */
static int rlines_prev(struct rlines *r, const char **line, size_t *n, unsigned *skipped)
{
	for (;;) {
		char *nl = r->len ? memrchr(r->buf, '\n', r->len) : NULL;
		size_t start;
		int err;

		if (!nl && r->off > 0) {
			err = rlines_fill(r);
			if (err)
				return err;
			continue;
		}
		if (!nl && !r->len) {
			if (r->oversize)
				(*skipped)++;
			r->oversize = false;
			return 0;
		}
		/* A whole line: after the last newline, or the file's first. */
		start = nl ? (size_t)(nl - r->buf) + 1 : 0;
		*line = r->buf + start;
		*n = r->len - start;
		r->len = nl ? start - 1 : 0;
		if (r->oversize || *n > HISTORY_LINE_MAX) {
			r->oversize = false;
			(*skipped)++;
		} else if (*n) {
			return 1;
		}
	}
}

/* line as one JSON object and nothing after it but white space; NULL if not. */
static cJSON *parse_line(const char *line, size_t n)
{
	const char *end = NULL;
	cJSON *rec = cJSON_ParseWithLengthOpts(line, n, &end, false);

	while (rec && end < line + n && (unsigned char)*end <= ' ')
		end++;
	if (cJSON_IsObject(rec) && end == line + n)
		return rec;
	cJSON_Delete(rec);
	return NULL;
}

/* Before history_append ended torn lines, the record after one was written on
 * the same line: the last record start in a bad line may begin a whole one. */
static cJSON *salvage(const char *line, size_t n)
{
	static const char start[] = "{\"project\":";
	const char *p = NULL, *q = line + 1;

	while (q < line + n && (q = memmem(q, (size_t)(line + n - q), start, sizeof(start) - 1)))
		p = q++;
	return p ? parse_line(p, (size_t)(line + n - p)) : NULL;
}

/* "key":VALUE as cJSON prints it, which is how history_append wrote it: a
 * line without it cannot hold a record with that value. NULL on ENOMEM. */
static char *needle(const char *key, const char *value)
{
	cJSON *s = cJSON_CreateStringReference(value);
	char *v = s ? cJSON_PrintUnformatted(s) : NULL, *out = NULL;

	if (v && asprintf(&out, "\"%s\":%s", key, v) < 0)
		out = NULL;
	free(v);
	cJSON_Delete(s);
	return out;
}

static bool holds(const char *line, size_t n, const char *text)
{
	return !text || memmem(line, n, text, strlen(text));
}

static bool has(const cJSON *rec, const char *key, const char *value)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, key));

	return !value || (v && !strcmp(v, value));
}

/* What a scan keeps: records of project (NULL: any) with run_id (NULL: any). */
struct want {
	const char *project, *run_id;
	char *project_needle, *run_id_needle;
	cJSON *out;
	unsigned left;
};

/* Adds the wanted records of one file to w->out, newest first. 0 or -errno;
 * an absent file has none. */
static int scan_file(const char *path, struct want *w, unsigned *skipped)
{
	struct rlines r = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	struct stat st;
	const char *line = NULL;
	size_t n = 0;
	int ret = 0;

	if (r.fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(r.fd, &st)) {
		ret = -errno;
		close(r.fd);
		return ret;
	}
	r.off = st.st_size;
	while (w->left && (ret = rlines_prev(&r, &line, &n, skipped)) > 0) {
		cJSON *rec;

		/* Most lines are not wanted: look before parsing. */
		if (!holds(line, n, w->project_needle) || !holds(line, n, w->run_id_needle))
			continue;
		rec = parse_line(line, n);
		if (!rec) {
			(*skipped)++;
			rec = salvage(line, n);
		}
		if (!rec || !has(rec, "project", w->project) || !has(rec, "run_id", w->run_id)) {
			cJSON_Delete(rec);
			continue;
		}
		if (!cJSON_AddItemToArray(w->out, rec)) {
			cJSON_Delete(rec);
			ret = -ENOMEM;
			break;
		}
		w->left--;
	}
	free(r.buf);
	close(r.fd);
	return ret < 0 ? ret : 0;
}

/* Fills a new array with up to limit wanted records, newest first. NULL with errno. */
static cJSON *scan(const char *dir, const char *file, const char *project, const char *run_id,
		   unsigned limit, unsigned *skipped)
{
	struct want w = { .project = project && project[0] ? project : NULL, .run_id = run_id };
	unsigned dummy;
	int err = 0;

	skipped = skipped ? skipped : &dummy;
	*skipped = 0;
	w.left = limit && limit < HISTORY_READ_MAX ? limit : HISTORY_READ_MAX;
	w.out = cJSON_CreateArray();
	if (w.project)
		w.project_needle = needle("project", w.project);
	if (w.run_id)
		w.run_id_needle = needle("run_id", w.run_id);
	if (!w.out || (w.project && !w.project_needle) || (w.run_id && !w.run_id_needle))
		err = -ENOMEM;
	for (int old = 0; !err && w.left && old < 2; old++) {
		char path[PATH_MAX];

		err = snprintf(path, sizeof(path), "%s/%s%s", dir, file, old ? OLD_SUFFIX : "") >=
				      (int)sizeof(path)
			      ? -ENAMETOOLONG
			      : scan_file(path, &w, skipped);
	}
	free(w.project_needle);
	free(w.run_id_needle);
	if (err) {
		cJSON_Delete(w.out);
		errno = -err;
		return NULL;
	}
	return w.out;
}

cJSON *history_read(const char *dir, const char *project, unsigned limit, unsigned *skipped)
{
	return scan(dir, HISTORY_FILE, project, NULL, limit, skipped);
}

static cJSON *find_in(const char *dir, const char *file, const char *project, const char *run_id,
		      unsigned *skipped)
{
	cJSON *arr = scan(dir, file, project, run_id, 1, skipped), *rec;

	if (!arr)
		return NULL;
	rec = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	if (!rec)
		errno = ENOENT;
	return rec;
}

cJSON *history_find(const char *dir, const char *project, const char *run_id, unsigned *skipped)
{
	return find_in(dir, HISTORY_FILE, project, run_id, skipped);
}

cJSON *history_find_timeline(const char *dir, const char *project, const char *run_id,
			     unsigned *skipped)
{
	return find_in(dir, TIMELINE_FILE, project, run_id, skipped);
}
