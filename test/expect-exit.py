#!/usr/bin/env python3
"""expect-exit.py N COMMAND...: run COMMAND and succeed only if it exits with code N.

lit's internal shell has no `$?`, and lit's built-in `not` accepts a crash as a failure; this checks the exact
code, so a crash (a signal, reported as a negative code) never passes. Output passes through unchanged.
"""
import subprocess
import sys

expected = int(sys.argv[1])
code = subprocess.call(sys.argv[2:])
if code != expected:
    sys.stderr.write("expect-exit: %r exited with %d, expected %d\n" % (sys.argv[2:], code, expected))
    sys.exit(1)
