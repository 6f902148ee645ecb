#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run a command whose N-th allocation from a chosen text range fails.

  failnth.py N OUT COMMAND...
                 forks; the child writes N to its /proc/self/fail-nth and
                 executes COMMAND, its output to the file OUT, which then sees its N-th allocation that
                 passes the fault injector's filters fail (the slab
                 injector's stack filter, require-start/require-end, set by
                 the caller, limits the count to one module's code). Prints
                 "fired" when the N-th allocation came and failed, else
                 "not-fired", and exits with COMMAND's status.

The count belongs to the task and fork() clears it, so it is set in the
child right before exec(), which keeps it. It is read back from the child
while it is a zombie (waitid() with WNOWAIT), before it is reaped.
"""

import os
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    out = sys.argv[2]
    argv = sys.argv[3:]
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            with open("/proc/self/fail-nth", "w") as f:
                f.write(str(n))
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    with open("/proc/%d/fail-nth" % pid) as f:
        left = int(f.read())
    _, status = os.waitpid(pid, 0)
    print("fired" if left == 0 else "not-fired")
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
