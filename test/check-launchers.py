#!/usr/bin/env python3
"""check-launchers.py MOEC OUTDIR SPEC...: every launcher's files for every spec: moec succeeds, writes the
manifest and at least one more file, and `bash -n` accepts every generated shell script."""
import os
import subprocess
import sys

moec, outdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
launchers = ["torchrun", "slurm", "mpirun", "kubernetes", "sglang", "vllm", "megatron"]
failed = 0
scripts = 0
for spec in specs:
    for launcher in launchers:
        target = os.path.join(outdir, os.path.basename(spec).replace(".moe", ""), launcher)
        r = subprocess.run([moec, spec, "-emit=launch", "-launcher=" + launcher, "-o", target],
                           capture_output=True, text=True)
        files = [os.path.join(d, f) for d, _, fs in os.walk(target) for f in fs] if r.returncode == 0 else []
        if r.returncode != 0 or len(files) < 2 or not os.path.exists(os.path.join(target, "manifest.json")):
            failed += 1
            print("FAIL %s %s: exit %d\n%s" % (spec, launcher, r.returncode, r.stderr))
            continue
        for f in files:
            if f.endswith((".sh", ".sbatch")):
                scripts += 1
                if not os.access(f, os.X_OK):
                    failed += 1
                    print("FAIL %s is not executable" % f)
                b = subprocess.run(["bash", "-n", f], capture_output=True, text=True)
                if b.returncode != 0:
                    failed += 1
                    print("FAIL bash -n %s: %s" % (f, b.stderr))
print("%d specs x %d launchers, %d scripts accepted by bash -n, %d failures"
      % (len(specs), len(launchers), scripts, failed))
sys.exit(1 if failed else 0)
