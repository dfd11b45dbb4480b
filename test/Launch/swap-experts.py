#!/usr/bin/env python3
"""swap-experts.py MANIFEST: break the placement table the workers load: the GPUs of EP positions 0 and 1 (ranks 0
and 1) swap their first expert of the first MoE layer in physicalToLogical, what each loads, while routing
(logicalToPhysical) still sends each expert's tokens where the placement says."""
import json
import sys

path = sys.argv[1]
manifest = json.load(open(path))
plan = manifest["plan"]
table = plan["placement"]["layers"][0]["physicalToLogical"]
slots = plan["placement"]["slotsPerGpu"]
a, b = plan["ranks"][0]["coords"]["ep"] * slots, plan["ranks"][1]["coords"]["ep"] * slots
table[a], table[b] = table[b], table[a]
json.dump(manifest, open(path, "w"), indent=1)
print("swapped expert %d (rank 0) and expert %d (rank 1)" % (table[b], table[a]))
