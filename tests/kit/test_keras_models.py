"""Is a Keras model's architecture measured, never taken from what it says about itself?

``keras_architecture.measure`` and ``check_measured`` run here on local models through a stand-in
for the student session (no sandbox): an honest model, one that describes itself as another
(``layers``, ``count_params``), and one that also keeps the grader's weights without using them.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograder.grader.session import CallResult
from autograder.kit import checks, keras_architecture, keras_outputs
from autograder.sandbox.harness.wire import RemoteRef

pytestmark = pytest.mark.slow  # builds Keras models


def describe_model(model):
    from autograder.sandbox.harness.worker import describe_model as describe  # what the sandbox's worker answers

    return describe(model)


class Local:
    """Calls local objects as ``StudentSession`` calls objects in the sandbox (results as data)."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self.ids = itertools.count(1)

    def handle(self, obj) -> RemoteRef:
        ref = RemoteRef(next(self.ids), type(obj).__qualname__)
        self.objects[ref.id] = obj
        return ref

    def call_method(self, ref, method, *args, **kwargs) -> CallResult:
        value = getattr(self.objects[ref.id], method)(*args, **kwargs)
        if isinstance(value, list):
            return CallResult([np.asarray(v) for v in value])
        return CallResult(None if value is None else np.asarray(value))

    def describe(self, ref):
        return describe_model(self.objects[ref.id])


def lenet(classes=4):
    import keras

    X = keras.Input((12, 12, 1))
    Y = keras.layers.Conv2D(3, 5, activation="relu")(X)
    Y = keras.layers.Dense(classes, activation="softmax")(keras.layers.Flatten()(Y))
    return keras.Model(X, Y)


class _Box:
    pass


def shown_as(shown, store: bool):
    """Flatten -> Dense, describing itself as ``shown`` (and with ``store``, keeping weights in it)."""
    import keras  # (imported here: collecting the test suite doesn't import TensorFlow)

    class ShownAs(keras.Model):
        def __init__(self):
            super().__init__()
            self._box = _Box()
            self._box.model, self._box.store = shown, store
            self.flat, self.dense = keras.layers.Flatten(), keras.layers.Dense(4)

        def call(self, x):
            return self.dense(self.flat(x))

        @property
        def layers(self):
            return self._box.model.layers

        def count_params(self):
            return self._box.model.count_params()

        def get_weights(self):
            return self._box.model.get_weights() if self._box.store else super().get_weights()

        def set_weights(self, weights):
            return self._box.model.set_weights(weights) if self._box.store else super().set_weights(weights)

    return ShownAs()


X = np.random.default_rng(0).standard_normal((2, 12, 12, 1)).astype(np.float32)


def check(model) -> keras_architecture.Measured:
    student, ref = Local(), lenet()
    handle = student.handle(model)
    got = keras_architecture.measure(student, handle, X, "the model")
    keras_architecture.check_measured(student, handle, got, keras_outputs.reference_shapes(ref), tuple(ref(X).shape),
                                      "the model", describe_diff=lambda rows: None)  # fmt: skip
    return got


def liar(store: bool):
    model = shown_as(lenet(), store)
    model(X)
    return model


def test_an_honest_model_is_measured_as_it_is():
    """Are its weights (written and read back), its output's shape and their use what the grader measures?"""
    got = check(lenet())
    assert got.shapes == ((5, 5, 1, 3), (3,), (192, 4), (4,)) and got.output_shape == (2, 4) and got.weights_used
    assert got.params == 5 * 5 * 3 + 3 + 192 * 4 + 4


def test_a_model_that_describes_itself_as_another_earns_nothing_and_is_told_so():
    """Flatten -> Dense with LeNet's layers and count_params(): refused, and the message names nothing to claim."""
    assert describe_model(liar(False))[1]["class"] == "Conv2D"  # what it claims
    with pytest.raises(checks.Mismatch) as refused:
        check(liar(False))
    assert "does not match what it computes" in str(refused.value)
    assert "Conv2D" not in str(refused.value) and "should be" not in str(refused.value)


def test_a_model_that_keeps_the_graders_weights_without_using_them_earns_nothing():
    """Its get_weights and set_weights are LeNet's: the shapes are right, but its outputs don't follow them."""
    with pytest.raises(checks.Mismatch, match="not the ones it computes with"):
        check(liar(True))


# --- same_weights_outputs --------------------------------------------------------------------


def batchnorm_block(activation="relu"):
    """Conv2D -> BatchNormalization -> activation: its output depends on the weights and on ``training``."""
    import keras

    X = keras.Input((6, 6, 2))
    Y = keras.layers.Conv2D(3, 3, padding="same")(X)
    Y = keras.layers.Activation(activation)(keras.layers.BatchNormalization()(Y))
    return keras.Model(X, Y)


BLOCK_X = (1 + 2 * np.random.default_rng(1).standard_normal((4, 6, 6, 2))).astype(np.float32)


def test_same_weights_outputs_gives_two_models_of_one_function_one_output():
    """Two blocks built apart (different initial weights) give the same outputs once both hold the grader's weights?"""
    student, mine, ref = Local(), batchnorm_block(), batchnorm_block()
    assert not np.allclose(mine(BLOCK_X), ref(BLOCK_X))  # their own weights differ
    for training in (False, True):
        actual, expected = keras_outputs.same_weights_outputs(student, student.handle(mine), ref, BLOCK_X,
                                                              "the block", training=training)  # fmt: skip
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_same_weights_outputs_tells_another_function_apart():
    """A block with another activation holds the same weights but gives other outputs?"""
    student = Local()
    actual, expected = keras_outputs.same_weights_outputs(student, student.handle(batchnorm_block("tanh")),
                                                          batchnorm_block(), BLOCK_X, "the block")  # fmt: skip
    assert actual.shape == expected.shape and not np.allclose(actual, expected, rtol=1e-3, atol=1e-3)


def test_same_weights_outputs_passes_training_to_both_models():
    """training=True reaches both models (batch norm on the batch's statistics), not only the student's?"""
    student, mine, ref = Local(), batchnorm_block(), batchnorm_block()
    inference = keras_outputs.same_weights_outputs(student, student.handle(mine), ref, BLOCK_X, "the block")
    training = keras_outputs.same_weights_outputs(student, student.handle(mine), ref, BLOCK_X, "the block",
                                                  training=True)  # fmt: skip
    assert not np.allclose(training[0], inference[0]) and not np.allclose(training[1], inference[1])
