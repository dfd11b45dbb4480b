#!/usr/bin/env python3
"""run-local.py DIR WORKER [--expect-fail]: rehearse a multi-node torchrun launch on this machine.

Runs every DIR/torchrun/node-<i>.sh that moec generated at once, each torchrun playing one node, with the
rendezvous moved to 127.0.0.1 on a free port (MOEC_MASTER_ADDR, MOEC_MASTER_PORT) and the flags Debian's torchrun
1.13 needs on Python 3.11 (`-r 1 -t 1 --log_dir`, in MOEC_TORCHRUN_FLAGS; its default `--redirects 0` crashes).
Passes when every node exits 0, every rank reported its environment matched, and rank 0 reported the layer matched
(or, with --expect-fail, when the run fails). Bounded: every node is killed after 300 s.
"""
import glob
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

directory, worker = sys.argv[1], sys.argv[2]
expect_fail = "--expect-fail" in sys.argv
scripts = sorted(glob.glob(os.path.join(directory, "torchrun", "node-*.sh")),
                 key=lambda p: int(re.search(r"node-(\d+)", p).group(1)))
if not scripts:
    sys.exit("run-local: no torchrun/node-*.sh in %s" % directory)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]

logs = tempfile.mkdtemp(prefix="moec-torchrun-")
procs = []
for i, script in enumerate(scripts):
    env = dict(os.environ, MOEC_MASTER_ADDR="127.0.0.1", MOEC_MASTER_PORT=str(port), OMP_NUM_THREADS="1",
               MOEC_TORCHRUN_FLAGS="-r 1 -t 1 --log_dir %s/node-%d" % (logs, i))
    env.pop("MOEC_MANIFEST", None)
    out = open(os.path.join(logs, "node-%d.out" % i), "w")
    procs.append((subprocess.Popen(["bash", script, worker], env=env, stdout=out, stderr=subprocess.STDOUT), out))

deadline = time.time() + 300
codes = []
for proc, out in procs:
    try:
        codes.append(proc.wait(timeout=max(1, deadline - time.time())))
    except subprocess.TimeoutExpired:
        for p, _ in procs:
            p.kill()
        codes.append("timeout")
    out.close()

text = ""
for i in range(len(scripts)):
    text += open(os.path.join(logs, "node-%d.out" % i)).read()
envs = len(re.findall(r"moec-worker: rank \d+: environment matches the manifest", text))
matched = "matched the single-process layer" in text
ok = all(c == 0 for c in codes) and matched
print("run-local: %d nodes exited %s; %d ranks checked their environment; layer %s"
      % (len(scripts), codes, envs, "matched" if matched else "did not match"))
for line in text.splitlines():
    if "moec-worker: rank 0:" in line or "DID NOT MATCH" in line:
        print(line.split("]:", 1)[-1].strip() if "]:" in line else line.strip())
if expect_fail:
    sys.exit(0 if not ok else 1)
if not ok:
    print(text[-4000:])
sys.exit(0 if ok else 1)
