#!/usr/bin/env python3
"""snapshot-outputs.py MOEC OUT.json: every output of every example and test input, for refactoring checks.

Runs MOEC on every .moe file under examples/ and test/ (each deploy of a file with several), with every emit
(ast, ir, report as text and JSON, manifest, placement, the five DOT views, the launch files of every launcher),
and records each run's exit code, standard output, standard error and written files as SHA-256 digests in
OUT.json. Two snapshots, taken before and after a change that must not change behaviour, are compared with
--compare A.json B.json, which prints every run that differs and exits 1 when any does.

    tools/snapshot-outputs.py build/bin/moec /tmp/before.json
    ... change the code, rebuild ...
    tools/snapshot-outputs.py build/bin/moec /tmp/after.json
    tools/snapshot-outputs.py --compare /tmp/before.json /tmp/after.json
"""
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHERS = ["torchrun", "slurm", "mpirun", "kubernetes", "sglang", "vllm", "megatron"]
EMITS = [
    ["-emit=ast"],
    ["-emit=ir"],
    ["-emit=report"],
    ["-emit=report", "-format=json"],
    ["-emit=manifest"],
    ["-emit=placement"],
    ["-emit=dot", "-view=all", "DIR"],
] + [["-emit=launch", "-launcher=" + name, "DIR"] for name in LAUNCHERS]


def digest(data):
    return hashlib.sha256(data).hexdigest()


def inputs():
    for top in ("examples", "test"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith(".moe"):
                    yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def deploys(path):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        names = re.findall(r"^\s*deploy\s+([A-Za-z_][A-Za-z0-9_]*)", f.read(), re.M)
    return names if len(names) > 1 else [None]


def run(moec, path, deploy, emit):
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = os.path.join(tmp, "out")
        args = [moec, path]
        if deploy:
            args.append("-deploy=" + deploy)
        for a in emit:
            args += ["-o", out_dir] if a == "DIR" else [a]
        try:
            p = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=120)
            rc, out, err = p.returncode, p.stdout, p.stderr.replace(tmp.encode(), b"TMP")
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", b"", b""
        files = {}
        if os.path.isdir(out_dir):
            for dirpath, _, names in os.walk(out_dir):
                for name in names:
                    full = os.path.join(dirpath, name)
                    with open(full, "rb") as f:
                        files[os.path.relpath(full, out_dir)] = digest(f.read().replace(tmp.encode(), b"TMP"))
    key = " ".join([path] + (["-deploy=" + deploy] if deploy else []) + [a for a in emit if a != "DIR"])
    return key, {"rc": rc, "stdout": digest(out), "stderr": digest(err), "files": files}


def snapshot(moec, out):
    jobs = [(path, d, e) for path in inputs() for d in deploys(path) for e in EMITS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = dict(pool.map(lambda j: run(os.path.abspath(moec), *j), jobs))
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print(f"{len(results)} runs over {len(set(j[0] for j in jobs))} inputs -> {out}")


def compare(a, b):
    with open(a) as f:
        before = json.load(f)
    with open(b) as f:
        after = json.load(f)
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for k in differ:
        print("differs:", k)
        for field in ("rc", "stdout", "stderr", "files"):
            if (before.get(k) or {}).get(field) != (after.get(k) or {}).get(field):
                print("   ", field)
    print(f"{len(before)} runs before, {len(after)} after, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    snapshot(sys.argv[1], sys.argv[2])
