#!/usr/bin/env python3
"""check-launchers.py MOEC OUTDIR SPEC...: every launcher's files for every spec: moec succeeds, writes the
manifest and at least one more file, `bash -n` accepts every generated shell script, and shellcheck (Debian's
package, installed by `.ci/deps test`) finds nothing in it at any severity; every YAML file parses (python3-yaml)
and a LeaderWorkerSet holds the fields its API requires; and every flag an engine's script passes to the engine is
in that engine's documented flag table (test/Inputs/engine-flags/<engine>.txt), every key of TensorRT-LLM's
options in trtllm-config.txt."""
import os
import re
import subprocess
import sys

import yaml


def check_lws(path):
    """The problems of a LeaderWorkerSet document (leaderworkerset.x-k8s.io/v1), or []."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    problems = []
    if doc.get("apiVersion") != "leaderworkerset.x-k8s.io/v1" or doc.get("kind") != "LeaderWorkerSet":
        problems.append("not a leaderworkerset.x-k8s.io/v1 LeaderWorkerSet")
    name = (doc.get("metadata") or {}).get("name", "")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", str(name)):
        problems.append("metadata.name %r is not a DNS-1123 label" % name)
    template = (doc.get("spec") or {}).get("leaderWorkerTemplate") or {}
    if not isinstance(template.get("size"), int) or template["size"] < 1:
        problems.append("spec.leaderWorkerTemplate.size is not a positive integer")
    containers = ((template.get("workerTemplate") or {}).get("spec") or {}).get("containers") or []
    if not containers or not all(c.get("name") and c.get("image") for c in containers):
        problems.append("workerTemplate.spec.containers needs containers with a name and an image")
    for c in containers:
        for e in c.get("env") or []:
            if not isinstance(e.get("value"), str):
                problems.append("env %s has a value that is not a string" % e.get("name"))
    return problems


moec, outdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
tables = {}
for engine in ("sglang", "vllm", "megatron", "trtllm"):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "engine-flags", engine + ".txt")) as f:
        tables[engine] = {line.strip() for line in f if line.startswith("--")}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "engine-flags", "trtllm-config.txt")) as f:
    trtllm_keys = {line.strip() for line in f if line.strip() and not line.startswith("#")}


def config_keys(doc, prefix=""):
    """The dotted keys of a TensorRT-LLM options document, down to a value that is not a mapping; the load
    balancer's per-layer assignments are one key."""
    keys = set()
    for k, v in doc.items():
        key = prefix + str(k)
        if isinstance(v, dict) and key != "moe_config.load_balancer.initial_global_assignments":
            keys |= config_keys(v, key + ".")
        else:
            keys.add(key)
    return keys


def engine_flags(path):
    """The --flags on the script's exec line (the engine's command) and in the arrays it expands, not those of the
    shell around it."""
    with open(path) as f:
        lines = [l for l in f.read().replace("\\\n", " ").splitlines() if l.startswith("exec ") or "=(--" in l]
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9_-]*)", " ".join(lines)))

launchers = ["torchrun", "slurm", "mpirun", "kubernetes", "sglang", "vllm", "megatron", "llm-d", "aiconfigurator",
             "trtllm"]
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
            if f.endswith((".yaml", ".yml")):
                try:
                    with open(f) as y:
                        yaml.safe_load(y)
                    problems = check_lws(f) if f.endswith("leaderworkerset.yaml") else []
                    if f.endswith(os.path.join("trtllm", "config.yaml")):
                        with open(f) as y:
                            problems += ["%s is not in test/Inputs/engine-flags/trtllm-config.txt" % k
                                         for k in sorted(config_keys(yaml.safe_load(y)) - trtllm_keys)]
                except yaml.YAMLError as e:
                    problems = ["does not parse: %s" % e]
                for p in problems:
                    failed += 1
                    print("FAIL %s: %s" % (f, p))
            if f.endswith(".sh") and launcher in tables:
                for flag in sorted(engine_flags(f) - tables[launcher]):
                    failed += 1
                    print("FAIL %s: %s is not in test/Inputs/engine-flags/%s.txt" % (f, flag, launcher))
            if f.endswith((".sh", ".sbatch")):
                scripts += 1
                if not os.access(f, os.X_OK):
                    failed += 1
                    print("FAIL %s is not executable" % f)
                b = subprocess.run(["bash", "-n", f], capture_output=True, text=True)
                if b.returncode != 0:
                    failed += 1
                    print("FAIL bash -n %s: %s" % (f, b.stderr))
                s = subprocess.run(["shellcheck", "--severity=style", "--shell=bash", f], capture_output=True,
                                   text=True)
                if s.returncode != 0:
                    failed += 1
                    print("FAIL shellcheck %s:\n%s" % (f, s.stdout + s.stderr))
print("%d specs x %d launchers, %d scripts accepted by bash -n and shellcheck, %d failures"
      % (len(specs), len(launchers), scripts, failed))
sys.exit(1 if failed else 0)
