#!/usr/bin/python3
"""Runs a command with the Linux kernel keyring's system calls refused
(keyctl, add_key, request_key fail with EPERM), as Docker's default seccomp
profile refuses them. The filter is inherited by every process the command
starts, so `python3 no_keyring.py aws ...` is the AWS CLI in such a
container, and the keyfob it runs as credential_process too.

    /usr/bin/python3 tests/support/no_keyring.py COMMAND [ARGS...]

Needs Debian's python3-seccomp (libseccomp's bindings), hence the system
Python rather than the test venv's.
"""
import errno
import os
import sys

import seccomp

if len(sys.argv) < 2:
    sys.exit("usage: no_keyring.py COMMAND [ARGS...]")
rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for name in ("keyctl", "add_key", "request_key"):
    rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
rules.load()
os.execvp(sys.argv[1], sys.argv[1:])
