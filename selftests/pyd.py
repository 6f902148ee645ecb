#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One Python for all of a selftest's Python commands (lib.sh's `py`).

Under emulation, and more so on the debug kernel, starting python3 costs
seconds: most of it exec, page faults and imports. pyd.py starts once per
test process, imports the helpers, and forks a child for each request:
the child joins the requested network namespace (setns), runs the command
as python3 would, and returns what it printed and its exit status.

Started by lib.sh as `pyd.py`: it makes itself a session leader (lib.sh
ends the whole group at exit), listens on a TCP port of 127.0.0.1 in the
namespace it started in, and prints that port on a line of its own.

A request, on its own connection: NUL-terminated fields
    N  NETNS  CWD  STDIN  ARG1 ... ARGN
NETNS is a name under /run/netns or "-" (stay), STDIN the text the command
reads on its standard input, ARG1... python3's arguments: a script path
(the selftests' scripts are imported once and their main() called), "-c"
and code, or "-" (the code is STDIN). The reply, one line each: "O" and a
line of standard output, "E" and a line of standard error, and last "R"
and the exit status.
"""
import importlib.util
import io
import os
import signal
import socket
import sys
import tempfile
import traceback

CLONE_NEWNET = 0x40000000
HERE = os.path.dirname(os.path.abspath(__file__))

modules = {}


def load(path):
    """The module of script PATH, imported once (in the parent, so that every
    later child has it without importing it again)."""
    path = os.path.abspath(path)
    if path not in modules:
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        modules[path] = mod
    return modules[path]


def read_request(conn):
    """The request's fields: (netns, cwd, stdin, argv)."""
    buf = b""
    fields = []
    need = None
    while need is None or len(fields) < need:
        while b"\0" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError("request cut short")
            buf += chunk
        field, buf = buf.split(b"\0", 1)
        if need is None:
            need = 3 + int(field)
            continue
        fields.append(field.decode())
    return fields[0], fields[1], fields[2], fields[3:]


def run(argv, stdin):
    """Run python3 ARGV in this (child) process; return its exit status."""
    sys.stdin = io.StringIO(stdin)
    rc = 0
    try:
        if argv[0] == "-c":
            sys.argv = ["-c"] + argv[2:]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        elif argv[0] == "-":
            sys.argv = ["-"] + argv[1:]
            sys.stdin = io.StringIO("")
            exec(compile(stdin, "<stdin>", "exec"), {"__name__": "__main__"})
        else:
            mod = modules[os.path.abspath(argv[0])]
            sys.argv = list(argv)
            r = mod.main()
            rc = r if isinstance(r, int) else 0
    except SystemExit as e:
        if e.code is None:
            rc = 0
        elif isinstance(e.code, int):
            rc = e.code
        else:
            print(e.code, file=sys.stderr)
            rc = 1
    except BaseException:
        traceback.print_exc()
        rc = 1
    return rc


def child(conn, netns, cwd, stdin, argv):
    """Serve one request in a forked child. Its file descriptors 1 and 2
    are files, so that what commands it starts print is returned too."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    rc = 1
    try:
        if netns != "-":
            fd = os.open("/run/netns/" + netns, os.O_RDONLY)
            os.setns(fd, CLONE_NEWNET)
            os.close(fd)
        os.chdir(cwd)
        rc = run(argv, stdin)
    except BaseException:
        traceback.print_exc()
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            pass
    reply = []
    for tag, f in (("O", out), ("E", err)):
        f.seek(0)
        text = f.read().decode(errors="replace")
        reply += [tag + line + "\n" for line in text.splitlines()]
    reply.append("R%d\n" % rc)
    conn.sendall("".join(reply).encode())
    conn.close()


def main():
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sys.path.insert(0, HERE)
    for name in ("pcap_esp.py", "xtfs_genl.py"):
        load(os.path.join(HERE, name))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    while True:
        conn, _ = srv.accept()
        try:
            netns, cwd, stdin, argv = read_request(conn)
            if argv and argv[0] not in ("-c", "-"):
                load(argv[0])
        except BaseException:
            traceback.print_exc()
            conn.close()
            continue
        if os.fork() == 0:
            # The parent reaps its children by ignoring SIGCHLD; with that
            # inherited, a command's own subprocess would have no exit
            # status to wait for (subprocess reports 0).
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            srv.close()
            child(conn, netns, cwd, stdin, argv)
            os._exit(0)
        conn.close()


if __name__ == "__main__":
    main()
