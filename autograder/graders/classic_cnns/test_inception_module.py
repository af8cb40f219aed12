"""inception_module(X, f1, f3_reduce, f3, f5_reduce, f5, pool_proj) -> tensor: four branches, concatenated.

Built in a keras.Model from a symbolic Input in the sandbox, measured by the grader (the
weights it writes and reads back, in any order: the branches may be built in any order,
and the shape of the output it receives: ``arch.check``), then given the same weights to
compare outputs, which pins the order of the concatenation (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

HINT = ("branches: Conv2D(f1, 1x1); Conv2D(f3_reduce, 1x1) -> Conv2D(f3, 3x3); Conv2D(f5_reduce, 1x1) -> "
        "Conv2D(f5, 5x5); MaxPooling2D(3x3, strides=1, 'same') -> Conv2D(pool_proj, 1x1). Every convolution "
        "'same' with a ReLU; Concatenate(axis=-1) in that order.")  # fmt: skip
SMALL = {"f1": 3, "f3_reduce": 4, "f3": 5, "f5_reduce": 2, "f5": 6, "pool_proj": 7}  # all different
INCEPTION_3A = {"f1": 64, "f3_reduce": 96, "f3": 128, "f5_reduce": 16, "f5": 32, "pool_proj": 32}


def block(student, reference, input_shape, filters):
    return (keras_outputs.block_model(student, "inception_module", input_shape, **filters),
            keras_outputs.reference_block_model(reference, "inception_module", input_shape, **filters))  # fmt: skip


def text(filters):
    return "inception_module(X, " + ", ".join(str(v) for v in filters.values()) + ")"


def outputs_case(student, reference, tolerances, rng, input_shape, filters):
    model, ref = block(student, reference, input_shape, filters)
    X = 2 * rng.standard_normal((2, *input_shape)).astype(np.float32)
    what = f"the output of {text(filters)} with the reference's weights"
    actual, expected = keras_outputs.same_weights_outputs(student, model, ref, X, what)
    checks.close(actual, expected, what, hint=HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_output_shape(student, reference, arch):
    """With inception (3a)'s numbers on a 28x28x192 input, the output is 28x28x256."""
    model, ref = block(student, reference, (28, 28, 192), INCEPTION_3A)
    arch.output_shape(
        student,
        model,
        ref,
        (28, 28, 192),
        f"{text(INCEPTION_3A)} on a 28x28x192 input",
        "every branch keeps 28x28, and the channels add up; " + HINT,
    )


@pytest.mark.share(1)
def test_parameter_count(student, reference, arch, rng):
    """Inception (3a) on 192 channels has 163,696 parameters."""
    model, ref = block(student, reference, (28, 28, 192), INCEPTION_3A)
    arch.count(
        student, model, ref, rng.standard_normal((1, 28, 28, 192)).astype(np.float32), "Your inception (3a)", HINT
    )


@pytest.mark.share(2)
def test_layers(student, reference, arch, rng):
    """inception_module(X, 3, 4, 5, 2, 6, 7) on a 7x6x5 input: the six convolutions and the pooling, with their shapes."""
    model, ref = block(student, reference, (7, 6, 5), SMALL)
    what = f"{text(SMALL)} on a 7x6x5 input"
    arch.check(student, model, ref, rng.standard_normal((2, 7, 6, 5)).astype(np.float32), what, HINT, chain=False)


@pytest.mark.share(3)
def test_same_weights_outputs(student, reference, tolerances, rng):
    """Given the reference's weights, the reference's outputs: ReLUs, and the branches concatenated in order."""
    outputs_case(student, reference, tolerances, rng, (7, 6, 5), SMALL)


@pytest.mark.share(2)
def test_other_sizes(student, reference, tolerances, rng):
    """inception_module(X, 2, 3, 4, 1, 5, 6) on a 9x7x6 input: the reference's outputs."""
    outputs_case(student, reference, tolerances, rng, (9, 7, 6),
                 {"f1": 2, "f3_reduce": 3, "f3": 4, "f5_reduce": 1, "f5": 5, "pool_proj": 6})  # fmt: skip


@pytest.mark.share(1)
def test_output_is_non_negative(student, rng):
    """With its own initial weights, the output has no negative entry (every branch ends with a ReLU)."""
    X = rng.standard_normal((2, 5, 5, 4)).astype(np.float32)
    value = student.call("inception_module", X, 2, 2, 3, 1, 2, 2).value
    out = checks.shape(checks.floating(value, "inception_module(X, 2, 2, 3, 1, 2, 2)"), (2, 5, 5, 9),
                       "inception_module(X, 2, 2, 3, 1, 2, 2) on a (2, 5, 5, 4) array", HINT)  # fmt: skip
    if (out < 0).any():
        raise checks.Mismatch("The output has negative entries: every convolution, including the pooling branch's "
                              "projection, is followed by a ReLU.", HINT)  # fmt: skip
