/* A run as the transcript scanner's parts see it, and the files it made. */
#include <fcntl.h>

#include "tokrun.h"

bool tokrun_born(const struct tokrun *r, const struct statx *stx)
{
	return (int64_t)stx->stx_btime.tv_sec * 1000000000LL + stx->stx_btime.tv_nsec >=
	       r->started_ns - TOKRUN_BIRTH_SLACK_NS;
}

bool tokrun_born_fd(const struct tokrun *r, int fd, bool *known)
{
	struct statx stx;

	*known = false;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) || !(stx.stx_mask & STATX_BTIME))
		return false;
	*known = true;
	return tokrun_born(r, &stx);
}
