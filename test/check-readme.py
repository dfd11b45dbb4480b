#!/usr/bin/env python3
"""check-readme.py MOEC README: the README's error example is the real output of the spec it shows. Takes the spec
under "## A spec", makes the change the README names (dp = 2 -> 4), runs moec on it as deploy.moe, and compares
with the README's block after "prints:". Prints 'readme example: matches' or the difference."""
import os
import subprocess
import sys
import tempfile

moec, readme = os.path.abspath(sys.argv[1]), sys.argv[2]
text = open(readme).read()
start = text.index("## A spec\n\n```\n") + len("## A spec\n\n```\n")
spec = text[start:text.index("```", start)]
shown_start = text.index("```\n", text.index("prints:")) + 4
shown = text[shown_start:text.index("```", shown_start)]
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "deploy.moe"), "w") as f:
        f.write(spec.replace("ep = 64; dp = 2;", "ep = 64; dp = 4;"))
    r = subprocess.run([moec, "deploy.moe"], cwd=tmp, capture_output=True, text=True)
if r.returncode == 1 and r.stderr == shown:
    print("readme example: matches")
    sys.exit(0)
print("readme example: differs (exit %d)\n--- README\n%s--- moec\n%s" % (r.returncode, shown, r.stderr))
sys.exit(1)
