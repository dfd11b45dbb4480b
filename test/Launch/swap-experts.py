#!/usr/bin/env python3
"""swap-experts.py MANIFEST: break the placement table the workers load: ranks 0 and 1 swap their first expert of
the first MoE layer, while routing still sends each expert's tokens where the placement says."""
import json
import sys

path = sys.argv[1]
manifest = json.load(open(path))
ranks = manifest["plan"]["ranks"]
a, b = ranks[0]["experts"][0], ranks[1]["experts"][0]
a[0], b[0] = b[0], a[0]
json.dump(manifest, open(path, "w"), indent=1)
print("swapped expert %d (rank 0) and expert %d (rank 1)" % (b[0], a[0]))
