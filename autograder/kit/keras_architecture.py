"""A student's Keras model's architecture as the grader measures it; its own description only words a difference.

The student's model lives in the sandbox; the grader sees it as a ``RemoteRef``. Whatever
the model says about itself (``student.describe``: its ``layers`` with their class names,
configurations, output shapes and ``count_params()``; ``getattr`` on it) is answered by
objects in the sandbox, which student code controls: a claim, never evidence. Points come
only from what the grader produces and checks itself:

- **Measured architecture** (``measure``, ``check_measured``): the grader reads the
  model's weights, writes values of its own (``same_weights``) and reads them back (they
  must come back as written), calls the model on its own input and keeps the shape of the
  output it receives, then writes other values and calls it again: the outputs must
  change, or the weights it reports are not the ones it computes with. The number and
  shapes of the weights, and the output's shape, are then compared with the reference's
  (``keras_outputs.reference_shapes``), in any order (``compare_shapes``).
- **Descriptions choose the message, never the verdict** (``describe_differences``): when
  a measured check fails and the model's description agrees with what was measured, its
  first difference from the reference's layers is named in words (``structure``,
  ``compare_chain``, ``compare_layers``: names are free, and a batch norm's ``axis`` is
  compared modulo the rank); when it disagrees, the message says that the description
  does not match what the model computes, and names nothing to claim.

Outputs with the same weights, and building models in the sandbox: ``keras_outputs``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from autograder.kit import checks
from autograder.kit.keras_outputs import call_layer, reference_shapes, weight_arrays
from autograder.sandbox.harness.weights import same_weights
from autograder.sandbox.harness.wire import RemoteRef

STRUCTURAL = (
    "InputLayer",
    "ZeroPadding2D",
    "Conv2D",
    "BatchNormalization",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Flatten",
    "Dense",
)


# --- measured architecture -------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """What the grader observed of a model in the sandbox: only data it produced or received."""

    shapes: tuple[tuple[int, ...], ...]  # the weights it wrote and read back, in the model's order
    output_shape: tuple[int, ...]  # of the output it received for its own input
    weights_used: bool  # the output changed when the grader changed every weight

    @property
    def params(self) -> int:
        return sum(int(np.prod(s)) for s in self.shapes)


def measure(student, model: RemoteRef, X: np.ndarray, what: str, **call_kwargs: Any) -> Measured:
    """The model's weights and output shape as the grader measures them (see the module docstring).

    Leaves the model holding a second set of the grader's weights (``same_weights`` with a salt).
    """
    shapes = [tuple(int(n) for n in w.shape) for w in weight_arrays(student, model, what)]
    written = same_weights(shapes)
    student.call_method(model, "set_weights", written)
    back = student.call_method(model, "get_weights").value
    if not (isinstance(back, list) and len(back) == len(written)
            and all(isinstance(b, np.ndarray) and b.shape == w.shape and np.array_equal(b, w)
                    for b, w in zip(back, written, strict=True))):  # fmt: skip
        raise checks.Mismatch(f"{what}: after the grader gave it weights with set_weights(), get_weights() did not "
                              "return them, so what the model says about its weights does not match what it holds.")  # fmt: skip
    first = call_layer(student, model, X, what, **call_kwargs)
    student.call_method(model, "set_weights", same_weights(shapes, salt=1))
    second = call_layer(student, model, X, what, **call_kwargs)
    used = first.shape != second.shape or not np.array_equal(first, second, equal_nan=True)
    return Measured(tuple(shapes), tuple(int(n) for n in first.shape), used)


def shape_text(shape: tuple) -> str:
    """One weight array in words, from its shape alone."""
    if len(shape) == 4:
        kh, kw, cin, cout = shape
        return f"a {kh}×{kw} convolution kernel from {cin} to {cout} channels"
    if len(shape) == 2:
        return f"a dense kernel from {shape[0]} to {shape[1]} units"
    if len(shape) == 1:
        return f"a vector of {shape[0]} (a bias, or a batch norm's gamma, beta, mean or variance)"
    return f"an array of shape {shape}"


def compare_shapes(actual: list[tuple], expected: list[tuple], what: str, hint: str | None = None) -> None:
    """The same weight shapes, in any order; a difference is named in words."""
    compare_unordered(list(actual), list(expected), what, shape_text, hint, thing="weight")


def check_measured(student, model: RemoteRef, got: Measured, expected_shapes: list[tuple],
                   expected_output: tuple, what: str, hint: str | None = None,
                   describe_diff: Callable[[list], None] | None = None) -> None:  # fmt: skip
    """The measured model has the expected weights (any order) and output shape, and computes with its weights.

    On a difference, the model's description only chooses the message (``describe_differences``).
    """
    same = sorted(got.shapes) == sorted(expected_shapes) and got.output_shape == tuple(expected_output)
    if same and got.weights_used:
        return
    describe_differences(student, model, got, what, hint, describe_diff,
                         lambda: _measured_diff(got, expected_shapes, expected_output, what, hint))  # fmt: skip


def architecture_matches(student, model: RemoteRef, ref_model: Any, X: np.ndarray, what: str,
                         hint: str | None = None, *, chain: bool = True,
                         loosen: Callable[[list[tuple]], list[tuple]] | None = None, **call_kwargs: Any) -> Measured:  # fmt: skip
    """The model, as the grader measures it, is built as the reference is: the same weights (number
    and shapes, any order), the same output shape for X, and outputs that follow its weights.

    Its description only words a difference: layer by layer (``chain``) or as a multiset, each
    side's layer keys passed through ``loosen`` first (the freedoms a contract allows).
    """
    got = measure(student, model, X, what, **call_kwargs)
    expected_output = tuple(np.asarray(ref_model(X, **call_kwargs)).shape)
    keep = loosen or (lambda keys: keys)

    def describe_diff(rows: list) -> None:
        compare = compare_chain if chain else compare_layers
        compare(keep(structure(rows, what)), keep(reference_structure(ref_model)), what, hint)

    check_measured(student, model, got, reference_shapes(ref_model), expected_output, what, hint, describe_diff)
    return got


def _measured_diff(got: Measured, expected_shapes: list[tuple], expected_output: tuple, what: str,
                   hint: str | None) -> NoReturn:  # fmt: skip
    if got.output_shape != tuple(expected_output):
        raise checks.Mismatch(f"{what} gives outputs of shape {got.output_shape} for the grader's input; they "
                              f"should have shape {tuple(expected_output)}.", hint)  # fmt: skip
    compare_shapes(list(got.shapes), list(expected_shapes), what, hint)
    raise checks.Mismatch(f"{what} is not built as it should be.", hint)  # (not reached: the shapes differ)


def describe_differences(student, model: RemoteRef, got: Measured, what: str, hint: str | None,
                         describe_diff: Callable[[list], None] | None,
                         measured_diff: Callable[[], NoReturn]) -> NoReturn:  # fmt: skip
    """Raise the Mismatch for a model whose measured check failed; its description picks the words.

    The description (``student.describe``: a claim) is used only if it agrees with what was
    measured: the same number of parameters and the same output shape. Then its first
    difference from the reference's layers is named (``describe_diff``). If it disagrees,
    the message says so and names nothing to claim; without one, the measured difference
    is named (``measured_diff``).
    """
    if not got.weights_used:
        raise checks.Mismatch(f"{what}: its outputs did not change when the grader changed all its weights, so the "
                              "weights it reports are not the ones it computes with: its description of itself does "
                              "not match what it computes.")  # fmt: skip
    try:
        rows = student.describe(model)
    except checks.StudentCodeError:
        rows = None
    rows = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    if rows:
        if not _agrees(rows, got):
            raise checks.Mismatch(
                f"{what}: the model's description of its layers (model.layers, count_params()) does not match what "
                f"it computes: the grader measured {len(got.shapes)} weight arrays holding {got.params:,} parameters, "
                f"and outputs of shape {got.output_shape}."
            )
        if describe_diff is not None:
            try:
                describe_diff(rows)  # raises at the first difference it names
            except checks.Mismatch:
                raise
            except Exception:  # rows the worker's code was made to send in some other shape: no words from them
                pass
    measured_diff()
    raise AssertionError("unreachable")  # pragma: no cover


def _agrees(rows: list[dict], got: Measured) -> bool:
    """Does a model's description agree with what was measured (parameters, output shape)?"""
    try:
        params = sum(int(r.get("params", 0)) for r in rows)
    except (TypeError, ValueError):
        return False
    last = rows[-1].get("output_shape")
    same_output = last is None or (isinstance(last, (list, tuple)) and tuple(last)[1:] == got.output_shape[1:])
    return params == got.params and same_output


