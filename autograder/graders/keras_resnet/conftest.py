"""Shared fixtures for the keras_resnet graders.

Expected values always come from ``reference``: the source notebook's own solution,
run in this (grader) process, with real Keras layers. The graders never train.

How a model is compared (the ``kit`` fixture below):

- **Architecture**: the layers that carry the architecture (Conv2D, BatchNormalization,
  pooling, padding, Flatten, Dense, Input) are compared with the reference's by type,
  output shape, parameter count, kernel size, strides, padding, pool size, units and
  activation; names are free, and a batch norm's ``axis`` is compared modulo the rank
  (``-1`` and ``3`` are the same axis of an NHWC tensor). Activation and Add layers are
  not listed (a student may write ``ops.relu``, ``+`` or ``layers.ReLU``); what they do
  is checked numerically. A linear chain is compared in order, a block with two
  branches as a multiset, and the first difference is described in words. For
  subclassed models, whose layers have no symbolic outputs, the layers are read from
  their weights (one group of weights per layer, from the variables' paths).
- **Outputs with the same weights**: both models get identical weights, then must give
  the same outputs. Each weight array is filled with values that depend only on its
  shape (``same_weights``), so the order in which a student creates layers doesn't
  matter; two layers with weights of the same shape get the same values, which is
  harmless because such layers are interchangeable anyway. Outputs are compared in
  inference mode and in training mode (batch norm with the batch's statistics).
- **Blocks called on arrays**: the functional blocks also run eagerly on NumPy arrays
  with a given initializer (as the notebook's checks do), which checks ``training`` and
  ``initializer`` directly.

Grading each part on its own code. Keras objects can't cross the sandbox boundary, so
the reference can't answer a student's inner call with a real block. Instead, while a
composite part is being built, the grader answers calls to the parts it uses with
stand-ins and records them (``Answering`` below):

- ``ResNet50``: ``identity_block`` and ``convolutional_block`` return their input
  unchanged (a "skeleton" model keeps the stem and the head), and each call's
  arguments are recorded and compared with the reference's calls;
- ``ResNet``: ``BasicBlock(filter_num, stride)`` returns a 1×1 convolution with that
  many filters and that stride (same output shape as the real block), created in the
  sandbox beforehand; the reference model is built with the same stand-ins;
- ``resnet18`` / ``resnet34``: ``ResNet(layer_dims, num_classes)`` is recorded.

Whole-model parameter counts (ResNet50: 23,600,006; ResNet([2, 2, 2, 2]) and resnet18:
11,234,532; resnet34: 21,353,828) need the student's real inner parts. Those tests build
the whole model and pass when the count is right; when it is wrong, they check whether
the student's inner parts have the right counts at the sizes the model uses, and if
not, the difference is charged to those parts (in their own tests) and not here.

Which calls the grader answers: those declared for the part being called in
``assignment.toml`` (``[stand_ins]``: ResNet50 -> the two blocks, ResNet -> BasicBlock,
resnet18/resnet34 -> ResNet), and of those only the ones a test is answering right now.
``StudentSession`` consults its ``helpers`` mapping on every call (and replaces an
*empty* mapping by a new dict); ``Answering`` is that mapping: always truthy, empty by
default, filled only inside ``with answering(...)``.

Inputs are random but fixed per test (``rng``), small, and never the notebook's inputs.
"""

from __future__ import annotations

import os

# Before Keras is imported: quiet, one thread per pool (a grading runs next to others).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import inspect  # noqa: E402
import re  # noqa: E402
import zlib  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder import checks  # noqa: E402
from autograder.assignments import Assignment, load_reference  # noqa: E402
from autograder.sandbox.harness.wire import RemoteRef  # noqa: E402
from autograder.session import StudentCodeError  # noqa: E402

ASSIGNMENT = Assignment(Path(__file__).parent.name)

# float32 models: outputs agree to about 6 significant digits; sums over large
# activations (the published-values checks reach ~600) need a relative tolerance.
FLOAT32 = {"rtol": 1e-4, "atol": 1e-4}
# Whole-model builds take a few seconds; more under load.
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


# --- answering inner calls ---------------------------------------------------------------


