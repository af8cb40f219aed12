"""resnet18(num_classes=100) and resnet34(num_classes=100), in one answer cell graded as resnet18.

Graded on their own code: ResNet(layer_dims, num_classes) is answered by the grader,
which records the call (a bounded summary of its arguments) and returns a stand-in. Only
the whole-model check uses the student's own ResNet and BasicBlock (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_outputs

STANDIN = "(a stand-in for the ResNet model)"
DIMS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}
HINT = "resnet18: ResNet([2, 2, 2, 2], num_classes); resnet34: ResNet([3, 4, 6, 3], num_classes)."


def recorded(student, reference, answering, name, **kwargs):
    log = []
    with answering(ResNet=inner_calls.Recorder(reference.ResNet, lambda a: STANDIN, log)):
        value = student.call(name, **kwargs).value
    return value, [
        (list(a["layer_dims"]) if isinstance(a["layer_dims"], (list, tuple)) else a["layer_dims"], a["num_classes"])
        for _, a in log
    ]


def check_calls(student, reference, answering, name, num_classes=None):
    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    value, calls = recorded(student, reference, answering, name, **kwargs)
    label = f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    want = (DIMS[name], 100 if num_classes is None else num_classes)
    if len(calls) != 1:
        raise checks.Mismatch(f"{label} should create one ResNet, but it created {len(calls)}.", HINT)
    if calls[0][0] != want[0]:  # (a recorded summary: a list of numbers, or a marker that equals nothing)
        raise checks.Mismatch(
            f"{label} creates ResNet({calls[0][0]!r}, ...); the layer_dims should be {want[0]}.", HINT
        )
    if calls[0][1] != want[1]:
        raise checks.Mismatch(
            f"{label} creates a ResNet with num_classes={calls[0][1]!r}; it should be {want[1]}.", HINT
        )
    return value


@pytest.mark.share(2)
def test_resnet18_creates_the_right_resnet(student, reference, answering):
    """resnet18() creates ResNet([2, 2, 2, 2]) with 100 classes."""
    check_calls(student, reference, answering, "resnet18")


@pytest.mark.share(2)
def test_resnet34_creates_the_right_resnet(student, reference, answering):
    """resnet34() creates ResNet([3, 4, 6, 3]) with 100 classes."""
    check_calls(student, reference, answering, "resnet34")


@pytest.mark.share(1)
def test_num_classes_is_passed_on(student, reference, answering):
    """resnet18(num_classes=10) and resnet34(num_classes=7) pass num_classes on."""
    check_calls(student, reference, answering, "resnet18", num_classes=10)
    check_calls(student, reference, answering, "resnet34", num_classes=7)


@pytest.mark.share(1)
def test_returns_the_model(student, reference, answering):
    """Both return the ResNet they create."""
    for name in ("resnet18", "resnet34"):
        if check_calls(student, reference, answering, name) != STANDIN:
            raise checks.Mismatch(f"{name}() should return the ResNet it creates.", "return ResNet(...).")


@pytest.mark.share(2)
def test_whole_models(student, reference, answering, verdicts, whole_models, tolerances, rng):
    """With your own ResNet: resnet18() (11,234,532 parameters) and resnet34() (21,353,828) give the reference's logits for the same weights (not charged here if ResNet or BasicBlock lost points in their own tests and the rest of resnet18 passed)."""
    for name in ("resnet18", "resnet34"):
        check_calls(student, reference, answering, name)  # its own job first
    if verdicts.excuse():
        return
    X = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    for name in ("resnet18", "resnet34"):
        model = student.call(name).value
        if not keras_outputs.is_model_ref(model):
            raise checks.Mismatch(
                f"{name}() should return a keras.Model, but it returned {checks.describe_type(model)}."
            )
        what = f"With your own ResNet, {name}()"
        keras_outputs.call_layer(student, model, X, what, training=False, call_timeout=keras_outputs.BUILD_TIMEOUT)
        keras_outputs.whole_model_matches(student, model, whole_models.expected(name, X, training=False), X, what, name, HINT, tolerances.float32,
                                          training=False)  # fmt: skip
