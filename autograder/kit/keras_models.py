"""Comparing a student's Keras model with the reference's, across the sandbox boundary.

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
  (``reference_shapes``), in any order (``compare_shapes``).
- **Outputs with the same weights** (``same_weights_outputs``, ``block_matches_reference``,
  ``whole_model_matches``): both models get weights that depend only on each array's
  shape, so the order in which a student creates layers doesn't matter, then must give
  the same outputs, in inference mode and in training mode (batch norm with the batch's
  statistics: ``training=`` is passed through). A model that refuses the weights, or
  holds other shapes, is named by the count the grader read back.
- **Descriptions choose the message, never the verdict** (``describe_differences``): when
  a measured check fails and the model's description agrees with what was measured, its
  first difference from the reference's layers is named in words (``structure``,
  ``compare_chain``, ``compare_layers``: names are free, and a batch norm's ``axis`` is
  compared modulo the rank); when it disagrees, the message says that the description
  does not match what the model computes, and names nothing to claim.

Importing this module sets TensorFlow's quiet, one-thread defaults for the grader's
own process (before Keras is imported: a grading runs beside others on few cores).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import re  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, NoReturn  # noqa: E402

import numpy as np  # noqa: E402

from autograder.kit import checks  # noqa: E402
from autograder.sandbox.harness.weights import same_weights  # noqa: E402
from autograder.sandbox.harness.wire import RemoteRef  # noqa: E402

# Seconds for one call that builds a whole model: a few seconds alone, more under load.
BUILD_TIMEOUT = 60

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


# --- same weights ------------------------------------------------------------------------


def weight_arrays(student, model: RemoteRef, what: str) -> list[np.ndarray]:
    """The model's ``get_weights()``, as the grader received them: a list of float arrays."""
    current = student.call_method(model, "get_weights").value
    if not isinstance(current, list) or not all(isinstance(w, np.ndarray) and w.dtype.kind == "f" for w in current):
        raise checks.Mismatch(f"{what}: get_weights() did not return a list of floating-point arrays.")
    return current


def give_same_weights(student, model: RemoteRef) -> None:
    """Load ``same_weights`` into a model living in the sandbox."""
    shapes = [w.shape for w in weight_arrays(student, model, "Your model")]
    student.call_method(model, "set_weights", same_weights(shapes))


def give_reference_same_weights(model: Any) -> None:
    model.set_weights(same_weights(reference_shapes(model)))


def same_weights_outputs(student, model: RemoteRef, ref_model: Any, X: np.ndarray, what: str,
                         **call_kwargs: Any) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(the student's output, the reference's output) for ``X``, both models holding ``same_weights``.

    The outputs check for a block or a small model, built by the grader in the sandbox
    (``block_model``, or the student's own function) and in its own process
    (``reference_block_model``): both get the grader's weights, which depend only on each
    array's shape (so the order in which the student creates layers doesn't matter), and
    are called on ``X`` with ``call_kwargs`` (``training=True``: batch norm on the batch's
    statistics). The grader then compares the two, e.g. ``checks.close(actual, expected,
    what, hint, **tolerances.float32)``: only a model that computes the reference's
    function with those weights gives the reference's output, so a failure there tells
    the student that a layer, an activation or the order of the layers differs.

    ``what`` names the student's output in messages. Before any comparison, a model whose
    ``get_weights()`` is not a list of float arrays, one that refuses the weights (the
    error Keras raises, explained), or an output that is not a floating-point array is a
    ``checks.Mismatch`` or ``checks.StudentCodeError`` saying so.
    """
    give_same_weights(student, model)
    give_reference_same_weights(ref_model)
    actual = call_layer(student, model, X, what, **call_kwargs)
    return actual, np.asarray(ref_model(X, **call_kwargs))


def reference_shapes(model: Any) -> list[tuple]:
    """The shapes of a reference model's weights, in ``get_weights()`` order (without copying them)."""
    return [tuple(int(n) for n in w.shape) for w in model.weights]


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


# --- building in the sandbox ---------------------------------------------------------------


def is_tensor_ref(value: Any) -> bool:
    return isinstance(value, RemoteRef) and value.type.endswith("KerasTensor")


def is_model_ref(value: Any) -> bool:
    return isinstance(value, RemoteRef) and not value.type.endswith("KerasTensor")


def block_model(student, name: str, input_shape: tuple, twice: bool = False, **kwargs: Any) -> RemoteRef:
    """keras.Model(X, name(X, **kwargs)) built in the sandbox from a symbolic Input
    (with ``twice``, the block is applied twice in a row)."""
    X = student.call("Input", shape=tuple(input_shape)).value
    Y = X
    for _ in range(2 if twice else 1):
        Y = student.call(name, Y, **kwargs).value
        if not is_tensor_ref(Y):
            raise checks.Mismatch(
                f"Called on a keras.Input, {name} should return the output tensor, but it returned {checks.describe_type(Y)}.",
                "end the function with `return X`.",
            )
    return student.call("Model", inputs=X, outputs=Y).value


