#!/usr/bin/python3
"""A FUSE filesystem that never answers: its root is an empty directory,
and every lookup below it blocks until the filesystem is gone, as a hung
FUSE or NFS home does. Issue 16's case 11: a user's run names a path in it.

  hangfs.py MOUNTPOINT -f -o allow_other

Prints "mounted" once serving; each lookup that blocks is printed too."""
import stat
import sys
import threading

import fuse

fuse.fuse_python_api = (0, 2)


class Hang(fuse.Fuse):
    def getattr(self, path):
        if path == "/":
            st = fuse.Stat()
            st.st_mode = stat.S_IFDIR | 0o755
            st.st_nlink = 2
            return st
        print("blocked: %s" % path, flush=True)
        threading.Event().wait()  # never answers

    def readdir(self, path, offset):
        yield fuse.Direntry(".")
        yield fuse.Direntry("..")

    def fsinit(self):
        print("mounted", flush=True)


def main():
    fs = Hang(usage=__doc__)
    fs.multithreaded = True
    fs.parse(errex=1)
    fs.main()


if __name__ == "__main__":
    sys.exit(main())
