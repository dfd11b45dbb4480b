#!/usr/bin/env python3
"""tools/docs-screenshots.py [MOEC]: regenerate the pictures docs/views.md shows, with moec and headless Chromium
(Debian's chromium):
  docs/views/seed-html.png   the top of `moec examples/seed.moe -emit=html`
  docs/views/seed-trace.png  the first MoE layers of `moec examples/seed.moe -emit=trace`, drawn as a timeline (one
                             row per GPU and thread, as Perfetto shows it) by this script, then screenshot
Run from anywhere; MOEC defaults to build/bin/moec of this checkout."""
import html
import json
import os
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
moec = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bin", "moec")
seed = os.path.join(root, "examples", "seed.moe")
out = os.path.join(root, "docs", "views")
tmp = tempfile.mkdtemp()


def shoot(page, png, size):
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + tmp + "/profile",
                    "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--screenshot=" + png,
                    "--window-size=" + size, "file://" + page], check=True, capture_output=True)


page = os.path.join(tmp, "seed.html")
subprocess.run([moec, seed, "-emit=html", "-o", page], check=True, capture_output=True)
shoot(page, os.path.join(out, "seed-html.png"), "1200,1500")

trace = json.loads(subprocess.run([moec, seed, "-emit=trace", "-gpu=0"], check=True, capture_output=True,
                                  text=True).stdout)
events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
# The embedding and the first four layers.
layers = [e for e in events if e["tid"] == 1]
end = layers[min(4, len(layers) - 1)]["ts"] + layers[min(4, len(layers) - 1)]["dur"]
shown = [e for e in events if e["ts"] < end]
width, left, row = 1100.0, 250.0, 34
colors = {"compute": "#4e79a7", "communication": "#f28e2b", "step": "#bab0ac"}
svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
       % (width + left + 20, row * (len(names) + 2))]
svg.append('<text x="10" y="20" font-weight="bold">GPU 0 of examples/seed.moe: the embedding and the first layers '
           '(%.1f ms), from moec -emit=trace</text>' % (end / 1e3))
for i, tid in enumerate(sorted(names)):
    y = row * (i + 1) + 10
    svg.append('<text x="10" y="%d">%s</text>' % (y + 18, html.escape(names[tid])))
    for e in shown:
        if e["tid"] != tid:
            continue
        x, w = left + e["ts"] / end * width, max(0.5, e["dur"] / end * width)
        svg.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="white" stroke-width="0.5"/>'
                   % (x, y, w, row - 8, colors.get(e["cat"], "#59a14f")))
        if w > 60:
            svg.append('<text x="%.1f" y="%d" fill="white">%s</text>' % (x + 3, y + 17, html.escape(e["name"][:int(w // 7)])))
svg.append("</svg>")
timeline = os.path.join(tmp, "trace.html")
with open(timeline, "w") as f:
    f.write("<!DOCTYPE html><html><body style='margin:0'>" + "".join(svg) + "</body></html>")
shoot(timeline, os.path.join(out, "seed-trace.png"), "%d,%d" % (width + left + 20, row * (len(names) + 2)))
print("wrote docs/views/seed-html.png and docs/views/seed-trace.png")
