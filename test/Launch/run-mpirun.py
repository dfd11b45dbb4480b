#!/usr/bin/env python3
"""run-mpirun.py DIR WORKER [--expect-fail]: rehearse a multi-node Open MPI launch on this machine.

Runs the DIR/mpirun/run.sh that moec generated, unchanged, with the flags a rehearsal needs in MOEC_MPIRUN_FLAGS:
an rsh agent (fake-ssh, beside this file) that starts the daemon of every node of the hostfile here, and
--oversubscribe (this machine has fewer cores than the plan has ranks). The rendezvous moves to 127.0.0.1 on a free
port. run.sh adds --allow-run-as-root itself when it runs as root. Passes when mpirun exits 0, every rank reported
its environment matched and rank 0 reported the layer matched (or, with --expect-fail, when the run fails).
Bounded: mpirun is killed after 300 s.
"""
import os
import re
import socket
import subprocess
import sys

directory, worker = sys.argv[1], sys.argv[2]
expect_fail = "--expect-fail" in sys.argv
here = os.path.dirname(os.path.abspath(__file__))
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
env = dict(os.environ, MOEC_MASTER_ADDR="127.0.0.1", MOEC_MASTER_PORT=str(port), OMP_NUM_THREADS="1",
           # Two daemons on one machine share PMIx's shared-memory store badly; the hash store is exact.
           PMIX_MCA_gds="hash",
           MOEC_MPIRUN_FLAGS="--mca plm_rsh_agent %s --oversubscribe -x OMP_NUM_THREADS -x PMIX_MCA_gds"
           % os.path.join(here, "fake-ssh"))
env.pop("MOEC_MANIFEST", None)
try:
    p = subprocess.run(["bash", os.path.join(directory, "mpirun", "run.sh"), "/usr/bin/python3", worker], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    code, text = p.returncode, p.stdout
except subprocess.TimeoutExpired as e:
    code, text = "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
envs = len(re.findall(r"moec-worker: rank \d+: environment matches the manifest", text))
matched = "matched the single-process layer" in text
ok = code == 0 and matched
print("run-mpirun: mpirun exited %s; %d ranks checked their environment; layer %s"
      % (code, envs, "matched" if matched else "did not match"))
for line in text.splitlines():
    if "moec-worker: rank 0:" in line or "DID NOT MATCH" in line:
        print(line.strip())
if expect_fail:
    sys.exit(0 if not ok else 1)
if not ok:
    print(text[-4000:])
sys.exit(0 if ok else 1)
