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
 * uid's, its stat in *st. Returns an fd, or -1. */
int useropen_file(int dfd, const char *name, uid_t uid, struct stat *st);

#endif
