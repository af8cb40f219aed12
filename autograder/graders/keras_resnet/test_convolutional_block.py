"""convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform) -> output tensor.

Called eagerly on arrays (with a given initializer) and inside a keras.Model built from
a symbolic Input (with the same weights as the reference); see autograder/kit/keras_outputs.py.
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_architecture, keras_outputs

ORDER_HINT = ("main path: 1x1 conv with stride s (valid) -> BN -> ReLU -> f x f same conv -> BN -> ReLU -> 1x1 valid "
              "conv -> BN; shortcut: 1x1 conv with stride s (valid) -> BN; add them, then the ReLU.")  # fmt: skip
TRAINING_HINT = "call every batch norm, the shortcut's too, with training=training."
STRIDE_HINT = "only the first 1x1 convolution of the main path and the shortcut convolution have stride s."


def published_input():
    return np.concatenate([np.full((1, 4, 4, 3), v, dtype=np.float32) for v in (-1, 1, 3)])


def eager(student, reference, tolerances, X, what, hint, initializer_ref=None, initializer=None, **kwargs):
    extra, ref_extra = {}, {}
    if initializer_ref is not None:
        extra, ref_extra = {"initializer": initializer_ref}, {"initializer": initializer}
    value = student.call("convolutional_block", X, **extra, **kwargs).value
    expected = np.asarray(reference.convolutional_block(X, **ref_extra, **kwargs))
    actual = checks.floating(value, what)
    checks.shape(actual, expected.shape, what, hint=STRIDE_HINT)
    checks.close(actual, expected, what, hint=hint, **tolerances.float32)


@pytest.mark.share(3)
def test_published_values_inference(student, reference, tolerances):
    """The notebook's example (f=2, filters=[2, 4, 6], s=2, default initializer), training=False."""
    eager(student, reference, tolerances, published_input(), "convolutional_block(X, f=2, filters=[2, 4, 6], training=False)",
          ORDER_HINT, f=2, filters=[2, 4, 6], training=False)  # fmt: skip


@pytest.mark.share(3)
def test_published_values_training(student, reference, tolerances):
    """The notebook's example with training=True: batch norm uses the batch's statistics."""
    eager(student, reference, tolerances, published_input(), "convolutional_block(X, f=2, filters=[2, 4, 6], training=True)",
          TRAINING_HINT, f=2, filters=[2, 4, 6], training=True)  # fmt: skip


@pytest.mark.share(3)
def test_architecture(student, reference, rng):
    """Four Conv2D (three on the main path, one on the shortcut) and four BatchNormalization, with the right strides."""
    kwargs = {"f": 3, "filters": [2, 4, 5], "s": 3, "training": False}
    model = keras_outputs.block_model(student, "convolutional_block", (6, 7, 3), **kwargs)
    ref = keras_outputs.reference_block_model(reference, "convolutional_block", (6, 7, 3), **kwargs)
    X = rng.standard_normal((2, 6, 7, 3)).astype(np.float32)
    keras_architecture.architecture_matches(
        student,
        model,
        ref,
        X,
        "convolutional_block(X, f=3, filters=[2, 4, 5], s=3) on a 6x7x3 input",
        ORDER_HINT,
        chain=False,
    )


def same_weights_case(student, reference, tolerances, rng, training):
    hint = ORDER_HINT if not training else TRAINING_HINT
    keras_outputs.block_matches_reference(
        student,
        reference,
        rng,
        "convolutional_block",
        (7, 7, 4),
        hint,
        f=3,
        filters=[3, 5, 6],
        s=2,
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
def test_stride_1(student, reference, tolerances, rng):
    """s=1 (as in ResNet50's stage 2): same height and width, more channels."""
    X = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    eager(student, reference, tolerances, X, "convolutional_block(X, f=3, filters=[2, 3, 4], s=1)", ORDER_HINT,
          f=3, filters=[2, 3, 4], s=1, training=False)  # fmt: skip


@pytest.mark.share(2)
def test_stride_3_odd_sizes(student, reference, tolerances, rng):
    """s=3 on 8x7 images: the strided 1x1 convolutions round the size down ('valid')."""
    X = rng.standard_normal((2, 8, 7, 2)).astype(np.float32)
    eager(student, reference, tolerances, X, "convolutional_block(X, f=2, filters=[3, 2, 4], s=3) on 8x7 images", STRIDE_HINT,
          f=2, filters=[3, 2, 4], s=3, training=True)  # fmt: skip


@pytest.mark.share(1)
def test_uses_the_initializer(student, reference, tolerances, rng):
    """Every convolution, the shortcut's too, takes its kernel from initializer(seed=0)."""
    import keras

    X = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    eager(student, reference, tolerances, X, "convolutional_block(X, f=3, filters=[2, 3, 4], initializer=random_uniform)",
          "pass kernel_initializer=initializer(seed=0) to every Conv2D.", student.ref("random_uniform"),
          keras.initializers.random_uniform, f=3, filters=[2, 3, 4], s=2, training=False)  # fmt: skip
