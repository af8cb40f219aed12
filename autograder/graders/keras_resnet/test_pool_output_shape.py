"""pool_output_shape(input_shape, pool_size, strides, padding) -> NHWC output shape.

Expected shapes come from real Keras MaxPooling2D layers, built here in the grader.
"""

import pytest

from autograder.kit import checks

HINT = "strides=None means strides = pool_size; 'valid': (n - f) // s + 1; 'same': ceil(n / s); channels unchanged."


def keras_shape(input_shape, pool_size, strides, padding):
    from keras import layers

    layer = layers.MaxPooling2D(pool_size, strides=strides, padding=padding)
    return tuple(layer.compute_output_shape(input_shape))


def check(student, cases):
    for args in cases:
        value = student.call("pool_output_shape", *args).value
        call = f"pool_output_shape{args!r}"
        if not isinstance(value, tuple):
            raise checks.Mismatch(f"{call} should return a tuple, but it returned {checks.describe_type(value)}.")
        if len(value) != 4:
            raise checks.Mismatch(f"{call} returned {len(value)} numbers; return (batch, n_H, n_W, n_C).")
        if value != keras_shape(*args):
            raise checks.Mismatch(f"{call} returned {value}, which is not the shape Keras's MaxPooling2D gives.", HINT)


@pytest.mark.share(1)
def test_default_strides(student):
    """strides=None: the window moves by its own size (odd and even images)."""
    check(student, [((None, 9, 9, 4), 2, None, "valid"), ((None, 10, 10, 3), 3, None, "valid"),
                    ((None, 9, 9, 2), 2, None, "same")])  # fmt: skip


@pytest.mark.share(1)
def test_valid_padding(student):
    """'valid' padding with explicit strides 1 and 2."""
    check(student, [((None, 15, 15, 8), 3, 2, "valid"), ((None, 8, 8, 2), 3, 1, "valid"),
                    ((None, 32, 32, 5), 3, 2, "valid")])  # fmt: skip


@pytest.mark.share(1)
def test_same_padding(student):
    """'same' padding with strides 1, 2 and 3."""
    check(student, [((None, 15, 15, 8), 3, 2, "same"), ((None, 8, 8, 2), 2, 1, "same"),
                    ((None, 13, 13, 1), 2, 3, "same")])  # fmt: skip


@pytest.mark.share(1)
def test_non_square_pairs(student):
    """Non-square images with (height, width) pairs for pool_size and strides."""
    check(student, [((None, 11, 8, 3), (3, 2), (2, 3), "valid"), ((None, 11, 8, 3), (2, 3), None, "valid"),
                    ((None, 7, 15, 4), (1, 3), (3, 2), "same")])  # fmt: skip


@pytest.mark.share(1)
def test_batch_and_channels_kept(student):
    """The batch dimension comes back as given, and the channels are unchanged."""
    check(student, [((4, 6, 6, 7), 2, None, "valid"), ((1, 9, 5, 2), 3, 3, "same"), ((None, 6, 6, 1), 1, 1, "valid")])
