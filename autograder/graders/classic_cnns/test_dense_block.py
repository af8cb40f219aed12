"""dense_block(X, num_layers, growth_rate) -> tensor: DenseNet-BC bottleneck layers, each concatenated to its input.

Built in a keras.Model from a symbolic Input in the sandbox, measured by the grader (the
weights it writes and reads back, in any order, and the shape of the output it receives:
``arch.check``), then given the same weights to compare outputs in inference mode and in
training mode (batch norm on the batch's statistics), see conftest.py.
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_architecture, keras_outputs

HINT = ("each layer: Y = BatchNormalization()(X) -> ReLU -> Conv2D(4 * growth_rate, 1x1, use_bias=False) -> "
        "BatchNormalization() -> ReLU -> Conv2D(growth_rate, 3x3, 'same', use_bias=False); then "
        "X = Concatenate()([X, Y]).")  # fmt: skip
TRAINING_HINT = ("let the model pass `training` to the batch norms (don't call them with training=False or True); "
                 + HINT)  # fmt: skip


def block(student, reference, input_shape, num_layers, growth_rate):
    kwargs = {"num_layers": num_layers, "growth_rate": growth_rate}
    return (keras_outputs.block_model(student, "dense_block", input_shape, **kwargs),
            keras_outputs.reference_block_model(reference, "dense_block", input_shape, **kwargs))  # fmt: skip


def outputs_case(student, reference, tolerances, rng, input_shape, num_layers, growth_rate, training):
    model, ref = block(student, reference, input_shape, num_layers, growth_rate)
    X = (1 + 2 * rng.standard_normal((4, *input_shape))).astype(np.float32)
    what = (
        f"the output of dense_block(X, {num_layers}, {growth_rate}) (training={training}) with the reference's weights"
    )
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what, training=training)
    checks.close(actual, expected, what, hint=TRAINING_HINT if training else HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_output_shape(student, reference, arch):
    """dense_block(X, 3, 4) on an 8x8x16 input outputs 16 + 3 * 4 = 28 channels, and keeps the height and width."""
    model, ref = block(student, reference, (8, 8, 16), 3, 4)
    arch.output_shape(student, model, ref, (8, 8, 16), "dense_block(X, 3, 4) on an 8x8x16 input", HINT)


@pytest.mark.share(2)
def test_layers(student, reference, arch, rng):
    """dense_block(X, 2, 3) on a 6x6x5 input: per layer, two batch norms, a 1x1 convolution to 12 channels and a 3x3 one to 3, without biases."""
    model, ref = block(student, reference, (6, 6, 5), 2, 3)
    arch.check(
        student,
        model,
        ref,
        rng.standard_normal((2, 6, 6, 5)).astype(np.float32),
        "dense_block(X, 2, 3) on a 6x6x5 input",
        HINT,
        chain=False,
    )


@pytest.mark.share(2)
def test_same_weights_inference(student, reference, tolerances, rng):
    """Given the reference's weights, the reference's outputs in inference mode (batch norm on its running averages)."""
    outputs_case(student, reference, tolerances, rng, (6, 6, 5), 2, 3, training=False)


@pytest.mark.share(2)
def test_same_weights_training(student, reference, tolerances, rng):
    """Given the reference's weights, the reference's outputs in training mode (batch norm on the batch's statistics)."""
    outputs_case(student, reference, tolerances, rng, (6, 6, 5), 2, 3, training=True)


@pytest.mark.share(1)
def test_bottleneck_width(student, reference, rng):
    """The 1x1 bottleneck convolution has 4 * growth_rate filters (20 for growth_rate 5)."""
    model, _ = block(student, reference, (4, 4, 6), 1, 5)
    what = "dense_block(X, 1, 5)"
    got = keras_architecture.measure(student, model, rng.standard_normal((2, 4, 4, 6)).astype(np.float32), what)
    one_by_one = [s[3] for s in got.shapes if len(s) == 4 and s[:2] == (1, 1)]
    if one_by_one != [20] or not got.weights_used:
        keras_architecture.describe_differences(student, model, got, what, HINT, None, lambda: _bottleneck(one_by_one))


def _bottleneck(filters):
    raise checks.Mismatch(f"dense_block(X, 1, 5) has 1x1 convolutions with {filters or 'no'} filters (in the weights "
                          "the grader wrote and read back); the bottleneck has 4 * growth_rate = 20.", HINT)  # fmt: skip


@pytest.mark.share(1)
def test_input_comes_first(student, reference, rng):
    """With its own initial weights, the first n_C channels of the output are the input itself (Concatenate()([X, Y]))."""
    model, _ = block(student, reference, (5, 5, 3), 2, 2)
    X = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    out = checks.shape(keras_outputs.call_layer(student, model, X, "dense_block(X, 2, 2)(X)"), (2, 5, 5, 7),
                       "dense_block(X, 2, 2) on a (2, 5, 5, 3) input", HINT)  # fmt: skip
    checks.close(out[..., :3], X, "the first 3 channels of dense_block(X, 2, 2)", rtol=0, atol=1e-6,
                 hint="concatenate the input first and the new channels after it: Concatenate()([X, Y]).")  # fmt: skip


@pytest.mark.share(1)
def test_one_layer_non_square(student, reference, tolerances, rng):
    """dense_block(X, 1, 2) on a 5x7x3 input, training=True: the reference's outputs."""
    outputs_case(student, reference, tolerances, rng, (5, 7, 3), 1, 2, training=True)