@dataclass(frozen=True)
class Skeleton:
    """A reference "skeleton" (a stem, stand-in blocks that return their input, a head), as the
    measured checks of a composite compare the student's with it."""

    rows: list[tuple]  # its layer keys (for the words of a message)
    shapes: list[tuple]  # its weights' shapes, in order
    stem: int  # how many of them are the stem's (up to its max pooling)
    output_shape: tuple  # for the grader's input


def skeleton_of(ref_model: Any, X: np.ndarray, rows: list[tuple]) -> Skeleton:
    """The reference's skeleton, measured as the student's is (``X``: the grader's input)."""
    end = next(i for i, layer in enumerate(ref_model.layers) if type(layer).__name__ == "MaxPooling2D")
    stem = sum(len(layer.weights) for layer in ref_model.layers[: end + 1])
    return Skeleton(rows, reference_shapes(ref_model), stem, tuple(np.asarray(ref_model(X, training=False)).shape))


def part_matches(student, model: RemoteRef, got: Measured, ref: Skeleton, part: str, what: str, hint: str | None,
                 keys: Callable[[list], list[tuple]]) -> None:  # fmt: skip
    """A skeleton's ``part``, as the grader measured it: the stem's weights (the first ones), the
    head's (the last ones) and the output's shape, or ``"all"`` of them in order. The model's
    description (``keys``: its rows as layer keys) only words a difference."""
    if part == "stem":
        mine, want, out_ok = list(got.shapes[: ref.stem]), ref.shapes[: ref.stem], True
    else:
        want = ref.shapes[ref.stem :] if part == "head" else ref.shapes
        mine = list(got.shapes[len(got.shapes) - len(want) :]) if len(got.shapes) >= len(want) else list(got.shapes)
        out_ok = got.output_shape == ref.output_shape
    if mine == list(want) and out_ok and got.weights_used:
        return
    cut = next((i for i, r in enumerate(ref.rows) if r[0] == "MaxPooling2D"), len(ref.rows) - 1) + 1
    ref_stem, ref_head = ref.rows[:cut], ref.rows[cut:]

    def describe_diff(rows: list) -> None:
        mine_keys = keys(rows)
        if part == "stem":
            compare_chain(mine_keys[: len(ref_stem)], ref_stem, what, hint)
        elif part == "head":
            compare_chain(mine_keys[max(0, len(mine_keys) - len(ref_head)) :], ref_head, what, hint)
        else:
            compare_chain(mine_keys, ref.rows, what, hint)

    def measured_diff() -> NoReturn:
        if not out_ok:
            raise checks.Mismatch(f"{what} gives outputs of shape {got.output_shape} for the grader's input; they "
                                  f"should have shape {ref.output_shape}.", hint)  # fmt: skip
        compare_shapes(mine, list(want), what, hint)
        raise checks.Mismatch(f"{what}: its weights are not in the order of its layers.", hint)

    describe_differences(student, model, got, what, hint, describe_diff, measured_diff)


