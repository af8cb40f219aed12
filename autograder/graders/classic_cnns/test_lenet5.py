"""lenet5(input_shape=(32, 32, 1), classes=10) -> keras.Model: LeNet-5 with ReLU, average pooling and a softmax.

Built in the sandbox and measured by the grader (the weights it writes and reads back, the
shape of the output it receives: ``arch.check``), then given the same weights as the
reference to compare its probabilities (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

HINT = ("Conv2D(6, 5x5, 'valid', ReLU) -> AveragePooling2D(2x2) -> Conv2D(16, 5x5, 'valid', ReLU) -> "
        "AveragePooling2D(2x2) -> Flatten -> Dense(120, ReLU) -> Dense(84, ReLU) -> Dense(classes, softmax).")  # fmt: skip


def build(student, reference, arch, input_shape, classes):
    value = student.call("lenet5", input_shape=input_shape, classes=classes).value
    return arch.model_of(value, "lenet5"), reference.lenet5(input_shape=input_shape, classes=classes)


def outputs_case(student, reference, arch, tolerances, rng, input_shape, classes, built=None):
    model, ref = built or build(student, reference, arch, input_shape, classes)
    X = 2 * rng.standard_normal((4, *input_shape)).astype(np.float32)
    what = f"the probabilities of lenet5(input_shape={input_shape}, classes={classes}) with the reference's weights"
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what, training=False)
    checks.close(actual, expected, what, hint="a ReLU after both convolutions and the two hidden dense layers, "
                 "a softmax at the end.", **tolerances.float32)  # fmt: skip


@pytest.mark.share(2)
def test_architecture(student, reference, arch, rng):
    """The default LeNet-5, as the grader measures it: the shapes of its weights, of its output, and outputs that follow its weights."""
    model, ref = build(student, reference, arch, (32, 32, 1), 10)
    X = rng.standard_normal((2, 32, 32, 1)).astype(np.float32)
    arch.check(student, model, ref, X, "Your LeNet-5", HINT, training=False)


@pytest.mark.share(1)
def test_parameter_count(student, reference, arch, rng):
    """lenet5() has 61,706 parameters (counted in the weights the grader writes and reads back)."""
    model = arch.model_of(student.call("lenet5").value, "lenet5")
    X = rng.standard_normal((1, 32, 32, 1)).astype(np.float32)
    arch.count(student, model, reference.lenet5(), X, "lenet5()", HINT, training=False)


@pytest.mark.share(2)
def test_same_weights_outputs(student, reference, arch, tolerances, rng):
    """Given the reference's weights, the reference's probabilities for a batch of 32x32 images."""
    outputs_case(student, reference, arch, tolerances, rng, (32, 32, 1), 10)


@pytest.mark.share(2)
def test_other_input_and_classes(student, reference, arch, tolerances, rng):
    """lenet5(input_shape=(28, 28, 3), classes=5): the layers follow the arguments, and so do the outputs."""
    model, ref = build(student, reference, arch, (28, 28, 3), 5)
    X = rng.standard_normal((2, 28, 28, 3)).astype(np.float32)
    arch.check(
        student,
        model,
        ref,
        X,
        "lenet5(input_shape=(28, 28, 3), classes=5)",
        "use Input(input_shape) and Dense(classes, ...).",
        training=False,
    )
    outputs_case(student, reference, arch, tolerances, rng, (28, 28, 3), 5, built=(model, ref))


@pytest.mark.share(1)
def test_outputs_are_probabilities(student, rng):
    """With its own initial weights, each output row is a probability distribution (a softmax at the end)."""
    model = student.call("lenet5", input_shape=(32, 32, 1), classes=7).value
    X = rng.standard_normal((3, 32, 32, 1)).astype(np.float32)
    p = checks.shape(keras_outputs.call_layer(student, model, X, "lenet5(...)(X)"), (3, 7), "lenet5(classes=7)(X)")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise checks.Mismatch("The outputs of your LeNet-5 are not probabilities (non-negative, each row summing to 1).",
                              "end with Dense(classes, activation='softmax').")  # fmt: skip
