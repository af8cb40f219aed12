"""TensorFlow's quiet, one-thread defaults for the grader's own process, set on import, before Keras loads.

A grading runs beside others on few cores. These are defaults only: an environment that sets
one keeps its value. The grading library's Keras modules import this first (``keras_outputs``),
and the warm grader before it loads TensorFlow (``run/grader_server.py``). The sandbox's worker
gets an environment of its own (``sandbox/launch.py``, and ``[environment]`` in assignment.toml).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# the kernels the Keras assignments' sandboxes use ([limits.env]): the reference computes as they do
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