IMAGE_LAYOUT = "(batch, height, width, channels)"  # a block's output, named axis by axis when its shape is wrong


def reference_block_model(reference: Any, name: str, input_shape: tuple, twice: bool = False, **kwargs: Any) -> Any:
    import keras

    X = keras.Input(tuple(input_shape))
    Y = X
    for _ in range(2 if twice else 1):
        Y = getattr(reference, name)(Y, **kwargs)
    return keras.Model(X, Y)


def block_matches_reference(student, reference, rng, name: str, input_shape: tuple, hint: str, *, tol: dict,
                            **kwargs: Any) -> None:  # fmt: skip
    """Built in a model and given the reference's weights, the block computes the reference's outputs."""
    model = block_model(student, name, input_shape, **kwargs)
    ref_model = reference_block_model(reference, name, input_shape, **kwargs)
    X = rng.standard_normal((4, *input_shape)).astype(np.float32)
    what = f"the output of your block (training={kwargs['training']}) with the reference's weights"
    actual, expected = same_weights_outputs(student, model, ref_model, X, what)
    checks.close(actual, expected, what, hint=hint, layout=IMAGE_LAYOUT, **tol)


@dataclass(frozen=True)
class Expected:
    """What a whole reference model gives: its weights' shapes, and its output for the grader's
    weights (``same_weights``) on one input."""

    shapes: list[tuple]
    output: np.ndarray


class WholeModels:
    """The reference's whole models, as the whole-model checks need them (``whole_model_matches``).

    ``expected(key, X, **call_kwargs)``: the model ``build(key)`` makes, given the grader's
    weights and called on ``X``. The same for every student, so kept in the course's
    ``ReferenceStore`` and built only when the store lacks it (a ResNet50 takes seconds).
    """

    def __init__(self, build: Callable[[Any], Any], store: Any):
        self.build, self.store = build, store

    def expected(self, key: Any, X: np.ndarray, **call_kwargs: Any) -> Expected:
        from autograder.kit.reference_store import array_digest, shapes_array, shapes_of

        def compute() -> dict[str, np.ndarray]:
            model = self.build(key)
            shapes = reference_shapes(model)
            model.set_weights(same_weights(shapes))
            return {"shapes": shapes_array(shapes), "output": np.asarray(model(X, **call_kwargs))}

        stored = self.store.get(f"whole model {key!r} {sorted(call_kwargs.items())!r} {array_digest(X)}", compute)
        return Expected(shapes_of(stored["shapes"]), stored["output"])


def whole_model_matches(student, model: RemoteRef, expected: Expected, X: np.ndarray, what: str, ref_what: str,
                        hint: str | None, tol: dict, **call_kwargs: Any) -> None:  # fmt: skip
    """A whole model (built with the student's own parts) gives the reference's outputs for the same weights.

    The model gets the grader's weights for the reference's shapes, made in the worker
    (``student.fill_weights``: hundreds of megabytes that need not cross the boundary; Keras
    checks every shape, and a model holding the same shapes in another order gets the same
    values in its own order). Its output for ``X`` must then be the reference's, which the
    grader computed itself (``WholeModels.expected``): only a model that computes the
    reference's function with those weights gives it. A model holding other shapes is named
    by the count it reports (the message's words only). The model is released afterwards
    (``student.release``): the sandbox's memory is for the next whole model.
    """
    try:
        filled = student.fill_weights(model, expected.shapes)
        if not filled["filled"]:
            shapes = filled["shapes"] if isinstance(filled["shapes"], list) else []
            count = sum(int(np.prod(s)) for s in shapes if isinstance(s, list) and all(isinstance(n, int) for n in s))
            ref_count = sum(int(np.prod(s)) for s in expected.shapes)
            raise checks.Mismatch(f"{what} refused the reference's weights: it says it holds {len(shapes)} weight "
                                  f"arrays with {count:,} parameters; {ref_what} holds {len(expected.shapes)} with "
                                  f"{ref_count:,}.", hint)  # fmt: skip
        actual = call_layer(student, model, X, what, **call_kwargs)
        checks.close(actual, expected.output, what, hint=hint, **tol)
    finally:
        student.release(model)


def call_layer(student, obj: RemoteRef, X: np.ndarray, what: str, **kwargs: Any) -> np.ndarray:
    """obj(X, **kwargs) in the sandbox, as an array (with a clear message otherwise)."""
    value = student.call_method(obj, "__call__", X, **kwargs).value
    return checks.floating(value, what)