# --- descriptions: they choose a message, never a verdict ------------------------------------


def _name_of(value: Any) -> str:
    text = str(value)
    match = re.search(r"function (\w+)", text)
    return match.group(1) if match else text


def _pair(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_pair(v) for v in value)
    return value


def layer_key(row: dict) -> tuple:
    """What is compared of one described layer (names are free)."""
    config = row.get("config", {})
    shape = tuple(row["output_shape"]) if row.get("output_shape") is not None else None
    cls = row["class"]
    if cls == "BatchNormalization":
        rank = len(shape) if shape else 4
        axis = config.get("axis")
        detail: tuple = (("axis", axis % rank if isinstance(axis, int) else _pair(axis)),)
    elif cls == "Dense":
        detail = (("units", config.get("units")), ("activation", _name_of(config.get("activation"))))
    else:
        detail = tuple(
            (key, _pair(config[key]))
            for key in ("filters", "kernel_size", "strides", "padding", "pool_size")
            if key in config
        )
    return (cls, detail, shape, int(row.get("params", 0)))


def layer_text(key: tuple) -> str:
    cls, detail, shape, params = key
    args = ", ".join(f"{k}={v!r}" for k, v in detail)
    text = f"{cls}({args})"
    if shape is not None:
        text += f" with output shape {shape}"
    return text + f" and {params:,} parameters"


