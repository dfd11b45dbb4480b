#!/usr/bin/env python3
"""same-placement.py A.csv B.csv: whether two -emit=placement tables place the same replicas (the multiset of
(layer, expert, rank); replica numbering may differ)."""
import csv
import sys

def table(p):
    return sorted((r["layer"], r["expert"], r["rank"]) for r in csv.DictReader(open(p)))

a, b = table(sys.argv[1]), table(sys.argv[2])
print("same placement" if a == b else "different placements: %d and %d replicas" % (len(a), len(b)))
