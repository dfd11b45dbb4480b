"""same-ir.py MOEC SPEC A B: whether deploys A and B of SPEC compile to the same IR, source locations and the
header aside."""
import re
import subprocess
import sys

moec, spec, a, b = sys.argv[1:5]


def ir(deploy):
    out = subprocess.run([moec, spec, "-deploy=" + deploy, "-emit=ir"], capture_output=True, text=True, check=True)
    lines = [re.sub(r' loc\([^)]*\)', '', l) for l in out.stdout.splitlines()]
    return [l for l in lines if not l.startswith("plan ") and not l.lstrip().startswith("deploy:")]


x, y = ir(a), ir(b)
print("same plan" if x == y else "different: " + next(
    ("%r / %r" % (p, q) for p, q in zip(x, y) if p != q), "lengths %d / %d" % (len(x), len(y))))