def structure(rows: Any, what: str) -> list[tuple]:
    if not isinstance(rows, list):
        raise checks.Mismatch(f"{what} is not a Keras model with layers.")
    return [layer_key(r) for r in rows if isinstance(r, dict) and r.get("class") in STRUCTURAL]


def describe_reference(layer: Any) -> dict:
    """A reference layer, described with the same keys as the sandbox's ``describe``."""
    config = {}
    for key in ("filters", "kernel_size", "strides", "padding", "pool_size", "units", "activation", "axis"):
        value = getattr(layer, key, None)
        if value is not None:
            config[key] = value if isinstance(value, (int, str, tuple, list)) else str(value)
    return {"class": type(layer).__name__, "output_shape": tuple(layer.output.shape), "params": layer.count_params(),
            "config": config}  # fmt: skip


def reference_structure(model: Any) -> list[tuple]:
    return structure([describe_reference(layer) for layer in model.layers], "the reference")


def compare_chain(actual: list[tuple], expected: list[tuple], what: str, hint: str | None = None) -> None:
    """Layers in order; the first difference is described."""
    for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
        if a != e:
            raise checks.Mismatch(
                f"{what}: layer {i + 1} should be {layer_text(e)}, but yours is {layer_text(a)}.", hint
            )
    if len(actual) < len(expected):
        raise checks.Mismatch(f"{what}: after your last layer, {layer_text(expected[len(actual)])} is missing.", hint)
    if len(actual) > len(expected):
        raise checks.Mismatch(f"{what} has an unexpected extra layer: {layer_text(actual[len(expected)])}.", hint)


def compare_unordered(actual: list, expected: list, what: str, text: Callable[[Any], str], hint: str | None,
                      thing: str = "layer") -> None:  # fmt: skip
    """The same items in any order; a mismatch is named with ``text`` (``thing``: what an item is)."""
    missing = list((Counter(expected) - Counter(actual)).elements())
    extra = list((Counter(actual) - Counter(expected)).elements())
    if missing:
        more = f" Yours has {text(extra[0])} instead." if extra else ""
        raise checks.Mismatch(f"{what} should have {text(missing[0])}, and yours has none.{more}", hint)
    if extra:
        raise checks.Mismatch(f"{what} has an unexpected {thing}: {text(extra[0])}.", hint)


def compare_layers(actual: list[tuple], expected: list[tuple], what: str, hint: str | None = None) -> None:
    """The same layers in any order (blocks have two branches)."""
    compare_unordered(actual, expected, what, layer_text, hint)
