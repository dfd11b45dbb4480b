#!/usr/bin/env python3
"""bench/search.py [MOEC]: times moec's strategy search over DeepSeek-V3's whole space (every pp x dp x ep x tp
that covers the cluster, redundant experts 0 or 32, every placement policy the strategy allows, decode micro-batch
128 or 256) on 4 to 40 nodes of 8 H800, on one thread and on two, and prints candidates per second. Run by hand;
the table is in docs/performance.md."""
import json
import os
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
moec = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bin", "moec")
model = os.path.join(root, "bench", "published", "deepseek-v3.moe")

print("| nodes | GPUs | candidates | feasible | seconds, 1 thread | seconds, 2 threads | candidates/s, 2 threads |")
print("|---|---|---|---|---|---|---|")
for nodes in (4, 8, 16, 32, 40):
    spec = f'''import "gpus.moe";
import "{model}";
cluster C {{ nodes = {nodes}; gpus_per_node = 8; gpu = H800_SXM_80G; }}
strategy Auto {{ dispatch_precision = fp8; search {{ redundant_experts = [0, 32]; micro_batch = [128, 256]; }} }}
workload Decode {{ phase = decode; micro_batch = 128; context = 4096; overlap = two_micro_batch; }}
deploy D {{ model = DeepSeekV3; cluster = C; strategy = Auto; workload = Decode; }}
'''
    with tempfile.NamedTemporaryFile("w", suffix=".moe", delete=False) as f:
        f.write(spec)
    best, outputs = {}, {}
    for threads in (1, 2):
        for _ in range(3):
            start = time.perf_counter()
            out = subprocess.run([moec, f.name, "-emit=search", "-format=json", "-j=%d" % threads],
                                 capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            best[threads] = min(best.get(threads, elapsed), elapsed)
        outputs[threads] = out
    os.unlink(f.name)
    out = outputs[2]
    if out.returncode != 0:
        print(f"| {nodes} | {nodes * 8} | search failed: {out.stderr.strip().splitlines()[0]} | | | | |")
        continue
    if outputs[1].stdout != out.stdout:
        sys.exit(f"{nodes} nodes: the search differs between one thread and two")
    j = json.loads(out.stdout)
    print(f"| {nodes} | {nodes * 8} | {j['candidates']} | {j['feasible']} | {best[1]:.2f} | {best[2]:.2f} | "
          f"{j['candidates'] / best[2]:.0f} |")
