/* The transcript files followed for the runs, read from their offsets for usage lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tokfiles.h"
#include "tracker_abi.h"
#include "transcript_lines.h"

struct tokfile {
	uint32_t slot, gen;
	enum transcript_source src;
	const struct tokdir *dir; /* NULL: found open in one of the run's processes */
	char *name; /* in dir */
	dev_t dev;
	ino_t ino;
	int fd;
	off_t off; /* the next byte to read */
	bool dirty; /* an event says it grew */
	struct transcript_lines lines;
	size_t carry; /* lines.cap, as counted in the carry of all files */
	/* Codex: the cumulative totals before the run, and the latest. */
	bool have_base, have_total;
	struct transcript_usage base, total;
};

struct tokfiles {
	tokfiles_claude_fn claude;
	tokfiles_tool_fn tool;
	void *ctx;
	bool tail; /* reading a Codex rollout's tail from before the run */
	struct tokfile **files;
	size_t n_files, cap_files;
	size_t n_run[TRACKER_MAX_RUNS]; /* files followed per run, by slot */
	struct tokscan_stats stats;
	/* Each run's own budgets (by slot): what one run's files cost never
	 * comes out of another's. */
	size_t tick_read[TRACKER_MAX_RUNS]; /* bytes read this tick */
	size_t carry[TRACKER_MAX_RUNS]; /* partial lines' buffers */
	struct tokfile *cur; /* the file whose lines are being read */
	char buf[64 * 1024];
};

struct tokfiles *tokfiles_new(tokfiles_claude_fn claude, tokfiles_tool_fn tool, void *ctx)
{
	struct tokfiles *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->claude = claude;
	fs->tool = tool;
	fs->ctx = ctx;
	return fs;
}

void tokfiles_begin(struct tokfiles *fs)
{
	memset(fs->tick_read, 0, sizeof(fs->tick_read));
}

static bool push(struct tokfiles *fs, struct tokfile *f)
{
	struct tokfile **b = buf_grow(fs->files, &fs->cap_files, fs->n_files + 1, sizeof(*b));

	if (!b)
		return false;
	fs->files = b;
	fs->files[fs->n_files++] = f;
	return true;
}

bool tokfiles_has(const struct tokfiles *fs, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < fs->n_files; i++)
		if (fs->files[i]->dev == dev && fs->files[i]->ino == ino)
			return true;
	return false;
}

struct tokfile *tokfiles_find(const struct tokfiles *fs, const struct tokdir *dir,
			      const char *name)
{
	for (size_t i = 0; i < fs->n_files; i++)
		if (fs->files[i]->dir == dir && !strcmp(fs->files[i]->name, name))
			return fs->files[i];
	return NULL;
}

off_t tokfiles_offset(const struct tokfile *f)
{
	return f->off;
}

void tokfiles_touch(struct tokfile *f)
{
	f->dirty = true;
}

void tokfiles_touch_dir(struct tokfiles *fs, const struct tokdir *dir)
{
	for (size_t i = 0; i < fs->n_files; i++)
		if (fs->files[i]->dir == dir)
			fs->files[i]->dirty = true;
}

void tokfiles_forget_dir(struct tokfiles *fs, const struct tokdir *dir)
{
	for (size_t i = 0; i < fs->n_files; i++)
		if (fs->files[i]->dir == dir)
			fs->files[i]->dir = NULL;
}

static void file_free(struct tokfiles *fs, struct tokfile *f)
{
	fs->carry[f->slot] -= f->carry;
	if (f->fd >= 0)
		close(f->fd);
	transcript_lines_free(&f->lines);
	free(f->name);
	free(f);
}

static void codex_event(struct tokfile *f, const struct transcript_codex *ev)
{
	const struct transcript_usage *l = &ev->last, *t = &ev->total;

	if (!f->have_base) {
		/* No totals before the run were found: this event's own turn is
		 * the run's, what came before it is not. */
		if (ev->have_last && l->input <= t->input && l->output <= t->output &&
		    l->cache_read <= t->cache_read)
			transcript_codex_since(l, t, &f->base);
		else
			f->base = *t;
		f->have_base = true;
	}
	f->total = *t;
	f->have_total = true;
}

