#!/usr/bin/env python3
"""check-trace.py TRACE.json REPORT.json: the structure of a -emit=trace file (Chrome Trace Event format): valid
JSON with traceEvents; every complete event with ph, ts, dur, pid and tid; no two complete events of one thread
overlapping; every flow's start and finish paired; and per GPU the step thread's events adding up to the
report's step time (time.stepSeconds) within rounding. Prints a summary line."""
import json
import sys
from collections import defaultdict

trace = json.load(open(sys.argv[1]))
step = json.load(open(sys.argv[2]))["time"]["stepSeconds"]
events = trace["traceEvents"]
problems = []
complete = [e for e in events if e.get("ph") == "X"]
for e in complete:
    for key in ("name", "ts", "dur", "pid", "tid"):
        if key not in e:
            problems.append("an event lacks %s: %r" % (key, e))
            break
threads = defaultdict(list)
for e in complete:
    threads[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
for key, spans in threads.items():
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b[0] < a[1] - 1e-3:  # microseconds, printed to 3 decimals
            problems.append("GPU %d thread %d: %s [%g, %g] overlaps %s from %g" % (key + (a[2], a[0], a[1], b[2], b[0])))
            break
flows = defaultdict(set)
for e in events:
    if e.get("ph") in ("s", "f"):
        flows[e["id"]].add(e["ph"])
unpaired = [i for i, phs in flows.items() if phs != {"s", "f"}]
if unpaired:
    problems.append("%d flows unpaired" % len(unpaired))
gpus = sorted({e["pid"] for e in complete})
for pid in gpus:
    total = sum(e["dur"] for e in complete if e["pid"] == pid and e["tid"] == 1) / 1e6
    if abs(total - step) > 1e-6 * step:
        problems.append("GPU %d: the step thread adds up to %.9g s, the report's step is %.9g s" % (pid, total, step))
names = {e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
print("%s: %d events on %d GPUs, %d threads named, %d flows, %s" % (
    sys.argv[1].split("/")[-1], len(complete), len(gpus), len(names), len(flows),
    "the step adds up, no overlaps" if not problems else "PROBLEMS"))
for p in problems[:10]:
    print("  " + p)
sys.exit(1 if problems else 0)
