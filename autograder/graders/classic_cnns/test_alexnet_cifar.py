"""alexnet_cifar(input_shape=(32, 32, 3), classes=10) -> keras.Model: a CIFAR-sized AlexNet.

Built in the sandbox and measured by the grader (the weights it writes and reads back, the
shape of the output it receives: ``arch.check``), then given the same weights as the
reference to compare its probabilities (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

HINT = ("Conv2D(64, 5x5, 'valid', ReLU) -> MaxPooling2D(3x3, stride 2) -> Conv2D(64, 5x5, 'same', ReLU) -> "
        "MaxPooling2D(3x3, stride 2) -> Flatten -> Dense(384, ReLU) -> Dense(192, ReLU) -> Dense(classes, softmax).")  # fmt: skip
OUTPUT_HINT = "a ReLU after both convolutions and the two hidden dense layers, a softmax at the end."


def build(student, reference, arch, input_shape, classes):
    value = student.call("alexnet_cifar", input_shape=input_shape, classes=classes).value
    return arch.model_of(value, "alexnet_cifar"), reference.alexnet_cifar(input_shape=input_shape, classes=classes)


def outputs_case(student, reference, arch, tolerances, rng, input_shape, classes, built=None):
    model, ref = built or build(student, reference, arch, input_shape, classes)
    X = 2 * rng.standard_normal((3, *input_shape)).astype(np.float32)
    what = (
        f"the probabilities of alexnet_cifar(input_shape={input_shape}, classes={classes}) with the reference's weights"
    )
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what, training=False)
    checks.close(actual, expected, what, hint=OUTPUT_HINT, **tolerances.float32)


@pytest.mark.share(2)
def test_architecture(student, reference, arch, rng):
    """The default network, as the grader measures it: the shapes of its weights, of its output, and outputs that follow its weights."""
    model, ref = build(student, reference, arch, (32, 32, 3), 10)
    X = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    arch.check(student, model, ref, X, "Your AlexNet", HINT, training=False)


@pytest.mark.share(1)
def test_parameter_count(student, reference, arch, rng):
    """alexnet_cifar() has 1,068,298 parameters (counted in the weights the grader writes and reads back)."""
    model = arch.model_of(student.call("alexnet_cifar").value, "alexnet_cifar")
    X = rng.standard_normal((1, 32, 32, 3)).astype(np.float32)
    arch.count(student, model, reference.alexnet_cifar(), X, "alexnet_cifar()", HINT, training=False)


@pytest.mark.share(2)
def test_same_weights_outputs(student, reference, arch, tolerances, rng):
    """Given the reference's weights, the reference's probabilities for a batch of 32x32x3 images."""
    outputs_case(student, reference, arch, tolerances, rng, (32, 32, 3), 10)


@pytest.mark.share(2)
def test_other_input_and_classes(student, reference, arch, tolerances, rng):
    """alexnet_cifar(input_shape=(40, 36, 1), classes=7): the layers follow the arguments, and so do the outputs."""
    model, ref = build(student, reference, arch, (40, 36, 1), 7)
    what = "alexnet_cifar(input_shape=(40, 36, 1), classes=7)"
    X = rng.standard_normal((2, 40, 36, 1)).astype(np.float32)
    arch.check(student, model, ref, X, what, "use Input(input_shape) and Dense(classes, ...); " + HINT, training=False)
    outputs_case(student, reference, arch, tolerances, rng, (40, 36, 1), 7, built=(model, ref))


@pytest.mark.share(1)
def test_outputs_are_probabilities(student, rng):
    """With its own initial weights, each output row is a probability distribution (a softmax at the end)."""
    model = student.call("alexnet_cifar", classes=4).value
    X = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    p = checks.shape(keras_outputs.call_layer(student, model, X, "alexnet_cifar(...)(X)"), (2, 4),
                     "alexnet_cifar(classes=4)(X)")  # fmt: skip
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise checks.Mismatch("The outputs of your AlexNet are not probabilities (non-negative, each row summing to 1).",
                              "end with Dense(classes, activation='softmax').")  # fmt: skip
