"""vgg_block(X, num_convs, filters) -> tensor: num_convs 3x3 'same' ReLU convolutions, then a 2x2 max pooling.

Built in a keras.Model from a symbolic Input in the sandbox, measured by the grader (the
weights it writes and reads back, the shape of the output it receives: ``arch.check``),
then given the same weights as the reference's to compare outputs (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

HINT = ("num_convs times Conv2D(filters, (3, 3), padding='same', activation='relu'), then one "
        "MaxPooling2D((2, 2), strides=(2, 2)) after the last convolution.")  # fmt: skip


def block(student, reference, input_shape, num_convs, filters):
    kwargs = {"num_convs": num_convs, "filters": filters}
    return (keras_outputs.block_model(student, "vgg_block", input_shape, **kwargs),
            keras_outputs.reference_block_model(reference, "vgg_block", input_shape, **kwargs))  # fmt: skip


def compare_layers(student, reference, arch, rng, input_shape, num_convs, filters):
    model, ref = block(student, reference, input_shape, num_convs, filters)
    what = f"vgg_block(X, {num_convs}, {filters}) on a {'x'.join(map(str, input_shape))} input"
    arch.check(student, model, ref, rng.standard_normal((2, *input_shape)).astype(np.float32), what, HINT)
    return model, ref


def outputs_case(student, reference, tolerances, rng, input_shape, num_convs, filters, built=None):
    model, ref = built or block(student, reference, input_shape, num_convs, filters)
    X = 2 * rng.standard_normal((3, *input_shape)).astype(np.float32)
    what = f"the output of vgg_block(X, {num_convs}, {filters}) with the reference's weights"
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what, training=False)
    checks.close(actual, expected, what, hint=HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_output_shape(student, reference, arch):
    """On 16x16x3 and 15x13x2 inputs, the block halves the height and width (rounding down) and has `filters` channels."""
    for input_shape, num_convs, filters in (((16, 16, 3), 2, 8), ((15, 13, 2), 1, 5)):
        model, ref = block(student, reference, input_shape, num_convs, filters)
        arch.output_shape(student, model, ref, input_shape, f"vgg_block(X, {num_convs}, {filters}) on a {input_shape} "
                          "input", HINT)  # fmt: skip


@pytest.mark.share(2)
def test_layers(student, reference, arch, rng):
    """vgg_block(X, 3, 5) on a 12x10x4 input: three 3x3 'same' convolutions, then a 2x2 max pooling with stride 2."""
    compare_layers(student, reference, arch, rng, (12, 10, 4), 3, 5)


@pytest.mark.share(2)
def test_same_weights_outputs(student, reference, tolerances, rng):
    """Given the reference's weights, vgg_block(X, 2, 6) computes the reference's outputs (with every ReLU)."""
    outputs_case(student, reference, tolerances, rng, (8, 8, 3), 2, 6)


@pytest.mark.share(1)
def test_one_convolution(student, reference, arch, tolerances, rng):
    """num_convs=1: one convolution and the pooling, with the reference's outputs."""
    built = compare_layers(student, reference, arch, rng, (6, 6, 2), 1, 4)
    outputs_case(student, reference, tolerances, rng, (6, 6, 2), 1, 4, built)


@pytest.mark.share(1)
def test_odd_sizes(student, reference, arch, tolerances, rng):
    """A 7x9x3 input (odd height and width) with num_convs=2: layers and outputs."""
    built = compare_layers(student, reference, arch, rng, (7, 9, 3), 2, 3)
    outputs_case(student, reference, tolerances, rng, (7, 9, 3), 2, 3, built)


@pytest.mark.share(1)
def test_parameter_count(student, reference, arch, rng):
    """vgg_block(X, 4, 6) on a 10x10x3 input: 3*3*3*6 + 6 + 3 * (3*3*6*6 + 6) parameters."""
    model, ref = block(student, reference, (10, 10, 3), 4, 6)
    arch.count(
        student,
        model,
        ref,
        rng.standard_normal((2, 10, 10, 3)).astype(np.float32),
        "vgg_block(X, 4, 6) on a 3-channel input",
        HINT,
    )
