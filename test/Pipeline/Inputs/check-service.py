#!/usr/bin/env python3
"""check-service.py REPORT.json: recompute a service's sizing from its pools' forecasts with the formulas of
docs/serving.md, independently of moec's code, and print whether each figure matches moec's."""
import json
import math
import sys

j = json.load(open(sys.argv[1]))["service"]
lam, lin, lout, rho_max = j["requestsPerSecond"], j["inputLength"], j["outputLength"], j["maxUtilization"]
prefill_tokens = max(1.0, lin * (1 - j["prefixCacheHit"]))
pools = {p["role"]: p for p in j["pools"]}


def same(a, b):
    return "match" if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else "MISMATCH (%r, moec %r)" % (a, b)


def show(role, instances, rho, wait):
    p = pools[role]
    print("%s: instances %s, utilisation %s, wait %s" % (role, same(instances, p["instances"]),
                                                         same(rho, p["utilization"]), same(wait, p["queueWaitSeconds"])))


def md1(mu, rho):
    return rho / (2 * mu * (1 - rho))


if "aggregated" in pools:
    a = pools["aggregated"]
    t = prefill_tokens / a["prefillTokensPerSecond"] + lout / a["tokensPerSecondPerInstance"]
    mu, share = 1 / t, prefill_tokens / a["prefillTokensPerSecond"] / t
    c = math.ceil(lam / (mu * rho_max) - 1e-9)
    rho = lam / (c * mu)
    show("aggregated", c, rho, md1(mu, rho))
    print("ttft %s, tpot %s" % (same(md1(mu, rho) + a["prefillSeconds"], j["ttftSeconds"]),
                                same(a["tpotSeconds"] / (1 - rho * share), j["tpotSeconds"])))
    sys.exit(0)

p, d = pools["prefill"], pools["decode"]
mu_p = p["tokensPerSecondPerInstance"] / prefill_tokens
c_p = math.ceil(lam / (mu_p * rho_max) - 1e-9)
rho_p = lam / (c_p * mu_p)
show("prefill", c_p, rho_p, md1(mu_p, rho_p))
hold = lout * d["tpotSeconds"]
mu_d = d["slotsPerInstance"] / hold
c_d = math.ceil(lam / (mu_d * rho_max) - 1e-9)
rho_d = lam / (c_d * mu_d)
# Erlang C for c_d x slots servers offered lam x hold Erlangs.
k, a = c_d * d["slotsPerInstance"], lam * hold
b = 1.0
for n in range(1, k + 1):
    b = a * b / (n + a * b)
wait_d = b / (1 - a / k * (1 - b)) * hold / (k - a)
wait_d = 0 if wait_d < 1e-9 else wait_d
show("decode", c_d, rho_d, wait_d)
kv = j["kvTransfer"]
ttft = md1(mu_p, rho_p) + p["batchTtftSeconds"] + kv["seconds"] + wait_d
print("ttft %s, tpot %s, kv %d B" % (same(ttft, j["ttftSeconds"]), same(d["tpotSeconds"], j["tpotSeconds"]),
                                     kv["bytesPerRequest"]))
