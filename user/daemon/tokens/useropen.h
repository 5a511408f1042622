/* Opening what a given user owns, as root, for reading what that user's
 * programs wrote: never through a link, never blocking on a FIFO, never a
 * device. */
#ifndef AGENTPERF_USEROPEN_H
#define AGENTPERF_USEROPEN_H

#include <sys/stat.h>
#include <sys/types.h>

/* Opens the directory path if it is uid's, refusing a link as its last part.
 * Returns an fd, or -1 with errno (EPERM: another's). */
int useropen_dir(const char *path, uid_t uid);
/* Opens name in the directory dfd for reading if it is a regular file of
 * uid's with no other name (st_nlink 1), its stat in *st. Looks first through
 * an O_PATH fd, so that a device, a FIFO or a link is never opened, then
 * reopens that same inode for reading. Returns an fd, or -1 with errno
 * (EINVAL: not a regular file, a symlink included; EPERM: another's, or
 * hard-linked). Needs /proc. */
int useropen_file(int dfd, const char *name, uid_t uid, struct stat *st);

#endif
