"""The classic_cnns graders' own fixtures; everything else comes from the grading library
(``autograder/kit``: ``keras_architecture`` measures models, ``keras_outputs`` compares their outputs,
``inner_calls`` records stand-ins, ``verdicts`` holds the verdicts of the tests already run).

Grading each part on its own code. Keras tensors can't cross the sandbox boundary, so
the reference can't answer a student's inner call with a real block. While a composite
part is built, the grader answers its calls to the blocks it uses with stand-ins that
return their input unchanged, and records each call (``kit/inner_calls.py``):

- ``VGG``: ``vgg_block`` returns its input: the "skeleton" keeps the input and the
  classifier (on a small input, so the first dense layer stays small);
- ``DenseNet121``: ``dense_block`` and ``transition_layer`` return their input: the
  skeleton keeps the stem and the head.

The recorded calls are compared with the reference's, built the same way. Only the
whole-model checks use the student's own blocks: with the same weights as the reference's
whole model, the same outputs. Their failure is not charged here only on graded evidence
(``verdicts.excuse()``): a block lost points in its own tests, and every other test of
the composite passed.

Architecture is measured, never read from the model's description (``arch.check``): the
weights the grader writes and reads back (number and shapes, in any order), the shape of
the output it receives for its own input, and that the outputs change when it changes the
weights. The description (``student.describe``) only chooses the message (``keys``):
three freedoms the contracts allow are loosened there: a 1×1 convolution with stride 1
may have either padding (they are the same layer); a Dense layer's activation may be
written as a separate layer; and the InputLayer is left out (a keras.Sequential model
doesn't list it).

``train_step`` may call the student's ``l2_penalty`` on the model's variables. That call
can't be answered by the grader (a variable can't cross the sandbox, and the penalty
must stay differentiable inside it), so it is never answered. Instead ``l2_penalty`` is
graded on train_step's own kernels, as Keras variables (``kernel_penalties``, in
``test_l2_penalty.py``), and train_step's checks use that graded value: where it was wrong,
the loss must be the cross-entropy plus that value, the kernels (which follow the
penalty's gradient) are not compared, and every other weight still is (see
``test_train_step.py``). train_step never calls l2_penalty for an excuse.

Inputs are random but fixed per test (``rng``), small, and never the notebook's inputs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.kit import checks, keras_architecture, keras_outputs

# --- architecture keys ----------------------------------------------------------------------


def loosen(key: tuple) -> tuple:
    """A layer key (``keras_architecture.layer_key``) without the details the contracts leave free."""
    cls, detail, shape, params = key
    d = dict(detail)
    if cls == "Dense":
        d.pop("activation", None)
    if cls == "Conv2D" and d.get("kernel_size") == (1, 1) and d.get("strides") == (1, 1):
        d.pop("padding", None)
    return (cls, tuple(d.items()), shape, params)


def keys(rows, what: str) -> list[tuple]:
    """The loosened keys of a model described by ``student.describe`` (data, kept by fixtures)."""
    return [loosen(k) for k in keras_architecture.structure(rows, what) if k[0] != "InputLayer"]


def student_keys(student, model, what: str) -> list[tuple]:
    return keys(student.describe(model), what)


def reference_keys(model) -> list[tuple]:
    return [loosen(k) for k in keras_architecture.reference_structure(model) if k[0] != "InputLayer"]


def model_of(value, what: str):
    """The student's result as a model handle, or a Mismatch saying what came back."""
    if not keras_outputs.is_model_ref(value):
        raise checks.Mismatch(f"{what} should return a keras.Model, but it returned {checks.describe_type(value)}.")
    return value


def check(student, model, ref, X: np.ndarray, what: str, hint: str | None = None, chain: bool = True,
          **call_kwargs) -> keras_architecture.Measured:  # fmt: skip
    """``keras_architecture.architecture_matches`` with this assignment's freedoms (``loosen``) in its messages."""
    return keras_architecture.architecture_matches(student, model, ref, X, what, hint, chain=chain,
                                                   loosen=lambda ks: [loosen(k) for k in ks if k[0] != "InputLayer"],
                                                   **call_kwargs)  # fmt: skip


def count(student, model, ref, X: np.ndarray, what: str, hint: str | None = None, **call_kwargs) -> None:
    """The model holds the reference's number of parameters, counted in the weights the grader
    writes and reads back (and its outputs follow them), never in its own count_params()."""
    got = keras_architecture.measure(student, model, X, what, **call_kwargs)
    want = sum(int(np.prod(s)) for s in keras_outputs.reference_shapes(ref))
    if got.params == want and got.weights_used:
        return

    def measured_diff():
        raise checks.Mismatch(f"{what} has {got.params:,} parameters (in the weights the grader wrote and read back); "
                              f"it should have {want:,}.", hint)  # fmt: skip

    keras_architecture.describe_differences(student, model, got, what, hint, None, measured_diff)


