#!/usr/bin/env python3
"""make-engine-files.py LOADS.csv LAYERS OUTDIR: the loads of LOADS.csv (layer,expert,tokens; decoder-layer indices)
written in each engine's format, as an engine would record them (docs/interop.md):
  sglang-dump.json  SGLang's expert-distribution dump: logical_count [2 steps][LAYERS decoder layers][experts]
  plain.json        [MoE layers][experts]
  trtllm/           TensorRT-LLM's statistics: meta_info.json and rank0/rank1.safetensors, tensors <iter>_<layer>
Every count is split over the steps, iterations and ranks so that the sums are the CSV's exactly."""
import csv
import json
import os
import struct
import sys

path, layers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
loads = {}
for row in csv.DictReader(open(path)):
    loads.setdefault(int(row["layer"]), {})[int(row["expert"])] = int(row["tokens"])
experts = max(max(v) for v in loads.values()) + 1
moe = sorted(loads)
vec = {l: [loads[l][e] for e in range(experts)] for l in moe}
os.makedirs(os.path.join(out, "trtllm"), exist_ok=True)

halves = [[[c // 2 for c in vec[l]] if l in vec else [0] * experts for l in range(layers)],
          [[c - c // 2 for c in vec[l]] if l in vec else [0] * experts for l in range(layers)]]
json.dump({"rank": 0, "logical_count": halves, "average_utilization_rate_over_window": None},
          open(os.path.join(out, "sglang-dump.json"), "w"))
json.dump([vec[l] for l in moe], open(os.path.join(out, "plain.json"), "w"))

json.dump({"num_experts": experts, "num_experts_per_token": 2}, open(os.path.join(out, "trtllm", "meta_info.json"), "w"))
for rank in (0, 1):
    tensors, header, offset = [], {"__metadata__": {"format": "pt"}}, 0
    for it in (0, 1):
        for l in moe:
            # rank r, iteration i: a quarter of each count, the remainder on rank 1, iteration 1.
            part = [c // 4 + (c % 4 if (rank, it) == (1, 1) else 0) for c in vec[l]]
            data = struct.pack("<%dq" % experts, *part)
            header["%d_%d" % (it, l)] = {"dtype": "I64", "shape": [experts], "data_offsets": [offset, offset + len(data)]}
            tensors.append(data)
            offset += len(data)
    text = json.dumps(header).encode()
    with open(os.path.join(out, "trtllm", "rank%d.safetensors" % rank), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(tensors))
