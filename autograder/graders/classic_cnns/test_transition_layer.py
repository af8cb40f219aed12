"""transition_layer(X, compression=0.5) -> tensor: BN -> ReLU -> 1x1 convolution (no bias) -> 2x2 average pooling.

Built in a keras.Model from a symbolic Input in the sandbox, measured by the grader (the
weights it writes and reads back, the shape of the output it receives: ``arch.check``),
then given the same weights as the reference's to compare outputs in both modes.
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

HINT = ("BatchNormalization() -> ReLU -> Conv2D(int(compression * n_C), (1, 1), use_bias=False) -> "
        "AveragePooling2D((2, 2), strides=(2, 2)).")  # fmt: skip


def block(student, reference, input_shape, **kwargs):
    return (keras_outputs.block_model(student, "transition_layer", input_shape, **kwargs),
            keras_outputs.reference_block_model(reference, "transition_layer", input_shape, **kwargs))  # fmt: skip


def outputs_case(student, reference, tolerances, rng, input_shape, training, built=None, **kwargs):
    model, ref = built or block(student, reference, input_shape, **kwargs)
    X = (1 + 2 * rng.standard_normal((4, *input_shape))).astype(np.float32)
    what = f"the output of transition_layer(X) (training={training}) with the reference's weights"
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what, training=training)
    checks.close(actual, expected, what, hint=HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_output_shape(student, reference, arch):
    """transition_layer(X) maps 8x8x28 to 4x4x14, and 9x7x10 to 4x3x5."""
    for input_shape in ((8, 8, 28), (9, 7, 10)):
        model, ref = block(student, reference, input_shape)
        arch.output_shape(student, model, ref, input_shape, f"transition_layer(X) on a {input_shape} input", HINT)


@pytest.mark.share(1)
def test_layers(student, reference, arch, rng):
    """On a 6x6x12 input: batch norm, a 1x1 convolution to 6 channels without bias, and 2x2 average pooling, in order."""
    model, ref = block(student, reference, (6, 6, 12))
    arch.check(
        student,
        model,
        ref,
        rng.standard_normal((2, 6, 6, 12)).astype(np.float32),
        "transition_layer(X) on a 6x6x12 input",
        HINT,
    )


@pytest.mark.share(1)
def test_same_weights_inference(student, reference, tolerances, rng):
    """Given the reference's weights, the reference's outputs in inference mode."""
    outputs_case(student, reference, tolerances, rng, (6, 6, 8), training=False)


@pytest.mark.share(1)
def test_same_weights_training(student, reference, tolerances, rng):
    """Given the reference's weights, the reference's outputs in training mode (batch norm on the batch's statistics)."""
    outputs_case(student, reference, tolerances, rng, (6, 6, 8), training=True)


@pytest.mark.share(2)
def test_compression(student, reference, arch, tolerances, rng):
    """compression=0.25 on 30 channels keeps int(7.5) = 7, compression=1.0 keeps all 6: layers and outputs."""
    for input_shape, compression in (((4, 4, 30), 0.25), ((4, 6, 6), 1.0)):
        model, ref = block(student, reference, input_shape, compression=compression)
        what = f"transition_layer(X, compression={compression}) on a {input_shape} input"
        arch.check(
            student,
            model,
            ref,
            rng.standard_normal((2, *input_shape)).astype(np.float32),
            what,
            "the convolution has int(compression * n_C) filters.",
        )
        outputs_case(
            student,
            reference,
            tolerances,
            rng,
            input_shape,
            training=True,
            built=(model, ref),
            compression=compression,
        )
