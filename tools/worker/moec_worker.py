#!/usr/bin/env python3
"""moec's reference worker: proof that a manifest runs.

Started by any launcher moec writes files for (torchrun, SLURM, mpirun, Kubernetes), with MOEC_MANIFEST naming the
manifest. Every rank:
  1. checks its environment (rank, local rank, world size, node) against its entry in the manifest;
  2. creates every process group of the manifest, in the manifest's order;
  3. runs the first MoE layer of the plan at a small size (the plan's experts, top-k and placement; hidden 16,
     expert hidden 32, 8 tokens per rank): gate, top-k, dispatch with all_to_all_single to the ranks that hold
     each chosen expert according to the placement table, the expert FFN with the weights of the expert each rank
     loaded, combine with all_to_all_single back, the weighted sum and the residual.
Rank 0 then compares every rank's output with a single-process computation of the same layer with the same
seeded weights; any difference beyond float tolerance fails the run (exit 1 on every rank).

CPU only, Gloo backend, torch >= 1.13. Usage: MOEC_MANIFEST=manifest.json <launcher> moec_worker.py
"""
import json
import os
import sys

import torch
import torch.distributed as dist

HIDDEN, EXPERT_HIDDEN, TOKENS = 16, 32, 8


def fail(rank, message):
    print("moec-worker: rank %s: %s" % (rank, message), flush=True)
    sys.exit(1)


def launcher_environment():
    """(rank, local rank, world size, node or None) as the launcher set them; moec never sets these."""
    env = os.environ
    if "OMPI_COMM_WORLD_RANK" in env:  # mpirun
        rank, world = int(env["OMPI_COMM_WORLD_RANK"]), int(env["OMPI_COMM_WORLD_SIZE"])
        local = int(env["OMPI_COMM_WORLD_LOCAL_RANK"])
        # Open MPI gives no node index (OMPI_COMM_WORLD_NODE_RANK is a rank within the node): the local rank and
        # the world are checked, and the node follows from them under moec's --map-by ppr:N:node.
        node = None
        env.setdefault("RANK", str(rank))
        env.setdefault("WORLD_SIZE", str(world))
        return rank, local, world, node
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        if key not in env:
            fail("?", "%s is not set: start the worker with a launcher (docs/launchers.md)" % key)
    node = None
    for key in ("GROUP_RANK", "SLURM_NODEID"):  # torchrun's node rank, or SLURM's
        if key in env:
            node = int(env[key])
            break
    return int(env["RANK"]), int(env["LOCAL_RANK"]), int(env["WORLD_SIZE"]), node


def check_environment(plan, rank, local, world, node):
    if world != plan["parallel"]["world"]:
        fail(rank, "the launcher started %d ranks, the manifest plans %d" % (world, plan["parallel"]["world"]))
    entry = plan["ranks"][rank]
    if entry["rank"] != rank:
        fail(rank, "the manifest's rank list is out of order")
    if entry["localRank"] != local:
        fail(rank, "local rank %d, the manifest says %d" % (local, entry["localRank"]))
    if node is not None and entry["node"] != node:
        fail(rank, "on node %d, the manifest puts it on node %d" % (node, entry["node"]))
    print("moec-worker: rank %d: environment matches the manifest (node %d, local rank %d, world %d)"
          % (rank, entry["node"], local, world), flush=True)
    return entry


def weights(experts):
    g = torch.Generator().manual_seed(1234)
    gate = torch.randn(HIDDEN, experts, generator=g) * 0.5
    w1 = torch.randn(experts, HIDDEN, EXPERT_HIDDEN, generator=g) * 0.2
    w2 = torch.randn(experts, EXPERT_HIDDEN, HIDDEN, generator=g) * 0.2
    return gate, w1, w2


def tokens(rank):
    return torch.randn(TOKENS, HIDDEN, generator=torch.Generator().manual_seed(1000 + rank))


def route(x, gate, top_k):
    probs = torch.softmax(x @ gate, dim=-1)
    top_w, top_i = probs.topk(top_k, dim=-1)
    return top_w / top_w.sum(dim=-1, keepdim=True), top_i


def expert_ffn(x, w1, w2):
    return torch.nn.functional.silu(x @ w1) @ w2


def reference(x, gate, w1, w2, top_k):
    """The layer in one process: every expert local."""
    top_w, top_i = route(x, gate, top_k)
    out = x.clone()
    for t in range(x.shape[0]):
        for k in range(top_k):
            e = int(top_i[t, k])
            out[t] += top_w[t, k] * expert_ffn(x[t], w1[e], w2[e])
    return out


