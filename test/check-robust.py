#!/usr/bin/env python3
"""check-robust.py MOEC SPEC [--truncate-step N] [--mutations M]

Feeds moec truncations and random byte mutations of SPEC (deterministic: the seed is fixed) and fails when a run
crashes, hangs (10 s), exits with a code other than 0 or 1, or fails without a `file:line:col: error:` line.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("moec")
parser.add_argument("spec")
parser.add_argument("--truncate-step", type=int, default=1)
parser.add_argument("--mutations", type=int, default=0)
args = parser.parse_args()

data = open(args.spec, "rb").read()
cases = [("truncated at %d" % n, data[:n]) for n in range(0, len(data), args.truncate_step)]
rng = random.Random(20261128)
for i in range(args.mutations):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(b))
        op = rng.randrange(3)
        if op == 0:
            b[pos] = rng.randrange(256)
        elif op == 1:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        else:
            del b[pos:pos + rng.randint(1, 16)]
    cases.append(("mutation %d" % i, bytes(b)))

located = re.compile(rb"^.*:\d+:\d+: error: ", re.M)
failures = 0
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "case.moe")
    for name, content in cases:
        with open(path, "wb") as f:
            f.write(content)
        try:
            r = subprocess.run([args.moec, path, "-o", os.path.join(tmp, "out")], capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            print("HANG:", name)
            failures += 1
            continue
        bad = None
        if r.returncode not in (0, 1):
            bad = "exit code %d" % r.returncode
        elif r.returncode == 1 and not located.search(r.stderr):
            bad = "no located error"
        if bad:
            failures += 1
            print("FAIL (%s): %s\n%s" % (bad, name, r.stderr.decode(errors="replace")[-2000:]))
            with open(os.path.join(os.getcwd(), "robust-failure.moe"), "wb") as f:
                f.write(content)
print("%d cases, %d failures" % (len(cases), failures))
sys.exit(1 if failures else 0)
