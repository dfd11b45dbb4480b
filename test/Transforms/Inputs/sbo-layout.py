"""Prints where the trace puts the MoE layer's down GEMM, combine, shared expert and the add that reads both."""
import json
import sys

events = [e for e in json.load(open(sys.argv[1]))["traceEvents"]
          if e.get("ph") == "X" and e["pid"] == 0 and e.get("args", {}).get("layer") == 1]
op = {e["name"]: e for e in events}
down, combine, shared, add = op["expert_down_proj"], op["combine"], op["shared_gate_proj"], op["shared_add"]


def at(a, b):
    return abs(a - b) < 1e-3


print("combine starts " + ("with the down GEMM" if at(combine["ts"], down["ts"]) else
                           "at the down GEMM's end" if at(combine["ts"], down["ts"] + down["dur"]) else
                           "at %.3f" % combine["ts"]))
print("down GEMM %.2f us, shared_gate_proj %.2f us" % (down["dur"], shared["dur"]))
print("shared_gate_proj starts " + ("with the combine" if at(shared["ts"], combine["ts"]) else
                                    "at the down GEMM's end" if at(shared["ts"], down["ts"] + down["dur"]) else
                                    "at %.3f" % shared["ts"]))
print("shared_add starts " + ("at the combine's end" if at(add["ts"], combine["ts"] + combine["dur"]) else
                              "at %.3f" % add["ts"]))
