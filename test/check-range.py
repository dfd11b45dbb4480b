#!/usr/bin/env python3
"""check-range.py FILE PATH EXPECTED TOLERANCE: the JSON value at PATH (keys and indices joined by '.') must be
within TOLERANCE (a fraction) of EXPECTED. Prints the value and the deviation either way."""
import json
import sys

path, keypath, expected, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
value = json.load(open(path))
for key in keypath.split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
deviation = abs(value - expected) / expected
print("%s = %.6g, expected %.6g: %.2f%% off (tolerance %.1f%%)" % (keypath, value, expected, 100 * deviation,
                                                                   100 * tolerance))
sys.exit(0 if deviation <= tolerance else 1)
