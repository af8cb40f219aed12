"""What TF_ENABLE_ONEDNN_OPTS costs a Keras grading: a failing allocation, and a ResNet50's build and calls.

    .venv/bin/python bench/tf_allocator.py

Each setting runs in a fresh process under the sandbox's 2 GiB address-space limit, with one
TensorFlow thread per pool, as the Keras assignments' workers run ([limits] in their
assignment.toml). Prints seconds per setting and the ratio; docs/bench/test_time.md has figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, resource, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import numpy as np
import keras
from keras import ops
out = {}
t = time.monotonic()
try:
    ops.ones((60000, 60000, 4))  # 57 GB: far over the limit, as the huge_tensor attack asks
except Exception as e:
    out["oom_error"] = type(e).__name__
out["failing_allocation_s"] = time.monotonic() - t
X = np.random.default_rng(0).standard_normal((4, 64, 64, 3)).astype("float32")
t = time.monotonic()
m = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
out["resnet50_build_s"] = time.monotonic() - t
t = time.monotonic()
for training in (False, True, False, True):
    m(X, training=training)
out["resnet50_4_calls_s"] = time.monotonic() - t
print(json.dumps(out))
"""


def measure(onednn: str) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "KERAS_BACKEND": "tensorflow"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    load = os.getloadavg()[0]
    on, off = measure("1"), measure("0")
    print(f"load {load:.2f}; TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow's default) vs 0 (the Keras assignments' sandboxes)")
    for key in ("failing_allocation_s", "resnet50_build_s", "resnet50_4_calls_s"):
        ratio = on[key] / off[key] if off[key] > 0.001 else float("inf")
        print(f"  {key:22} {on[key]:7.2f} s  {off[key]:7.2f} s   ratio {ratio:.1f}")
    print(f"  errors: {on.get('oom_error')} / {off.get('oom_error')}")


if __name__ == "__main__":
    main()
