"""The grader's weights for a Keras model: values that depend only on each array's shape.

Shared by both sides of the sandbox boundary (standard library and NumPy only): the grader
computes the reference's outputs with them, and the worker makes the same values for a
student's whole model (``op_fill_weights``) instead of receiving hundreds of megabytes of
them. Making them in the sandbox gives a student nothing: the grader compares the outputs
with the reference's, computed in its own process from these same values, and only a model
that computes the reference's function with them gives those outputs.
"""

from __future__ import annotations

import zlib

import numpy as np


def same_weights(shapes: list[tuple], salt: int = 0) -> list[np.ndarray]:
    """Weights that depend only on each array's shape (and ``salt``, for a second, different set).

    1-d arrays (biases, batch norm's gamma, beta, moving mean and variance) are in
    [0.5, 1.5], so every variance is positive; kernels are N(0, 1 / fan_in). Arrays of
    the same shape are one array, made once (a ResNet repeats its shapes many times).
    """
    made: dict[tuple, np.ndarray] = {}
    out = []
    for shape in shapes:
        shape = tuple(int(n) for n in shape)
        if shape not in made:
            rng = np.random.default_rng(zlib.crc32((repr(shape) + ("" if not salt else f"/{salt}")).encode()))
            if len(shape) <= 1:
                made[shape] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
            else:
                fan_in = int(np.prod(shape[:-1]))
                made[shape] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        out.append(made[shape])
    return out
