# lit configuration for moec's regression tests.
#
# Run through ctest (see test/CMakeLists.txt), which passes the build directory as the `moec_obj_root`
# parameter. Substitutions:
#   %moec     the compiler under test
#   %not      LLVM's `not` binary: lit's built-in `not` treats a crash as an ordinary failure and would let a
#             crashing compiler pass a negative test, so every negative test uses %not
#   %examples the examples/ directory
#   FileCheck, split-file, count from LLVM 19
import os
import sys

import lit.formats

config.name = "moec"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".moe", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "CMakeLists.txt", "expect-exit.py", "check-robust.py", "check-range.py",
                   "check-dot.py", "check-manifest.py", "check-launchers.py", "run-local.py", "swap-experts.py"]
config.test_source_root = os.path.dirname(__file__)

obj_root = lit_config.params.get("moec_obj_root")
if not obj_root:
    lit_config.fatal("run the tests through ctest, or pass --param moec_obj_root=<build dir>")
config.test_exec_root = os.path.join(obj_root, "test")

llvm_bin = lit_config.params.get("llvm_bin", "/usr/lib/llvm-19/bin")
source_root = os.path.dirname(config.test_source_root)

config.substitutions.append(("%moec", os.path.join(obj_root, "bin", "moec")))
config.substitutions.append(("%not", os.path.join(llvm_bin, "not")))
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%exit", sys.executable + " " + os.path.join(config.test_source_root, "expect-exit.py")))
config.substitutions.append(("%examples", os.path.join(source_root, "examples")))
config.environment["PATH"] = os.pathsep.join([llvm_bin, config.environment.get("PATH", "")])
# Diagnostics must not depend on the terminal.
config.environment["TERM"] = "dumb"

# Debian's own Python, with its python3-jsonschema and python3-torch (the Python running lit may be another).
config.substitutions.append(("%syspython", "/usr/bin/python3"))
# The launch tests run the reference worker under Debian's torchrun, with Debian's python3-torch.
config.substitutions.append(("%worker", os.path.join(source_root, "tools", "worker", "moec_worker.py")))
import shutil
import subprocess
if shutil.which("torchrun") and subprocess.call(["/usr/bin/python3", "-c", "import torch.distributed"],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("torch")
if shutil.which("mpirun"):
    config.available_features.add("mpirun")

# The expert-load traces of ../shared/loads (beside the checkout, here and in CI).
loads = os.path.normpath(os.path.join(source_root, "..", "shared", "loads"))
config.substitutions.append(("%loads", loads))
if os.path.exists(os.path.join(loads, "dsv3-256e-top8-g8.lognormal0.6.train.load.csv")):
    config.available_features.add("loads")

# The HTML page's tests load it in headless Chromium (Debian's chromium, installed by `.ci/deps test`). In CI a
# missing Chromium is an error, not a skipped test.
chromium = shutil.which("chromium")
if chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", chromium))
elif os.environ.get("CI"):
    lit_config.fatal("CI=true but chromium is not installed: run .ci/deps test")
