"""Hostile keras_resnet submissions: a perfect student plus one attack in a TensorFlow part.

``function`` is where the attack lives (it must score 0 there); ``reason`` is a phrase
the student's feedback for that part must contain (any one of the alternatives).
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent

from tests.cnn_step_by_step.hostile import TOKEN


@dataclass(frozen=True)
class Attack:
    name: str
    function: str
    source: str
    reasons: tuple[str, ...]


def cell(source: str) -> str:
    return dedent(source).strip() + "\n"


ATTACKS: list[Attack] = [
    Attack(
        "huge_tensor",
        "identity_block",
        cell("""
            def identity_block(X, f, filters, training=True, initializer=random_uniform):
                hog = ops.ones((60000, 60000, 4))  # 57 GB of float32, far over the 2 GiB limit
                return hog[: X.shape[0]]
        """),
        ("MemoryError", "ResourceExhausted", "crashed", "bad_alloc", "OOM", "memory"),
    ),
    Attack(
        "endless_loop",
        "convolutional_block",
        cell("""
            def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
                while True:
                    X = ops.add(X, 0.0)
        """),
        ("did not finish within", "ran out of time"),
    ),
    Attack(
        "child_process",
        "BasicBlock",
        cell(f"""
            class BasicBlock(layers.Layer):
                def __init__(self, filter_num, stride=1, **kwargs):
                    super().__init__(**kwargs)
                    import subprocess, sys
                    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{TOKEN}"], start_new_session=True)
                    raise RuntimeError("spawned a child")
        """),
        ("raised RuntimeError",),
    ),
]
