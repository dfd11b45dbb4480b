#!/usr/bin/env python3
"""check-dot.py FILE...: the view conventions every moec DOT file must keep.

Every node names exactly one GPU ("GPU 17 (node 2)"), unless --grouped allows "GPUs [..] (node n)" for views
that group the ranks of big clusters; every node has an edge (no dangling node); every edge joins declared nodes;
rectangles, ellipses, parallelograms and (for a KV cache) cylinders are the only shapes. Prints one summary line per file.
"""
import re
import sys

grouped = "--grouped" in sys.argv
files = [a for a in sys.argv[1:] if not a.startswith("--")]
node_re = re.compile(r'^\s*"([^"]+)" \[label="((?:[^"\\]|\\.)*)", shape=(\w+)\];$')
edge_re = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[(style=dashed)?(?:, )?(?:label="((?:[^"\\]|\\.)*)")?\])?;$')
gpu_re = re.compile(r"GPU \d+ \(node \d+\)")
group_re = re.compile(r"GPUs \[[0-9., ]+\] \(node \d+\)")
failed = False
for path in files:
    nodes, edges, dashed, labelled = {}, [], 0, 0
    for line in open(path):
        m = node_re.match(line)
        if m:
            nodes[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = edge_re.match(line)
        if m:
            edges.append((m.group(1), m.group(2)))
            dashed += bool(m.group(3))
            labelled += bool(m.group(4))
    problems = []
    touched = set()
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                problems.append("edge end %s is not a node" % end)
        touched.update((a, b))
    for name, (label, shape) in nodes.items():
        gpus = len(gpu_re.findall(label))
        if gpus != 1 and not (grouped and group_re.search(label)):
            problems.append("node %s names %d GPUs: %s" % (name, gpus, label))
        if name not in touched:
            problems.append("node %s has no edge" % name)
        if shape not in ("box", "ellipse", "parallelogram", "cylinder"):
            problems.append("node %s has shape %s" % (name, shape))
    print("%s: %d nodes, %d edges (%d dashed, %d labelled), %d problems" % (
        path.split("/")[-1], len(nodes), len(edges), dashed, labelled, len(problems)))
    for p in problems[:10]:
        print("  " + p)
    failed |= bool(problems) or not nodes
sys.exit(1 if failed else 0)
