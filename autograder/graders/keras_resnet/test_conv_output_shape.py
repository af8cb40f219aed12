"""conv_output_shape(input_shape, filters, kernel_size, strides, padding) -> NHWC output shape.

Expected shapes come from real Keras Conv2D layers, built here in the grader.
"""

import pytest

from autograder.kit import checks

HINT = "'valid': (n - f) // s + 1; 'same': ceil(n / s), whatever f is; the channels are `filters`."


def keras_shape(input_shape, filters, kernel_size, strides, padding):
    from keras import layers

    layer = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    return tuple(layer.compute_output_shape(input_shape))


def check(student, cases):
    for args in cases:
        value = student.call("conv_output_shape", *args).value
        call = f"conv_output_shape{args!r}"
        if not isinstance(value, tuple):
            raise checks.Mismatch(f"{call} should return a tuple, but it returned {checks.describe_type(value)}.")
        if len(value) != 4:
            raise checks.Mismatch(f"{call} returned {len(value)} numbers; return (batch, n_H, n_W, n_C).")
        if value != keras_shape(*args):
            raise checks.Mismatch(f"{call} returned {value}, which is not the shape Keras's Conv2D gives.", HINT)


@pytest.mark.share(1)
def test_same_padding(student):
    """'same' padding at stride 1 and 2, odd and even sizes."""
    check(student, [((None, 9, 9, 3), 4, 3, 1, "same"), ((None, 10, 10, 2), 5, 3, 2, "same"),
                    ((None, 11, 11, 1), 3, 4, 2, "same")])  # fmt: skip


@pytest.mark.share(1)
def test_valid_padding(student):
    """'valid' padding at stride 1 and 2, odd and even sizes."""
    check(student, [((None, 9, 9, 3), 4, 3, 1, "valid"), ((None, 10, 10, 2), 5, 3, 2, "valid"),
                    ((None, 12, 12, 2), 6, 1, 2, "valid")])  # fmt: skip


@pytest.mark.share(1)
def test_stride_3(student):
    """Stride 3 with both paddings, where the division doesn't come out even."""
    check(student, [((None, 13, 13, 2), 3, 2, 3, "same"), ((None, 13, 13, 2), 3, 2, 3, "valid"),
                    ((None, 14, 14, 1), 2, 3, 3, "valid"), ((None, 16, 16, 1), 2, 5, 3, "same")])  # fmt: skip


@pytest.mark.share(1)
def test_non_square_pairs(student):
    """Non-square images with (height, width) pairs for kernel_size and strides."""
    check(student, [((None, 11, 8, 3), 2, (3, 1), (2, 3), "valid"), ((None, 11, 8, 3), 2, (1, 3), (3, 2), "same"),
                    ((None, 7, 15, 4), 7, (2, 5), (1, 2), "valid")])  # fmt: skip


@pytest.mark.share(1)
def test_batch_size_is_kept(student):
    """The batch dimension comes back exactly as given: an int, or None."""
    check(
        student,
        [((5, 9, 9, 3), 2, 3, 2, "same"), ((1, 8, 6, 2), 3, 2, 1, "valid"), ((None, 6, 6, 1), 1, 1, 1, "valid")],
    )
