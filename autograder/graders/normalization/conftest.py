"""The normalization graders' shared helpers; every check itself comes from ``autograder.kit``.

Every grader gets ``norm``, a ``Layers`` bound to the submission, the reference and the
tolerances:

- ``norm.forward(name, *args)`` and ``norm.backward(name, dout, cache)`` call the
  student's function and split its result into its documented parts;
- ``norm.cache(cache, expected, names, hint)`` holds a cache to the documented layout;
- ``norm.gradients(...)`` holds a backward pass to centred differences of the
  reference's forward pass and to the reference's backward pass;
- ``norm.gradients_float32(...)`` and ``norm.backward_leaves_inputs(...)`` check the
  dtype a backward pass returns and that it changes neither dout nor the cache;
  ``norm.forward_leaves_inputs(...)`` that a forward pass changes none of its inputs.

Every grader also gets ``draw(shape, scale=1, offset=0, dtype=np.float64)``: normal
values, scaled and offset (``draw(shape, 5, 12)`` is ``5 * x + 12``, far from 0, where
numerical stability matters), from the test's own ``rng``.

Backward passes always get a cache made here by the *reference* forward pass, in the
layout its docstring documents (plain data: tuples of arrays and numbers), so a bug in
a forward pass costs points there and never again in its backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from autograder.kit import checks, gradients
from autograder.kit.tolerances import Tolerances

GRADS = ("dx", "dgamma", "dbeta")


def fresh(args: Any) -> list:
    """The arguments with every dictionary copied: a forward pass may update its param dict."""
    return [dict(a) if isinstance(a, dict) else a for a in args]


def as64(args: Any) -> list:
    """Fresh arguments with every array in float64 (numerical gradients are taken in float64)."""
    return [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in fresh(args)]


class Layers:
    """Calls into the student's layers, and the comparisons every normalization grader makes."""

    def __init__(self, student: Any, reference: SimpleNamespace, tolerances: Tolerances):
        self.student, self.reference, self.tolerances = student, reference, tolerances

    def forward(self, name: str, *args: Any, return_args: bool = False) -> tuple:
        """(out, cache, result) of the student's forward pass ``name``."""
        result = self.student.call(name, *args, return_args=return_args)
        out, cache = checks.parts(result.value, ("out", "cache"), name)
        return out, cache, result

    def backward(self, name: str, dout: np.ndarray, cache: Any, return_args: bool = False) -> tuple:
        """((dx, dgamma, dbeta), result) of the student's backward pass ``name``."""
        result = self.student.call(name, dout, cache, return_args=return_args)
        return checks.parts(result.value, GRADS, name), result

    def cache(self, value: Any, expected: tuple, names: tuple[str, ...], hint: str) -> None:
        """The cache holds the reference's items, in the documented order."""
        listing = ", ".join(names)
        if not isinstance(value, (tuple, list)):
            raise checks.Mismatch(f"cache should be the tuple ({listing}), but it is {checks.describe_type(value)}.",
                                  hint)  # fmt: skip
        if len(value) != len(names):
            raise checks.Mismatch(f"cache should hold {len(names)} items ({listing}), but it holds {len(value)}.", hint)
        for item, want, name in zip(value, expected, names, strict=True):
            if isinstance(want, np.ndarray):
                checks.close(item, want, f"cache item `{name}`", hint=hint, **self.tolerances.tight)
            elif checks.scalar(item, f"cache item `{name}`", hint) != want:
                raise checks.Mismatch(f"cache item `{name}` should be the {name} the forward pass used.", hint)

    def shapes(self, backward: str, forward: str, inputs: list, dout: np.ndarray, hints: dict) -> None:
        """dx, dgamma and dbeta have the shapes of x, gamma and beta."""
        cache = getattr(self.reference, forward)(*fresh(inputs))[1]
        got, _ = self.backward(backward, dout, cache)
        for name, actual, like in zip(GRADS, got, inputs, strict=False):
            checks.shape(actual, like.shape, name, hint=hints[name])

    def gradients(self, backward: str, forward: str, inputs: list, dout: np.ndarray, hints: dict,
                  only: tuple[str, ...] = GRADS, at: dict | None = None, expected_from: str | None = None,
                  label: str = "") -> None:  # fmt: skip
        """Each gradient in ``only`` against centred differences of the reference ``forward``
        (loss = sum(out * dout)) and against the reference ``expected_from`` (default: the
        same backward pass), with ``gradients.check_backward``. ``inputs`` are the forward
        pass's arguments, x, gamma and beta first; ``at`` maps a gradient's name to the
        coordinates where it is checked."""
        ref_forward = getattr(self.reference, forward)
        cache = ref_forward(*fresh(inputs))[1]
        got, _ = self.backward(backward, dout, cache)
        expected = getattr(self.reference, expected_from or backward)(dout, cache)
        gradients.check_backward(self.tolerances, GRADS, got, expected, lambda *a: ref_forward(*fresh(a))[0], inputs,
                                 dout, hints, only=only, label=label, at=at)  # fmt: skip

    def gradients_float32(self, backward: str, forward: str, inputs: list, dout: np.ndarray, hints: dict) -> None:
        """For a float32 cache and dout, float32 gradients close to the float64 reference's."""
        inputs32 = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in fresh(inputs)]
        cache32 = getattr(self.reference, forward)(*inputs32)[1]
        got, _ = self.backward(backward, dout.astype(np.float32), cache32)
        cache64 = getattr(self.reference, forward)(*as64(inputs))[1]
        expected = getattr(self.reference, backward)(dout.astype(np.float64), cache64)
        for name, actual, want in zip(GRADS, got, expected, strict=True):
            checks.floating(actual, f"{name} for float32 inputs", dtype=np.float32)
            checks.close(actual, want, f"{name} for float32 inputs", hint=hints[name], **self.tolerances.float32)

    def backward_leaves_inputs(self, backward: str, forward: str, inputs: list, dout: np.ndarray,
                               hints: dict) -> None:  # fmt: skip
        """float64 gradients, right, with dout and the cache unchanged."""
        cache = getattr(self.reference, forward)(*fresh(inputs))[1]
        copies = (dout.copy(), tuple(c.copy() if isinstance(c, np.ndarray) else c for c in cache))
        got, result = self.backward(backward, *copies, return_args=True)
        expected = getattr(self.reference, backward)(dout, cache)
        for name, actual, want in zip(GRADS, got, expected, strict=True):
            checks.floating(actual, name, dtype=np.float64)
            checks.close(actual, want, name, hint=hints[name], **self.tolerances.tight)
        checks.unchanged(dout, result.args[0], "dout")
        checks.unchanged(cache, result.args[1], "cache")

    def forward_leaves_inputs(self, name: str, inputs: list, names: tuple[str, ...]) -> None:
        """The forward pass changes none of its inputs (a param dict may gain running averages)."""
        _, _, result = self.forward(name, *fresh([a.copy() if isinstance(a, np.ndarray) else a for a in inputs]),
                                    return_args=True)  # fmt: skip
        for before, after, what in zip(inputs, result.args, names, strict=True):
            if isinstance(before, dict) and isinstance(after, dict):  # it may add running averages
                after = {k: v for k, v in after.items() if k in before}
            checks.unchanged(before, after, what)


@pytest.fixture
def norm(student: Any, reference: SimpleNamespace, tolerances: Tolerances) -> Layers:
    return Layers(student, reference, tolerances)


@pytest.fixture
def draw(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``draw(shape, scale=1, offset=0, dtype=np.float64)``: scale * N(0, 1) + offset, in that dtype
    (scale and offset may be arrays that broadcast against the shape)."""

    def make(shape: Any, scale: Any = 1.0, offset: Any = 0.0, dtype: Any = np.float64) -> np.ndarray:
        return (scale * rng.standard_normal(shape) + offset).astype(dtype)

    return make