/* The line's tool events, if it may hold some. */
static void tool_line(struct tokfiles *fs, const struct tokfile *f, const char *line, size_t len)
{
	struct toolcall_event ev[TOOLCALL_PER_LINE];
	int n;

	if (fs->tail || !fs->tool)
		return;
	/* Claude Code: user and assistant lines; Codex: response items. */
	if (f->src == TRANSCRIPT_CLAUDE ? !memmem(line, len, "\"type\":\"user\"", 13) &&
						  !memmem(line, len, "\"type\":\"assistant\"", 18)
					: !memmem(line, len, "\"response_item\"", 15))
		return;
	n = transcript_parse_tools(f->src, line, len, ev, TOOLCALL_PER_LINE);
	for (int i = 0; i < n; i++)
		fs->tool(fs->ctx, f->slot, f->gen, &ev[i]);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct tokfiles *fs = ctx;
	struct tokfile *f = fs->cur;
	struct transcript_claude m;
	struct transcript_codex ev;
	int ret;

	tool_line(fs, f, line, len);

	/* Agents write compact JSON: a line without the key holds no usage,
	 * and most lines (prompts, tool output) are skipped here, unparsed. */
	if (f->src == TRANSCRIPT_CLAUDE) {
		if (!memmem(line, len, "\"usage\"", 7))
			return;
		ret = transcript_parse_claude(line, len, &m);
		if (ret == 1)
			fs->claude(fs->ctx, f->slot, f->gen, &m);
	} else {
		if (!memmem(line, len, "\"token_count\"", 13))
			return;
		ret = transcript_parse_codex(line, len, &ev);
		if (ret == 1)
			codex_event(f, &ev);
	}
	if (ret == 1)
		fs->stats.usage_lines++;
	else if (ret < 0)
		fs->stats.bad_lines++;
}

/* Reads the Codex totals the file held before off: the last token_count in
 * the TOKSCAN_TAIL_MAX bytes before it. */
static void codex_baseline(struct tokfiles *fs, struct tokfile *f)
{
	off_t from = f->off > TOKSCAN_TAIL_MAX ? f->off - TOKSCAN_TAIL_MAX : 0;
	struct transcript_lines tail = { 0 };
	bool skip_first = from > 0;
	off_t at = from;

	fs->cur = f;
	while (at < f->off) {
		size_t want = (size_t)(f->off - at) < sizeof(fs->buf) ? (size_t)(f->off - at)
								      : sizeof(fs->buf);
		ssize_t n = pread(f->fd, fs->buf, want, at);
		char *p = fs->buf;

		if (n <= 0)
			break;
		at += n;
		fs->stats.bytes_read += (uint64_t)n;
		if (skip_first) {
			/* Reading starts mid-line: the first piece is no line. */
			char *nl = memchr(p, '\n', (size_t)n);

			if (!nl)
				continue;
			skip_first = false;
			n -= nl + 1 - p;
			p = nl + 1;
		}
		fs->tail = true;
		transcript_lines_feed(&tail, p, (size_t)n, on_line, fs);
		fs->tail = false;
	}
	transcript_lines_free(&tail);
	/* Found: the totals so far are the baseline. Else the first event
	 * after off gives one (its total less its own turn). */
	if (f->have_total) {
		f->base = f->total;
		f->have_base = true;
		f->have_total = false;
	}
}

struct tokfile *tokfiles_follow(struct tokfiles *fs, const struct tokrun *r,
				enum transcript_source src, const struct tokdir *dir,
				const char *name, int fd, const struct stat *st, off_t off)
{
	struct tokfile *f;

	if (fs->n_run[r->slot] >= TOKSCAN_FILES_MAX || !(f = calloc(1, sizeof(*f)))) {
		close(fd);
		return NULL;
	}
	f->slot = r->slot;
	f->gen = r->gen;
	f->src = src;
	f->dir = dir;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->fd = fd;
	f->dirty = true;
	f->off = off;
	if ((name && !(f->name = strdup(name))) || !push(fs, f)) {
		free(f->name);
		free(f);
		close(fd);
		return NULL;
	}
	fs->n_run[r->slot]++;
	fs->stats.files_followed++;
	if (src == TRANSCRIPT_CODEX) {
		if (f->off)
			codex_baseline(fs, f);
		else
			f->have_base = true; /* a new session: from zero */
	}
	return f;
}