class Answering(dict):
    """The ``grader_helpers`` mapping: empty (the student's own code runs) except inside
    ``with answering(name=fn)``, when the sandbox hands calls to ``name`` to ``fn``."""

    def __bool__(self) -> bool:  # StudentSession replaces a falsy mapping by a new dict
        return True

    @contextmanager
    def __call__(self, **functions: Any):
        self.update(functions)
        try:
            yield
        finally:
            for name in functions:
                self.pop(name, None)


class Recorder:
    """Stands in for a graded function or class: logs each call's arguments (bound to the
    reference's signature) as ``(name, arguments)`` and answers with ``answer(arguments)``."""

    def __init__(self, reference_fn: Any, answer: Any, log: list | None = None):
        self.name = reference_fn.__name__
        self.signature = inspect.signature(reference_fn)
        self.answer = answer
        self.log = log if log is not None else []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("kwargs", None)
        self.log.append((self.name, arguments))
        return self.answer(arguments)


@contextmanager
def patched(namespace_fn: Any, **replacements: Any):
    """Swap names in the reference notebook's namespace (the globals of its functions)."""
    namespace = namespace_fn.__globals__ if hasattr(namespace_fn, "__globals__") else namespace_fn
    saved = {name: namespace[name] for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        namespace.update(saved)


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


def reference_block_model(
    reference: SimpleNamespace, name: str, input_shape: tuple, twice: bool = False, **kwargs: Any
) -> Any:
    import keras

    X = keras.Input(tuple(input_shape))
    Y = X
    for _ in range(2 if twice else 1):
        Y = getattr(reference, name)(Y, **kwargs)
    return keras.Model(X, Y)


def block_matches_reference(student, reference, rng, name: str, input_shape: tuple, hint: str, **kwargs: Any) -> None:
    """Built in a model and given the reference's weights, the block computes the reference's outputs."""
    model = block_model(student, name, input_shape, **kwargs)
    give_same_weights(student, model)
    ref_model = reference_block_model(reference, name, input_shape, **kwargs)
    give_reference_same_weights(ref_model)
    X = rng.standard_normal((4, *input_shape)).astype(np.float32)
    what = f"the output of your block (training={kwargs['training']}) with the reference's weights"
    actual = call_layer(student, model, X, what)
    checks.close(actual, np.asarray(ref_model(X)), what, hint=hint, **FLOAT32)


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


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def reference() -> SimpleNamespace:
    """The source notebook's set-up and answer cells, run here."""
    return load_reference(ASSIGNMENT)


@pytest.fixture(scope="session")
def grader_helpers() -> Answering:
    """Empty except while a test answers inner calls (see ``Answering``)."""
    return Answering()


@pytest.fixture(scope="session")
def answering(grader_helpers: Answering) -> Answering:
    return grader_helpers


class ExpectedCounts(dict):
    """Parameter counts (all, trainable) of the reference's whole models, built on first use."""

    def __init__(self, reference: SimpleNamespace):
        super().__init__()
        self.reference = reference

    def __missing__(self, name: str) -> tuple[int, int]:
        if name == "ResNet50":
            model = self.reference.ResNet50(input_shape=(64, 64, 3), classes=6)
        else:  # "resnet18", "resnet34"
            model = getattr(self.reference, name)()
            model(np.zeros((1, 32, 32, 3), dtype=np.float32))
        self[name] = reference_counts(model)
        return self[name]


@pytest.fixture(scope="session")
def expected_counts(reference: SimpleNamespace) -> ExpectedCounts:
    return ExpectedCounts(reference)


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers above, for the graders."""
    return SimpleNamespace(
        FLOAT32=FLOAT32,
        BUILD_TIMEOUT=BUILD_TIMEOUT,
        Recorder=Recorder,
        patched=patched,
        same_weights=same_weights,
        give_same_weights=give_same_weights,
        give_reference_same_weights=give_reference_same_weights,
        structure=structure,
        reference_structure=reference_structure,
        layer_key=layer_key,
        layer_text=layer_text,
        compare_chain=compare_chain,
        compare_layers=compare_layers,
        weight_groups=weight_groups,
        reference_weight_groups=reference_weight_groups,
        compare_groups=compare_groups,
        is_tensor_ref=is_tensor_ref,
        is_model_ref=is_model_ref,
        block_model=block_model,
        reference_block_model=reference_block_model,
        block_matches_reference=block_matches_reference,
        model_counts=model_counts,
        reference_counts=reference_counts,
        call_layer=call_layer,
        StudentCodeError=StudentCodeError,
    )
