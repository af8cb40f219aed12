"""The classic_cnns graders' own fixtures; everything else comes from the grading library
(``autograder/kit``: ``keras_models`` compares models, ``inner_calls`` records stand-ins).

Grading each part on its own code. Keras tensors can't cross the sandbox boundary, so
the reference can't answer a student's inner call with a real block. While a composite
part is built, the grader answers its calls to the blocks it uses with stand-ins that
return their input unchanged, and records each call (``kit/inner_calls.py``):

- ``VGG``: ``vgg_block`` returns its input: the "skeleton" keeps the input and the
  classifier (on a small input, so the first dense layer stays small);
- ``DenseNet121``: ``dense_block`` and ``transition_layer`` return their input: the
  skeleton keeps the stem and the head.

The recorded calls are compared with the reference's, built the same way. Only the
whole-model parameter counts use the student's own blocks; a wrong count whose cause
is a block (the student's block has the wrong size at a size the model uses) costs
points in that block's tests, not here.

``train_step`` may call the student's ``l2_penalty`` on the model's variables. That
call can't be answered by the grader (a variable can't cross the sandbox, and the
penalty must stay differentiable inside it), so it is never answered; instead a
``train_step`` test that fails passes when the student's own ``l2_penalty`` is wrong
(``l2_penalty_is_wrong``): that bug costs points in ``l2_penalty`` only.

Architecture keys (``arch``): ``keras_models.structure`` with three freedoms the contracts
allow: a 1×1 convolution with stride 1 may have either padding (they are the same
layer); a Dense layer's activation may be written as a separate layer (activations are
checked numerically, by the outputs with the same weights); and the InputLayer is left
out (a keras.Sequential model doesn't list it; the first layer's output shape and
parameters still pin the input down).

Inputs are random but fixed per test (``rng``), small, and never the notebook's inputs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.kit import checks, keras_models

# --- architecture keys ----------------------------------------------------------------------


def loosen(key: tuple) -> tuple:
    """A layer key (``keras_models.layer_key``) without the details the contracts leave free."""
    cls, detail, shape, params = key
    d = dict(detail)
    if cls == "Dense":
        d.pop("activation", None)
    if cls == "Conv2D" and d.get("kernel_size") == (1, 1) and d.get("strides") == (1, 1):
        d.pop("padding", None)
    return (cls, tuple(d.items()), shape, params)


def keys(rows, what: str) -> list[tuple]:
    """The loosened keys of a model described by ``student.describe`` (data, kept by fixtures)."""
    return [loosen(k) for k in keras_models.structure(rows, what) if k[0] != "InputLayer"]


def student_keys(student, model, what: str) -> list[tuple]:
    return keys(student.describe(model), what)


def reference_keys(model) -> list[tuple]:
    return [loosen(k) for k in keras_models.reference_structure(model) if k[0] != "InputLayer"]


def model_of(value, what: str):
    """The student's result as a model handle, or a Mismatch saying what came back."""
    if not keras_models.is_model_ref(value):
        raise checks.Mismatch(f"{what} should return a keras.Model, but it returned {checks.describe_type(value)}.")
    return value


def same_weights_outputs(student, model, ref_model, X: np.ndarray, what: str, **kwargs) -> tuple:
    """(student's output, reference's output) for X, both models given ``same_weights``."""
    keras_models.give_same_weights(student, model)
    keras_models.give_reference_same_weights(ref_model)
    actual = keras_models.call_layer(student, model, X, what, **kwargs)
    return actual, np.asarray(ref_model(X, **kwargs))


@pytest.fixture(scope="session")
def arch() -> SimpleNamespace:
    """The helpers above, for the test modules (which can't import this file)."""
    return SimpleNamespace(
        keys=keys,
        student_keys=student_keys,
        reference_keys=reference_keys,
        model_of=model_of,
        same_weights_outputs=same_weights_outputs,
    )


# --- counts of the reference's whole models -------------------------------------------------


class ExpectedCounts(dict):
    """Parameter counts (all, trainable) of the reference's whole models, built on first use."""

    def __init__(self, reference: SimpleNamespace):
        super().__init__()
        self.reference = reference

    def __missing__(self, key: tuple) -> tuple[int, int]:
        name, args, kwargs = key
        self[key] = keras_models.reference_counts(getattr(self.reference, name)(*args, **dict(kwargs)))
        return self[key]


@pytest.fixture(scope="session")
def expected_counts(reference: SimpleNamespace) -> ExpectedCounts:
    return ExpectedCounts(reference)