def distributed_layer(plan, entry, rank, groups):
    moe = plan["model"]["moe"]
    experts, top_k = moe["experts"], moe["topK"]
    gate, w1, w2 = weights(experts)
    placement = plan["placement"]
    layer = placement["layers"][0]
    slots_per_gpu = placement["slotsPerGpu"]
    ep_group = next(g for g in plan["processGroups"] if g["kind"] == "ep" and rank in g["ranks"])
    ep_ranks = ep_group["ranks"]
    group = groups[("ep", ep_group["index"])]
    # The experts this rank loads, in slot order, for the first MoE layer: its EP position's slots of the table.
    position = entry["coords"]["ep"]
    table = layer["physicalToLogical"][position * slots_per_gpu:(position + 1) * slots_per_gpu]
    held = [e for e in table if e >= 0]

    x = tokens(rank)
    top_w, top_i = route(x, gate, top_k)
    # Dispatch: each (token, choice) goes to one replica of its expert; send the token and its local slot there.
    outgoing = [[] for _ in ep_ranks]
    order = []
    for t in range(TOKENS):
        for k in range(top_k):
            e = int(top_i[t, k])
            replicas = layer["logicalToPhysical"][e]
            slot = replicas[(rank + t) % len(replicas)]
            position = slot // slots_per_gpu
            outgoing[position].append((t, slot % slots_per_gpu))
            order.append((position, len(outgoing[position]) - 1, t, k))
    send_counts = torch.tensor([len(o) for o in outgoing], dtype=torch.int64)
    recv_counts = torch.empty_like(send_counts)
    dist.all_to_all_single(recv_counts, send_counts, group=group)
    send_x = torch.cat([torch.stack([x[t] for t, _ in o]) if o else torch.empty(0, HIDDEN) for o in outgoing])
    send_slot = torch.tensor([s for o in outgoing for _, s in o], dtype=torch.int64)
    recv_total = int(recv_counts.sum())
    recv_x = torch.empty(recv_total, HIDDEN)
    recv_slot = torch.empty(recv_total, dtype=torch.int64)
    splits_out, splits_in = send_counts.tolist(), recv_counts.tolist()
    dist.all_to_all_single(recv_x, send_x, splits_in, splits_out, group=group)
    dist.all_to_all_single(recv_slot, send_slot, splits_in, splits_out, group=group)

    # Experts: the weights of the expert this rank loaded in each slot.
    results = torch.empty_like(recv_x)
    for i in range(recv_total):
        s = int(recv_slot[i])
        if s >= len(held):
            fail(rank, "received a token for local slot %d, but holds only %d experts" % (s, len(held)))
        e = held[s]
        results[i] = expert_ffn(recv_x[i], w1[e], w2[e])

    # Combine: the results travel back the way the tokens came.
    back = torch.empty(send_x.shape[0], HIDDEN)
    dist.all_to_all_single(back, results, splits_out, splits_in, group=group)
    offsets = [0]
    for c in splits_out[:-1]:
        offsets.append(offsets[-1] + c)
    out = x.clone()
    for position, index, t, k in order:
        out[t] += top_w[t, k] * back[offsets[position] + index]
    return x, out, (gate, w1, w2, top_k)


def main():
    path = os.environ.get("MOEC_MANIFEST")
    if len(sys.argv) > 2 and sys.argv[1] == "--manifest":
        path = sys.argv[2]
    if not path:
        fail("?", "MOEC_MANIFEST is not set")
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("manifestVersion") != 2:
        fail("?", "manifest version %r is not 2" % manifest.get("manifestVersion"))
    plan = manifest["plan"]
    rank, local, world, node = launcher_environment()
    entry = check_environment(plan, rank, local, world, node)
    for key, value in plan["environment"]["job"].items():
        os.environ.setdefault(key, value)
    dist.init_process_group("gloo", rank=rank, world_size=world)

    groups = {}
    for g in plan["processGroups"]:  # every rank creates every group, in the manifest's order
        groups[(g["kind"], g["index"])] = dist.new_group(g["ranks"])

    x, out, (gate, w1, w2, top_k) = distributed_layer(plan, entry, rank, groups)
    xs = [torch.empty_like(x) for _ in range(world)]
    outs = [torch.empty_like(out) for _ in range(world)]
    dist.all_gather(xs, x)
    dist.all_gather(outs, out)
    verdict = torch.zeros(1)
    if rank == 0:
        worst = max(float((reference(xs[r], gate, w1, w2, top_k) - outs[r]).abs().max()) for r in range(world))
        matched = worst <= 1e-5
        verdict[0] = 1.0 if matched else 0.0
        print("moec-worker: rank 0: %d process groups created; MoE layer %d %s on all %d ranks (max error %.3g)"
              % (len(groups), plan["placement"]["layers"][0]["layer"],
                 "matched the single-process layer" if matched else "DID NOT MATCH the single-process layer",
                 world, worst), flush=True)
    dist.broadcast(verdict, src=0)
    dist.barrier()
    dist.destroy_process_group()
    sys.exit(0 if verdict[0] == 1.0 else 1)


if __name__ == "__main__":
    main()
