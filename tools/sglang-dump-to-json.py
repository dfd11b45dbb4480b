#!/usr/bin/env python3
"""sglang-dump-to-json.py DUMP.pt OUT.json: SGLang's expert-distribution recorder dump (`stat` mode,
expert_distribution_recorder_{time}.pt: dict(rank, logical_count, average_utilization_rate_over_window)) as the
JSON moec's expert_load reads (docs/interop.md). Needs torch (Debian's python3-torch); moec itself reads no .pt."""
import json
import sys

import torch

dump = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
if not isinstance(dump, dict) or "logical_count" not in dump:
    sys.exit("%s: not an SGLang stat-mode dump (a dict with 'logical_count')" % sys.argv[1])
count = dump["logical_count"]
if count.dim() not in (2, 3):
    sys.exit("%s: logical_count has %d dimensions; [steps][layers][experts] or [layers][experts] expected"
             % (sys.argv[1], count.dim()))
with open(sys.argv[2], "w") as f:
    json.dump({"logical_count": count.to(torch.int64).tolist()}, f)
    f.write("\n")
