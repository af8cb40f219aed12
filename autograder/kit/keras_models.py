"""Comparing a student's Keras model with the reference's, across the sandbox boundary.

The student's model lives in the sandbox; the grader sees it as a ``RemoteRef`` and
reads it through ``student.describe`` (its layers), ``student.call_method`` and
``student.getattr``. The reference's model lives here. What is compared:

- **Architecture** (``structure``, ``compare_chain``, ``compare_layers``): the layers
  that carry the architecture (``STRUCTURAL``) by type, output shape, parameter count,
  kernel size, strides, padding, pool size, units and activation; names are free, and
  a batch norm's ``axis`` is compared modulo the rank (``-1`` and ``3`` are the same
  axis of an NHWC tensor). Activation and Add layers are not listed (a student may
  write ``ops.relu``, ``+`` or ``layers.ReLU``); what they do is checked numerically.
  A chain is compared in order, a block with branches as a multiset, and the first
  difference is described in words. Subclassed models, whose layers have no symbolic
  outputs, are read from their weights (``weight_groups``: one group per layer, from
  the variables' paths).
- **Outputs with the same weights** (``give_same_weights``,
  ``block_matches_reference``): both models get weights that depend only on each
  array's shape, so the order in which a student creates layers doesn't matter, then
  must give the same outputs, in inference mode and in training mode (batch norm with
  the batch's statistics: ``training=`` is passed through).
- **Parameter counts** (``model_counts``, ``reference_counts``): all and trainable.

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
import zlib  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from ..sandbox.harness.wire import RemoteRef  # noqa: E402
from . import checks, inner_calls  # noqa: E402

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


def same_weights(shapes: list[tuple]) -> list[np.ndarray]:
    """Weights that depend only on each array's shape (see the module docstring).

    1-d arrays (biases, batch norm's gamma, beta, moving mean and variance) are in
    [0.5, 1.5], so every variance is positive; kernels are N(0, 1 / fan_in).
    """
    out = []
    for shape in shapes:
        shape = tuple(int(n) for n in shape)
        rng = np.random.default_rng(zlib.crc32(repr(shape).encode()))
        if len(shape) <= 1:
            out.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        else:
            fan_in = int(np.prod(shape[:-1]))
            out.append((rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32))
    return out


def give_same_weights(student, model: RemoteRef) -> None:
    """Load ``same_weights`` into a model living in the sandbox."""
    current = student.call_method(model, "get_weights").value
    if not isinstance(current, list) or not all(isinstance(w, np.ndarray) for w in current):
        raise checks.Mismatch("Your model's get_weights() did not return a list of arrays.")
    student.call_method(model, "set_weights", same_weights([w.shape for w in current]))


def give_reference_same_weights(model: Any) -> None:
    model.set_weights(same_weights([w.shape for w in model.get_weights()]))


# --- architecture --------------------------------------------------------------------------


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


def compare_unordered(actual: list, expected: list, what: str, text: Callable[[Any], str], hint: str | None) -> None:
    """The same items in any order; a mismatch is named with ``text``."""
    missing = list((Counter(expected) - Counter(actual)).elements())
    extra = list((Counter(actual) - Counter(expected)).elements())
    if missing:
        more = f" Yours has {text(extra[0])} instead." if extra else ""
        raise checks.Mismatch(f"{what} should have {text(missing[0])}, and yours has none.{more}", hint)
    if extra:
        raise checks.Mismatch(f"{what} has an unexpected layer: {text(extra[0])}.", hint)


def compare_layers(actual: list[tuple], expected: list[tuple], what: str, hint: str | None = None) -> None:
    """The same layers in any order (blocks have two branches)."""
    compare_unordered(actual, expected, what, layer_text, hint)


def weight_groups(student, model: RemoteRef) -> list[tuple]:
    """A subclassed model's layers, as the shapes of each layer's weights (from their paths)."""
    variables = student.getattr(model, "weights")
    values = student.call_method(model, "get_weights").value
    if not isinstance(variables, list) or not isinstance(values, list) or len(values) != len(variables):
        raise checks.Mismatch("Your layer's `weights` and `get_weights()` don't list the same variables.")
    groups: dict[str, list] = {}
    for v, value in zip(variables, values, strict=True):
        path = student.getattr(v, "path") if isinstance(v, RemoteRef) else None
        if not isinstance(path, str) or not isinstance(value, np.ndarray):
            raise checks.Mismatch("Your layer's weights are not Keras variables.")
        groups.setdefault(path.rsplit("/", 1)[0], []).append(tuple(value.shape))
    return [tuple(g) for g in groups.values()]


def reference_weight_groups(model: Any) -> list[tuple]:
    groups: dict[str, list] = {}
    for v in model.weights:
        groups.setdefault(v.path.rsplit("/", 1)[0], []).append(tuple(int(n) for n in v.shape))
    return [tuple(g) for g in groups.values()]


def group_text(group: tuple) -> str:
    first = group[0]
    if len(first) == 4:
        kh, kw, cin, cout = first
        return f"a {kh}×{kw} convolution from {cin} to {cout} channels" + (" with a bias" if len(group) > 1 else "")
    if len(first) == 2:
        return f"a dense layer from {first[0]} to {first[1]} units"
    if len(group) == 4 and len(first) == 1:
        return f"a batch normalization of {first[0]} channels"
    return "a layer with weights of shapes " + ", ".join(str(s) for s in group)


def compare_groups(actual: list[tuple], expected: list[tuple], what: str, hint: str | None = None) -> None:
    """The same layers, by their weights' shapes, in any order."""
    compare_unordered(actual, expected, what, group_text, hint)


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
    give_same_weights(student, model)
    ref_model = reference_block_model(reference, name, input_shape, **kwargs)
    give_reference_same_weights(ref_model)
    X = rng.standard_normal((4, *input_shape)).astype(np.float32)
    what = f"the output of your block (training={kwargs['training']}) with the reference's weights"
    actual = call_layer(student, model, X, what)
    checks.close(actual, np.asarray(ref_model(X)), what, hint=hint, layout=IMAGE_LAYOUT, **tol)


def own_blocks_differ(student, reference, composite: str, blocks: tuple[str, ...], *args: Any,
                      keep: tuple[str, ...] | None = None, twice: bool = False, output_shapes: bool = True,
                      **kwargs: Any) -> bool:  # fmt: skip
    """Do the student's own ``blocks`` differ in size from the reference's at the sizes ``composite`` uses?

    For a whole-model parameter count, which needs the student's real blocks: a wrong count
    caused by a block is charged to that block's own tests, not to the model's. The
    reference's ``composite(*args, **kwargs)`` is built with its calls to ``blocks``
    recorded; each distinct call's block is then built by the student's code and by the
    reference's (``twice``: two in a row, as in a stage, where fixed layer names would
    clash), with the call's arguments but the input (only those in ``keep``, if given),
    and their parameter counts (and, with ``output_shapes``, output shapes) compared. A
    block the student's code can't build counts as different.
    """
    log: list = []
    recorders = {name: inner_calls.Recorder(getattr(reference, name), _calling(getattr(reference, name)), log)
                 for name in blocks}  # fmt: skip
    with inner_calls.patched(getattr(reference, composite), **recorders):
        getattr(reference, composite)(*args, **kwargs)
    seen = set()
    for name, arguments in log:
        shape = tuple(arguments["X"].shape[1:])
        sizes = {k: v for k, v in arguments.items() if k != "X" and (keep is None or k in keep)}
        if (name, shape, repr(sizes)) in seen:
            continue
        seen.add((name, shape, repr(sizes)))
        ref = reference_block_model(reference, name, shape, twice=twice, **sizes)
        want = (reference_counts(ref), tuple(ref.output.shape)) if output_shapes else reference_counts(ref)
        try:
            block = block_model(student, name, shape, twice=twice, **sizes)
            got: Any = model_counts(student, block)
            if output_shapes:
                got = (got, tuple(student.getattr(student.getattr(block, "output"), "shape")))
        except (checks.StudentCodeError, checks.Mismatch):
            return True
        if got != want:
            return True
    return False


def _calling(fn: Callable) -> Callable[[dict], Any]:
    """A Recorder's answer that runs ``fn`` itself on the recorded arguments."""
    return lambda arguments: fn(**arguments)


def model_counts(student, model: RemoteRef) -> tuple[int, int]:
    """(all parameters, trainable parameters) of a model in the sandbox."""
    rows = student.describe(model)
    if not isinstance(rows, list):
        raise checks.Mismatch("The result is not a Keras model.")
    total = student.call_method(model, "count_params").value
    trainable = sum(int(r.get("trainable", 0)) for r in rows if isinstance(r, dict))
    return int(total), trainable


def reference_counts(model: Any) -> tuple[int, int]:
    return int(model.count_params()), int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def call_layer(student, obj: RemoteRef, X: np.ndarray, what: str, **kwargs: Any) -> np.ndarray:
    """obj(X, **kwargs) in the sandbox, as an array (with a clear message otherwise)."""
    value = student.call_method(obj, "__call__", X, **kwargs).value
    return checks.floating(value, what)
