"""identity_block(X, f, filters, training=True, initializer=random_uniform) -> output tensor.

Called eagerly on arrays (with a given initializer) and inside a keras.Model built from
a symbolic Input (with the same weights as the reference); see autograder/kit/keras_outputs.py.
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_architecture, keras_outputs

ORDER_HINT = ("main path: 1x1 valid conv -> BN -> ReLU -> f x f same conv -> BN -> ReLU -> 1x1 valid conv -> BN; "
              "then Add()([X, X_shortcut]) and only then the ReLU.")  # fmt: skip
TRAINING_HINT = "call every batch norm as BatchNormalization(axis=3)(X, training=training)."


def published_input():
    """Three 4x4x3 images filled with -1, 1 and 3 (as in the notebook)."""
    return np.concatenate([np.full((1, 4, 4, 3), v, dtype=np.float32) for v in (-1, 1, 3)])


def eager(student, reference, tolerances, X, initializer_ref, initializer, what, hint, **kwargs):
    value = student.call("identity_block", X, initializer=initializer_ref, **kwargs).value
    expected = np.asarray(reference.identity_block(X, initializer=initializer, **kwargs))
    actual = checks.floating(value, what)
    checks.shape(actual, expected.shape, what, hint="the block keeps the input's shape (F3 = the input's channels).")
    checks.close(actual, expected, what, hint=hint, **tolerances.large_values)


@pytest.mark.share(3)
def test_published_values_inference(student, reference, tolerances):
    """With constant kernels and training=False: the notebook's example values (every entry)."""
    from resnets_utils import constant_initializer

    ones = student.call("constant_initializer", 1).value
    eager(student, reference, tolerances, published_input(), ones, constant_initializer(1),
          "identity_block(X, f=2, filters=[4, 4, 3], training=False)", ORDER_HINT, f=2, filters=[4, 4, 3], training=False)  # fmt: skip


@pytest.mark.share(3)
def test_published_values_training(student, reference, tolerances):
    """With constant kernels and training=True: batch norm uses the batch's statistics."""
    from resnets_utils import constant_initializer

    ones = student.call("constant_initializer", 1).value
    eager(student, reference, tolerances, published_input(), ones, constant_initializer(1),
          "identity_block(X, f=2, filters=[4, 4, 3], training=True)", TRAINING_HINT, f=2, filters=[4, 4, 3], training=True)  # fmt: skip


@pytest.mark.share(3)
def test_architecture(student, reference, rng):
    """Three Conv2D (1x1 valid, f x f same, 1x1 valid) and three BatchNormalization with the right shapes."""
    kwargs = {"f": 3, "filters": [2, 4, 3], "training": False}
    model = keras_outputs.block_model(student, "identity_block", (5, 6, 3), **kwargs)
    ref = keras_outputs.reference_block_model(reference, "identity_block", (5, 6, 3), **kwargs)
    X = rng.standard_normal((2, 5, 6, 3)).astype(np.float32)
    keras_architecture.architecture_matches(
        student, model, ref, X, "identity_block(X, f=3, filters=[2, 4, 3]) on a 5x6x3 input", ORDER_HINT, chain=False
    )


def same_weights_case(student, reference, tolerances, rng, training):
    hint = ORDER_HINT if not training else TRAINING_HINT
    keras_outputs.block_matches_reference(
        student,
        reference,
        rng,
        "identity_block",
        (6, 6, 5),
        hint,
        f=3,
        filters=[3, 4, 5],
        training=training,
        tol=tolerances.float32,
    )


@pytest.mark.share(3)
def test_same_weights_inference(student, reference, tolerances, rng):
    """Built in a model with training=False and given the reference's weights: the same outputs."""
    same_weights_case(student, reference, tolerances, rng, training=False)


@pytest.mark.share(3)
def test_same_weights_training(student, reference, tolerances, rng):
    """Built in a model with training=True and given the reference's weights: the same outputs."""
    same_weights_case(student, reference, tolerances, rng, training=True)


@pytest.mark.share(2)
def test_uses_the_initializer(student, reference, tolerances, rng):
    """Every convolution's kernel comes from initializer(seed=0) (random_uniform here)."""
    import keras

    X = rng.standard_normal((2, 5, 5, 4)).astype(np.float32)
    eager(student, reference, tolerances, X, student.ref("random_uniform"), keras.initializers.random_uniform,
          "identity_block(X, f=3, filters=[2, 3, 4], initializer=random_uniform)",
          "pass kernel_initializer=initializer(seed=0) to each Conv2D.", f=3, filters=[2, 3, 4], training=False)  # fmt: skip


@pytest.mark.share(2)
def test_non_square_odd_sizes_training(student, reference, tolerances, rng):
    """A 7x5 input, f=3, glorot_uniform kernels, training=True."""
    import keras

    X = rng.standard_normal((3, 7, 5, 3)).astype(np.float32)
    eager(student, reference, tolerances, X, student.ref("glorot_uniform"), keras.initializers.glorot_uniform,
          "identity_block(X, f=3, filters=[3, 2, 3]) on 7x5 images", ORDER_HINT, f=3, filters=[3, 2, 3], training=True)  # fmt: skip


@pytest.mark.share(1)
def test_single_image_keeps_its_shape(student, rng):
    """A batch of one 3x3x6 image comes back with shape (1, 3, 3, 6), all entries >= 0 (the final ReLU)."""
    X = rng.standard_normal((1, 3, 3, 6)).astype(np.float32)
    value = student.call("identity_block", X, f=1, filters=[2, 2, 6], training=False).value
    A = checks.shape(checks.floating(value, "the output"), (1, 3, 3, 6), "identity_block(X, f=1, filters=[2, 2, 6])")
    if (A < 0).any():
        raise checks.Mismatch("The block's output has negative entries: it should end with a ReLU, after the addition.")
