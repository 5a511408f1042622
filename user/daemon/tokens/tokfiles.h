/* The transcript files followed for the runs: each read from an offset, line
 * by line, for usage figures only, within the scanner's read and memory
 * budgets (TOKSCAN_*_MAX). A Claude Code message is handed to the scanner; a
 * Codex rollout's totals, before the run and now, are kept with its file. */
#ifndef AGENTPERF_TOKFILES_H
#define AGENTPERF_TOKFILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "tokrun.h"
#include "tokdefs.h"
#include "transcript.h"
#include "transcript_tools.h"

struct tokfiles;
struct tokfile;
struct tokdir; /* tokdirs': the directory a file was found in */

/* A Claude Code line with usage, of a file followed for run (slot, gen). */
typedef void (*tokfiles_claude_fn)(void *ctx, uint32_t slot, uint32_t gen,
				   const struct transcript_claude *m);

/* A tool event of a file followed for run (slot, gen), read from where the
 * file stood when found (never from a Codex rollout's tail before it). */
typedef void (*tokfiles_tool_fn)(void *ctx, uint32_t slot, uint32_t gen,
				 const struct toolcall_event *e);

/* claude gets each Claude Code message read, tool each tool event. NULL
 * with errno ENOMEM. tokfiles_free(NULL) is a no-op. */
struct tokfiles *tokfiles_new(tokfiles_claude_fn claude, tokfiles_tool_fn tool, void *ctx);
void tokfiles_free(struct tokfiles *fs);
/* Before a tick: its read budget (TOKSCAN_TICK_READ_MAX) starts afresh. */
void tokfiles_begin(struct tokfiles *fs);
/* Whether the file dev:ino is followed already, for any run. */
bool tokfiles_has(const struct tokfiles *fs, dev_t dev, ino_t ino);
/* The file followed as name in dir, or NULL. */
struct tokfile *tokfiles_find(const struct tokfiles *fs, const struct tokdir *dir,
			      const char *name);
/* Follows fd for run r from offset off (st: its stat; regular, its owner's,
 * not followed yet): as name in dir, or (both NULL) found open in one of the
 * run's processes. A Codex rollout read from past its start has its totals
 * before off read first, as the run's baseline. Takes fd. Returns the file,
 * or NULL (fd closed) past TOKSCAN_FILES_MAX files of the run or without
 * memory. */
struct tokfile *tokfiles_follow(struct tokfiles *fs, const struct tokrun *r,
				enum transcript_source src, const struct tokdir *dir,
				const char *name, int fd, const struct stat *st, off_t off);
/* The next byte of f to read. */
off_t tokfiles_offset(const struct tokfile *f);
/* f has grown: it is read at the run's next read. */
void tokfiles_touch(struct tokfile *f);
/* Every file followed in dir is read at its run's next read. */
void tokfiles_touch_dir(struct tokfiles *fs, const struct tokdir *dir);
/* dir is going (its run ended): files of other runs followed in it are read
 * at each of their runs' reads from now on, as open ones are. */
void tokfiles_forget_dir(struct tokfiles *fs, const struct tokdir *dir);
/* Reads what the run's files gained: those touched, and those found open in
 * a process (no directory events tell of them); all of them when all. */
void tokfiles_read(struct tokfiles *fs, const struct tokrun *r, bool all);
/* What the run's Codex rollouts gained since their baselines, in *sum.
 * Returns whether any has told (a baseline and totals). */
bool tokfiles_codex(const struct tokfiles *fs, const struct tokrun *r,
		    struct transcript_usage *sum);
/* Lets go of every file of the run in slot. */
void tokfiles_release(struct tokfiles *fs, uint32_t slot);
const struct tokscan_stats *tokfiles_stats(const struct tokfiles *fs);

#endif
