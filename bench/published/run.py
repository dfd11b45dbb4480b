#!/usr/bin/env python3
"""bench/published/run.py [MOEC]: moec's forecast beside every published figure of ../shared/docs/published-figures.md
that a spec can state, with the error per row and the median and worst error. Run by hand, not in CI; its table is
recorded in docs/performance.md. MOEC defaults to build/bin/moec beside this checkout."""
import json
import math
import os
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
moec = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bin", "moec")


def report(spec, deploy):
    out = subprocess.run([moec, os.path.join(here, spec), "-deploy=" + deploy, "-emit=report", "-format=json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("moec failed on %s -deploy=%s:\n%s" % (spec, deploy, out.stderr))
    return json.loads(out.stdout)


def per_gpu(spec, deploy):
    return report(spec, deploy)["time"]["tokensPerSecondPerGpu"]


rows = []  # (group, what, published, forecast, unit)


def row(group, what, published, forecast, unit):
    rows.append((group, what, published, forecast, unit))


# End-to-end: SGLang on H100 (lmsys blog 2025-05-05), tokens per second per GPU (per node / 8).
P, D = "sglang-prefill-ep32.moe", "sglang-decode-ep72.moe"
for deploy, per_node, what in [("SGLangPrefill1k", 57674, "prefill EP32, input 1K"),
                               ("SGLangPrefill2k", 54543, "prefill EP32, input 2K"),
                               ("SGLangPrefill", 50302, "prefill EP32, input 4K"),
                               ("SGLangPrefillPerfect", 59337, "prefill EP32, 4K, perfect EPLB")]:
    row("end to end", what, per_node / 8, per_gpu(P, deploy), "tok/s/GPU")
row("end to end", "decode EP72, 256 seqs/GPU, KV 2000", 22282 / 8, per_gpu(D, "SGLangDecode"), "tok/s/GPU")
# End-to-end: SGLang on GB200 NVL72 (lmsys blog 2025-09-25, commands of sglang#10903), tokens per second per GPU.
G = "sglang-gb200.moe"
for deploy, published, what in [("PrefillFp4", 26156, "GB200 prefill, FP8 attention + NVFP4 MoE, EP4"),
                                 ("DecodeFp4", 13386, "GB200 decode, FP8 attention + NVFP4 MoE, EP48, 1408/GPU"),
                                 ("PrefillFp8", 18471, "GB200 prefill, BF16 attention + FP8 MoE, EP8"),
                                 ("DecodeFp8", 9087, "GB200 decode, BF16 attention + FP8 MoE, EP48, 768/GPU")]:
    row("end to end", what, published, per_gpu(G, deploy), "tok/s/GPU")
# Part I (lmsys blog 2025-06-16) ran the same decode three months earlier, without single-batch overlap:
# DeepSeek-R1 in FP8 with a BF16 KV cache, tp 48 / dp 48 on 12 trays, DeepEP low-latency, 32 redundant experts,
# --cuda-graph-bs 768 and 36,864 running requests (the commands of sglang#7227, as ai-dynamo/dynamo
# docs/backends/sglang/dsr1-wideep-gb200.md repeats them).
row("end to end", "GB200 decode, part I (June), BF16 attention + FP8 MoE, EP48, 768/GPU", 7583,
    per_gpu(G, "DecodeFp8PartI"), "tok/s/GPU")
decode = report(D, "SGLangDecode")
row("end to end", "decode dispatch per layer (one micro-batch)", 170, decode["time"]["moeLayers"][0]["dispatch"] * 1e6,
    "us")
row("ablation", "EPLB speed-up, prefill", 1.49, per_gpu(P, "SGLangPrefill") / per_gpu(P, "SGLangPrefillNoEplb"), "x")
row("ablation", "EPLB speed-up, decode", 2.54, per_gpu(D, "SGLangDecode") / per_gpu(D, "SGLangDecodeNoEplb"), "x")
row("ablation", "TBO gain, decode 256 tokens/GPU", 1.255, per_gpu(D, "SGLangDecode") / per_gpu(D, "SGLangDecodeNoTbo"),
    "x")
row("ablation", "TBO cost, decode 32 tokens/GPU", 0.73, per_gpu(D, "SGLangDecode32") / per_gpu(D, "SGLangDecode32NoTbo"),
    "x")

# Untuned: published deployments that are not in published-figures.md and that no calibration was read from,
# tokens per second per GPU. DeepSeek's profiles route a perfectly balanced load; its production figure is a day's
# average (deepseek-profile.moe). Kimi K2 on H200 with the OME runtime's flags (kimi-k2-h200.moe).
S, K = "deepseek-profile.moe", "kimi-k2-h200.moe"
row("untuned", "DeepSeek profile, prefill EP32, 16K tokens/GPU of 4K, H800", 62713 / 8, per_gpu(S, "ProfilePrefill"),
    "tok/s/GPU")
row("untuned", "DeepSeek profile, decode EP128, 128/GPU at 4K, H800", 18598 / 8, per_gpu(S, "ProfileDecode"),
    "tok/s/GPU")
row("untuned", "DeepSeek production decode EP144 (day average), H800", 14800 / 8, per_gpu(S, "ProductionDecode"),
    "tok/s/GPU")
row("untuned", "Kimi K2 prefill EP32, 2K, no redundant experts, H200", 56000 / 8, per_gpu(K, "Prefill"), "tok/s/GPU")
row("untuned", "Kimi K2 decode EP96, 480/GPU, H200", 24000 / 8, per_gpu(K, "Decode"), "tok/s/GPU")

# Kernels: DeepEP low-latency (docs/legacy.md), the forecast per kernel.
for ep, dispatch, combine in [(8, 77, 114), (16, 118, 195), (32, 155, 273), (64, 173, 314), (128, 192, 369),
                              (256, 194, 360)]:
    layer = report("../../test/Target/calibration-deepep.moe", "EP%d" % ep)["time"]["moeLayers"][0]
    row("DeepEP low-latency", "EP%d dispatch" % ep, dispatch, layer["dispatch"] * 1e6, "us")
    row("DeepEP low-latency", "EP%d combine" % ep, combine, layer["combine"] * 1e6, "us")

# Kernels: DeepEP normal, the bottleneck link's bandwidth as tests/legacy/test_internode.py counts it: inside a node
# the bytes a GPU receives (recv_x, a token once per GPU it has an expert on); across nodes the RDMA bytes,
# num_rdma_token_sent x hidden, a token once per node it reaches, its own included. FP8 dispatch carries its scales.
HIDDEN, TOKENS = 7168, 4096
FP8_TOKEN, BF16_TOKEN = HIDDEN + HIDDEN // 128 * 4, 2 * HIDDEN
for ep, dispatch, combine in [(8, 153, 158), (16, 43, 43), (32, 58, 57), (64, 51, 50)]:
    layer = report("../../test/Target/calibration-deepep-normal.moe", "EP%d" % ep)["time"]["moeLayers"][0]
    nodes = ep // 8
    if nodes == 1:
        counted = 8 * TOKENS * (1 - math.comb(256 - 256 // 8, 8) / math.comb(256, 8))
    else:
        counted = TOKENS * nodes * (1 - math.comb(256 - 256 // nodes, 8) / math.comb(256, 8))
    for name, published, token_bytes in (("dispatch", dispatch, FP8_TOKEN), ("combine", combine, BF16_TOKEN)):
        row("DeepEP normal", "EP%d %s bandwidth" % (ep, name), published, counted * token_bytes / layer[name] / 1e9,
            "GB/s")

# The ISCA 2025 decode bound (the roofline bound, not the forecast).
isca = report("../../test/Target/calibration-isca-decode.moe", "Bound")["time"]["bound"]
row("bound", "ISCA 2025 all-to-all per layer", 120.96, isca["moeLayers"][0]["communication"] * 1e6, "us")
row("bound", "ISCA 2025 time per token", 14.76, isca["stepSeconds"] * 1e3, "ms")

def figure(x):
    """Four significant figures, whole numbers from 1,000 up."""
    return "%.0f" % x if abs(x) >= 1000 else format(x, ".4g")


print("| group | published figure | published | moec | error |")
print("|---|---|---|---|---|")
errors = {}
for group, what, published, forecast, unit in rows:
    error = (forecast - published) / published
    errors.setdefault(group, []).append(abs(error))
    print("| %s | %s | %s %s | %s %s | %+.1f%% |" % (group, what, figure(published), unit, figure(forecast), unit,
                                                     100 * error))
print()
for group, errs in errors.items():
    print("%s: median error %.1f%%, worst %.1f%% over %d rows" % (group, 100 * statistics.median(errs),
                                                                  100 * max(errs), len(errs)))
