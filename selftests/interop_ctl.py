#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Command channel between the two guests of the interop test.

  interop_ctl.py serve ADDR PORT IDLE   run each command received (bash -c)
                                        and send back its status and output;
                                        stop on "exit" or after IDLE seconds
                                        without a connection
  interop_ctl.py call ADDR PORT WAIT CMD
                                        run CMD on the serving guest, print
                                        its output, exit with its status;
                                        retry connecting for WAIT seconds

The channel runs over the outer link between two test guests that exist
only for this test; it carries no traffic of the tunnel under test.
"""
import socket
import subprocess
import sys
import time


def read_all(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk


def serve(addr, port, idle):
    srv = socket.create_server((addr, port))
    srv.settimeout(idle)
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            print("interop_ctl: no command for %d s, stopping" % idle)
            return 1
        with conn:
            conn.settimeout(None)
            cmd = read_all(conn).decode()
            if cmd == "exit":
                conn.sendall(b"0\n")
                return 0
            res = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, check=False)
            conn.sendall(b"%d\n" % res.returncode + res.stdout)


def send_cmd(addr, port, cmd):
    """Connect and send CMD; the connection, or None if the peer is down."""
    try:
        conn = socket.create_connection((addr, port), timeout=5)
    except OSError:
        return None
    try:
        conn.sendall(cmd.encode())
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        conn.close()
        return None
    return conn


def call(addr, port, wait, cmd):
    # Until the command is sent nothing has run: retry while the peer
    # boots (no ARP answer, no listener yet).
    deadline = time.monotonic() + wait
    while True:
        conn = send_cmd(addr, port, cmd)
        if conn:
            break
        if time.monotonic() > deadline:
            print("interop_ctl: peer %s:%d not reachable" % (addr, port))
            return 255
        time.sleep(1)
    with conn:
        conn.settimeout(None)
        data = read_all(conn)
    status, _, out = data.partition(b"\n")
    sys.stdout.write(out.decode(errors="replace"))
    try:
        return int(status)
    except ValueError:
        print("interop_ctl: bad reply from peer")
        return 255


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        return serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if len(sys.argv) == 6 and sys.argv[1] == "call":
        return call(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                    sys.argv[5])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
