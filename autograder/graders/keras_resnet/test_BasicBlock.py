"""BasicBlock(filter_num, stride=1): a keras.layers.Layer; block(x, training=...) -> tensor.

Built and called in the sandbox on arrays; its layers are measured from the weights the
grader writes and reads back (their shapes, in any order), and it is given the same
weights as the reference to compare outputs (see autograder/kit/keras_architecture.py and keras_outputs.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_architecture, keras_outputs

HINT = ("conv1: Conv2D(F, 3x3, stride, 'same') -> bn1 -> ReLU -> conv2: Conv2D(F, 3x3, 1, 'same') -> bn2; "
        "shortcut: the input if stride == 1, else Conv2D(F, 1x1, stride) -> BN; add, then ReLU.")  # fmt: skip
TRAINING_HINT = "pass training on to every batch norm (or let Keras do it: don't force training=False/True)."


def pair(student, reference, filter_num, stride, X, training):
    """(student output, reference output), both blocks built on X and given the same weights."""
    what = f"BasicBlock({filter_num}, stride={stride})(x, training={training}) with the reference's weights"
    block = student.call("BasicBlock", filter_num, stride=stride).value
    keras_outputs.call_layer(
        student, block, X, f"BasicBlock({filter_num}, stride={stride})(x)", training=False
    )  # builds it
    ref = reference.BasicBlock(filter_num, stride=stride)
    ref(X, training=False)
    actual, expected = keras_outputs.same_weights_outputs(student, block, ref, X, what, training=training)
    return actual, expected, what


@pytest.mark.share(1)
def test_output_shape_stride_1(student, rng):
    """BasicBlock(4) keeps a (2, 6, 6, 4) input's shape."""
    X = rng.standard_normal((2, 6, 6, 4)).astype(np.float32)
    block = student.call("BasicBlock", 4).value
    checks.shape(
        keras_outputs.call_layer(student, block, X, "BasicBlock(4)(x)", training=False),
        (2, 6, 6, 4),
        "BasicBlock(4)(x)",
        HINT,
    )


@pytest.mark.share(2)
def test_output_shape_stride_2(student, rng):
    """BasicBlock(6, stride=2) maps (2, 7, 7, 3) to (2, 4, 4, 6): 'same' padding rounds 7 / 2 up."""
    X = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)
    block = student.call("BasicBlock", 6, stride=2).value
    value = keras_outputs.call_layer(student, block, X, "BasicBlock(6, stride=2)(x)", training=False)
    checks.shape(value, (2, 4, 4, 6), "BasicBlock(6, stride=2)(x)", HINT)


@pytest.mark.share(3)
def test_layers(student, reference, rng):
    """Two 3x3 convolutions and two batch norms, plus a 1x1 convolution and a batch norm on the shortcut when stride != 1."""
    for filter_num, stride, shape in ((6, 2, (1, 7, 7, 3)), (5, 1, (1, 6, 6, 5))):
        X = rng.standard_normal(shape).astype(np.float32)
        what = f"BasicBlock({filter_num}, stride={stride}) on a {shape[3]}-channel input"
        block = student.call("BasicBlock", filter_num, stride=stride).value
        keras_outputs.call_layer(student, block, X, what, training=False)  # builds it
        ref = reference.BasicBlock(filter_num, stride=stride)
        ref(X, training=False)
        keras_architecture.architecture_matches(student, block, ref, X, what, HINT, chain=False, training=False)


@pytest.mark.share(3)
def test_same_weights_inference(student, reference, tolerances, rng):
    """Stride 2, the reference's weights, training=False: the reference's outputs."""
    X = rng.standard_normal((3, 8, 8, 3)).astype(np.float32)
    actual, expected, what = pair(student, reference, 6, 2, X, training=False)
    checks.close(actual, expected, what, hint=HINT, **tolerances.float32)


@pytest.mark.share(3)
def test_same_weights_training(student, reference, tolerances, rng):
    """Stride 2, the reference's weights, training=True: batch norm on the batch's statistics."""
    X = rng.standard_normal((3, 8, 8, 3)).astype(np.float32)
    actual, expected, what = pair(student, reference, 6, 2, X, training=True)
    checks.close(actual, expected, what, hint=TRAINING_HINT, **tolerances.float32)


@pytest.mark.share(2)
def test_stride_1_same_weights(student, reference, tolerances, rng):
    """Stride 1 (the input itself is the shortcut), both modes, the reference's weights."""
    X = rng.standard_normal((3, 5, 6, 4)).astype(np.float32)
    for training in (False, True):
        actual, expected, what = pair(student, reference, 4, 1, X, training=training)
        checks.close(actual, expected, what, hint=HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_is_a_keras_layer(student, rng):
    """BasicBlock is a subclass of keras.layers.Layer, and its instances work as layers."""
    block = student.call("BasicBlock", 3).value
    keras_outputs.call_layer(student, block, rng.standard_normal((1, 4, 4, 3)).astype(np.float32), "BasicBlock(3)(x)")
    bases = student.getattr(student.ref("BasicBlock"), "__mro__")
    names = [getattr(b, "repr", "") for b in bases] if isinstance(bases, tuple) else []
    if not any("keras.src.layers.layer.Layer'" in n for n in names):
        raise checks.Mismatch(
            "BasicBlock should be a class derived from keras.layers.Layer: class BasicBlock(layers.Layer)."
        )