def output_shape(student, model, ref, input_shape: tuple, what: str, hint: str | None = None) -> None:
    """The output the grader receives for a batch of two of its own inputs has the reference's shape."""
    X = np.random.default_rng(len(input_shape)).standard_normal((2, *input_shape)).astype(np.float32)
    got = keras_outputs.call_layer(student, model, X, what, training=False)
    want = tuple(np.asarray(ref(X, training=False)).shape)
    if got.shape != want:
        raise checks.Mismatch(f"{what} gives outputs of shape {got.shape} for a batch of 2; they should have shape "
                              f"{want}.", hint)  # fmt: skip


@pytest.fixture(scope="session")
def arch() -> SimpleNamespace:
    """The helpers above, for the test modules (which can't import this file)."""
    return SimpleNamespace(
        keys=keys,
        student_keys=student_keys,
        reference_keys=reference_keys,
        model_of=model_of,
        check=check,
        count=count,
        output_shape=output_shape,
    )


# --- the reference's whole models ---------------------------------------------------------


@pytest.fixture(scope="session")
def whole_models(reference: SimpleNamespace, reference_store) -> keras_outputs.WholeModels:
    """The reference's whole models by (function, args, kwargs), kept in the course's store (a DenseNet-121 takes seconds)."""

    def build(key: tuple):
        name, args, kwargs = key
        return getattr(reference, name)(*args, **dict(kwargs))

    return keras_outputs.WholeModels(build, reference_store)


# --- train_step's model, and l2_penalty graded on its kernels -----------------------------------

TRAIN_SHAPE, TRAIN_CLASSES = (6, 6, 2), 4
TRAIN_LAYERS = [("Conv2D", (3, (3, 3)), {"activation": "relu"}), ("BatchNormalization", (), {}), ("Flatten", (), {}),
                ("Dense", (5,), {"activation": "relu"}), ("Dense", (TRAIN_CLASSES,), {"activation": "softmax"})]  # fmt: skip
PENALTY_LAMBDAS = (0.01, 0.0, 0.5)  # the lams train_step's tests use


def train_reference_model():
    """train_step's small model, built here (the grader builds the same one in the sandbox)."""
    import keras

    X = keras.Input(TRAIN_SHAPE)
    Y = X
    for name, args, kwargs in TRAIN_LAYERS:
        Y = getattr(keras.layers, name)(*args, **kwargs)(Y)
    return keras.Model(X, Y)


class KernelPenalties:
    """The student's l2_penalty on train_step's starting kernels, as Keras variables: a graded case.

    ``test_l2_penalty.py`` grades it (``grade``); ``test_train_step.py`` only reads what that
    test found (``graded``), so train_step's excuse rests on l2_penalty's own graded result and
    never on a call of its own.
    """

    def __init__(self, reference: SimpleNamespace):
        self.reference = reference
        model = train_reference_model()
        keras_outputs.give_reference_same_weights(model)
        self.kernels = [np.asarray(w) for w in model.trainable_weights if w.name == "kernel"]
        self.found: dict[
            float, tuple[float | None, float, Exception | None]
        ] = {}  # lam -> (student's, reference's, error)

    def grade(self, student) -> None:
        """Call the student's l2_penalty on the kernels (as keras.Variable) for every lam, and keep the answers."""
        variable = student.getattr(student.ref("keras"), "Variable")
        handles = [student.call_method(variable, "__call__", k).value for k in self.kernels]
        for lam in PENALTY_LAMBDAS:
            want = float(self.reference.l2_penalty(self.kernels, lam))
            try:
                got = checks.scalar(student.call("l2_penalty", handles, lam).value, f"l2_penalty(kernels, {lam})")
                self.found[lam] = (got, want, None)
            except (checks.StudentCodeError, checks.Mismatch) as e:
                self.found[lam] = (None, want, e)

    def graded(self, lam: float) -> tuple[float | None, float, Exception | None] | None:
        """(student's value or None, reference's value, the error instead of a value) as graded; None if not graded."""
        return self.found.get(lam)


@pytest.fixture(scope="session")
def kernel_penalties(reference: SimpleNamespace) -> KernelPenalties:
    return KernelPenalties(reference)


@pytest.fixture(scope="session")
def train_model() -> SimpleNamespace:
    """train_step's model, for test_train_step.py (which can't import this file)."""
    return SimpleNamespace(shape=TRAIN_SHAPE, classes=TRAIN_CLASSES, layers=TRAIN_LAYERS,
                           reference_model=train_reference_model, lambdas=PENALTY_LAMBDAS)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def sandbox_memory_freed_per_module(fresh_sandbox_memory) -> None:
    """Every grader module here ends with the sandbox's memory freed (``fresh_sandbox_memory``, kit/fixtures.py)."""
