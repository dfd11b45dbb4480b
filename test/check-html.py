#!/usr/bin/env python3
"""check-html.py CHROMIUM HTML OUTDIR SECTION...: load a -emit=html page in headless Chromium with the network
disabled and check what a reader would see: the page itself names no external resource (no src or href that is
not a fragment or data: URL); Chromium's --dump-dom of it holds every SECTION id and at least one rendered chart
(an svg of class chart) per chart section; its screenshot is not blank (more than a handful of distinct byte values
once the PNG is inflated); and its console shows no error and no network request. Prints a summary line."""
import os
import re
import struct
import subprocess
import sys
import zlib

chromium, page, out, sections = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
os.makedirs(out, exist_ok=True)
problems = []
html = open(page, encoding="utf-8").read()
for attr, url in re.findall(r'\b(src|href)="([^"]*)"', html):
    if not (url.startswith("#") or url.startswith("data:")):
        problems.append("the page names an external resource: %s=%r" % (attr, url))
flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + os.path.join(out, "profile"),
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0",
         "--no-first-run", "--disable-background-networking", "--disable-component-update"]
url = "file://" + os.path.abspath(page)
dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=300)
if dom.returncode != 0:
    problems.append("chromium --dump-dom exited %d" % dom.returncode)
for s in sections:
    if ('<section id="%s"' % s) not in dom.stdout:
        problems.append("section %r is not in the rendered page" % s)
charts = len(re.findall(r'<svg class="chart"', dom.stdout))
views = len(re.findall(r'<div class="view"[^>]*><svg', dom.stdout))
console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "net::ERR" in l or "Refused to" in l]
problems += ["console: " + l for l in console[:5]]
shot = os.path.join(out, "page.png")
r = subprocess.run(flags + ["--screenshot=" + shot, "--window-size=1200,1600", url], capture_output=True, text=True,
                   timeout=300)
distinct = 0
if r.returncode != 0 or not os.path.exists(shot):
    problems.append("chromium --screenshot failed (%d)" % r.returncode)
else:
    data = open(shot, "rb").read()
    idat, i = b"", 8
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    distinct = len(set(zlib.decompress(idat)))
    if distinct < 16:
        problems.append("the screenshot is blank (%d distinct bytes)" % distinct)
print("%s: %d sections, %d charts and %d views rendered, screenshot %s, %s" % (
    os.path.basename(page), len(sections), charts, views, "not blank" if distinct >= 16 else "blank",
    "no external resource, no console error" if not problems else "PROBLEMS"))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
