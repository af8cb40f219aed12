"""Running a student's Keras model in the sandbox and the reference's with the same weights, for outputs to compare.

The student's model lives in the sandbox; the grader sees it as a ``RemoteRef``. Whatever
the model says about itself is answered by objects in the sandbox, which student code
controls: a claim, never evidence. Here the evidence is outputs:

- **Outputs with the same weights** (``same_weights_outputs``, ``block_matches_reference``,
  ``whole_model_matches``): both models get weights that depend only on each array's
  shape (``same_weights``), so the order in which a student creates layers doesn't matter,
  then must give the same outputs, in inference mode and in training mode (batch norm with
  the batch's statistics: ``training=`` is passed through). A model that refuses the
  weights, or holds other shapes, is named by the count the grader read back.
- **Building in the sandbox** (``block_model``, ``call_layer``, ``is_model_ref``): a block
  built into a model from a symbolic Input, and a call whose result must be a float array.

What the grader measures of a model's architecture is in ``keras_architecture``. Importing
this module sets TensorFlow's defaults for the grader's own process (``tensorflow_env``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograder.kit.tensorflow_env  # noqa: F401  (TensorFlow's defaults, before anything loads Keras)
from autograder.kit import checks
from autograder.sandbox.harness.weights import same_weights
from autograder.sandbox.harness.wire import RemoteRef

# Seconds for one call that builds a whole model: a few seconds alone, more under load.
BUILD_TIMEOUT = 60


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
