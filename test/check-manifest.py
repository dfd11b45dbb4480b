#!/usr/bin/env python3
"""check-manifest.py SCHEMA MANIFEST...: validate manifests against moec's JSON Schema (draft-07) with Debian's
python3-jsonschema, and check what the schema cannot: every rank listed once and in order, groups of one kind
partition the world, and every expert placed in every MoE layer. Prints a summary line per manifest."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
failed = False
def check_plan(plan):
    """The problems the schema cannot see in one plan, and its summary."""
    world = plan["parallel"]["world"]
    problems = []
    if [r["rank"] for r in plan["ranks"]] != list(range(world)):
        problems.append("ranks are not 0..world-1 in order")
    kinds = {}
    for g in plan["processGroups"]:
        kinds.setdefault(g["kind"], []).extend(g["ranks"])
    for kind, ranks in kinds.items():
        if sorted(ranks) != list(range(world)):
            problems.append("the %s groups do not partition the world" % kind)
    experts = plan["model"]["moe"]["experts"]
    for layer in plan["placement"]["layers"]:
        placed = sorted(set(e for e in layer["physicalToLogical"] if e >= 0))
        if placed != list(range(experts)):
            problems.append("layer %d does not place every expert" % layer["layer"])
    ep = [g for g in plan["processGroups"] if g["kind"] == "ep"]
    # A rank's experts: the filled slots of its EP position in the layer's table.
    slots = plan["placement"]["slotsPerGpu"]
    first = plan["placement"]["layers"][0]["physicalToLogical"] if plan["placement"]["layers"] else None
    per_rank = sorted(set(len([e for e in first[r["coords"]["ep"] * slots:(r["coords"]["ep"] + 1) * slots] if e >= 0])
                          for r in plan["ranks"])) if first else []
    summary = "%d ranks, %d EP groups of %s, experts per rank in the first MoE layer %s, %d MoE layers" % (
        len(plan["ranks"]), len(ep), sorted(set(len(g["ranks"]) for g in ep)), per_rank, len(plan["placement"]["layers"]))
    return problems, summary


for path in sys.argv[2:]:
    manifest = json.load(open(path))
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    problems = ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:5]]
    if "roles" in manifest:
        # A service: each pool's plan, and its instances on disjoint runs of the service's nodes.
        summaries, used = [], []
        for role in manifest["roles"]:
            role_problems, summary = check_plan(role["plan"])
            problems += ["%s: %s" % (role["role"], p) for p in role_problems]
            summaries.append("%s %d x (%s)" % (role["role"], role["instances"], summary))
            if len(role["instanceNodes"]) != role["instances"]:
                problems.append("%s: %d instances but %d instanceNodes" % (role["role"], role["instances"],
                                                                       len(role["instanceNodes"])))
            used += [(n, n + role["nodesPerInstance"]) for n in role["instanceNodes"]]
        used.sort()
        if any(a[1] > b[0] for a, b in zip(used, used[1:])):
            problems.append("instances share nodes")
        if used and used[-1][1] != manifest["service"]["nodes"]:
            problems.append("the instances do not end at the service's %d nodes" % manifest["service"]["nodes"])
        summary = "; ".join(summaries)
    else:
        plan_problems, summary = check_plan(manifest["plan"])
        problems += plan_problems
    print("%s: %s; %s" % (path.split("/")[-1], "valid" if not problems else "INVALID", summary))
    for p in problems:
        print("  " + p)
    failed |= bool(problems)
sys.exit(1 if failed else 0)