/* Reads what the file gained since the last read, up to TOKSCAN_READ_MAX
 * and what is left of its run's budget for the tick. */
static void file_read(struct tokfiles *fs, struct tokfile *f)
{
	uint64_t dropped = f->lines.dropped;
	size_t total = 0, *tick_read = &fs->tick_read[f->slot], *carry = &fs->carry[f->slot];
	struct stat st;
	off_t data;

	f->dirty = false;
	if (fstat(f->fd, &st))
		return;
	if (st.st_size < f->off) {
		/* Cut short: what is there now was read, or was never the run's. */
		f->off = st.st_size;
		transcript_lines_reset(&f->lines);
		*carry -= f->carry - f->lines.cap;
		f->carry = f->lines.cap;
		return;
	}
	/* Holes are no transcript: a sparse file (truncate -s 200G) is
	 * skipped to its data, or to its end, not read as zeros. */
	if (f->off < st.st_size) {
		data = lseek(f->fd, f->off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			data = st.st_size;
		if (data > f->off) {
			f->off = data;
			transcript_lines_reset(&f->lines);
		}
	}
	fs->cur = f;
	while (f->off < st.st_size) {
		size_t want = sizeof(fs->buf);
		ssize_t n;

		if (total >= TOKSCAN_READ_MAX || *tick_read >= TOKSCAN_TICK_READ_MAX) {
			f->dirty = true; /* the rest next tick */
			break;
		}
		if ((off_t)want > st.st_size - f->off)
			want = (size_t)(st.st_size - f->off);
		n = pread(f->fd, fs->buf, want, f->off);
		if (n <= 0)
			break;
		f->off += n;
		total += (size_t)n;
		*tick_read += (size_t)n;
		transcript_lines_feed(&f->lines, fs->buf, (size_t)n, on_line, fs);
	}
	/* A partial line waits for its newline, within the memory its run's
	 * files may keep so. */
	*carry += f->lines.cap - f->carry;
	f->carry = f->lines.cap;
	if (*carry > TOKSCAN_CARRY_MAX) {
		transcript_lines_drop(&f->lines);
		*carry -= f->carry;
		f->carry = 0;
	}
	fs->stats.bytes_read += total;
	fs->stats.dropped_lines += f->lines.dropped - dropped;
}

void tokfiles_read(struct tokfiles *fs, const struct tokrun *r, bool all)
{
	/* A run's last read has a tick's budget of its own. */
	if (all)
		fs->tick_read[r->slot] = 0;
	for (size_t i = 0; i < fs->n_files; i++) {
		struct tokfile *f = fs->files[i];

		/* A file found open in a process has no directory events. */
		if (f->slot == r->slot && f->gen == r->gen && (all || f->dirty || !f->dir))
			file_read(fs, f);
	}
}

bool tokfiles_codex(const struct tokfiles *fs, const struct tokrun *r,
		    struct transcript_usage *sum)
{
	struct transcript_usage d;
	bool seen = false;

	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < fs->n_files; i++) {
		const struct tokfile *f = fs->files[i];

		if (f->slot != r->slot || f->gen != r->gen || f->src != TRANSCRIPT_CODEX ||
		    !f->have_total || !f->have_base)
			continue;
		transcript_codex_since(&f->base, &f->total, &d);
		transcript_usage_add(sum, &d);
		seen = true;
	}
	return seen;
}

void tokfiles_release(struct tokfiles *fs, uint32_t slot)
{
	size_t kept = 0;

	for (size_t i = 0; i < fs->n_files; i++) {
		if (fs->files[i]->slot == slot)
			file_free(fs, fs->files[i]);
		else
			fs->files[kept++] = fs->files[i];
	}
	fs->n_files = kept;
	if (slot < TRACKER_MAX_RUNS)
		fs->n_run[slot] = 0;
}

void tokfiles_free(struct tokfiles *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n_files; i++)
		file_free(fs, fs->files[i]);
	free(fs->files);
	free(fs);
}

const struct tokscan_stats *tokfiles_stats(const struct tokfiles *fs)
{
	return &fs->stats;
}
