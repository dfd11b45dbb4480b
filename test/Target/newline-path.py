#!/usr/bin/env python3
"""newline-path.py MOEC SPEC OUTDIR: compile a copy of SPEC whose file name holds a newline and a command, and check
that no generated file gets a line the name started: the comment that names the spec keeps it on one line."""
import os
import shutil
import subprocess
import sys

moec, spec, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
evil = os.path.join(out, "spec\ntouch pwned #.moe")
shutil.copy(spec, evil)
bad = 0
for launcher in ["torchrun", "slurm", "mpirun", "kubernetes", "sglang", "vllm", "megatron"]:
    target = os.path.join(out, launcher)
    r = subprocess.run([moec, evil, "-emit=launch", "-launcher=" + launcher, "-o", target], capture_output=True,
                       text=True)
    if r.returncode != 0:
        print("FAIL %s: exit %d\n%s" % (launcher, r.returncode, r.stderr))
        bad += 1
        continue
    for d, _, files in os.walk(target):
        for name in files:
            for line in open(os.path.join(d, name)):
                if line.startswith("touch pwned"):
                    print("FAIL %s: a line of %s starts with the file name's command" % (launcher, name))
                    bad += 1
print("newline-path: 7 launchers, %d files broken out of" % bad)
sys.exit(1 if bad else 0)
