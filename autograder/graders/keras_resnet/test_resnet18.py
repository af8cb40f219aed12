"""resnet18(num_classes=100) and resnet34(num_classes=100), in one answer cell graded as resnet18.

Graded on their own code: ResNet(layer_dims, num_classes) is answered by the grader,
which records the call and returns a stand-in. Only the parameter counts use the
student's own ResNet and BasicBlock (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_models

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
    if [int(d) for d in calls[0][0]] != want[0] if isinstance(calls[0][0], list) else True:
        raise checks.Mismatch(
            f"{label} creates ResNet({calls[0][0]!r}, ...); the layer_dims should be {want[0]}.", HINT
        )
    if calls[0][1] != want[1]:
        raise checks.Mismatch(
            f"{label} creates a ResNet with num_classes={calls[0][1]!r}; it should be {want[1]}.", HINT
        )
    return value


@pytest.mark.points(2)
def test_resnet18_creates_the_right_resnet(student, reference, answering):
    """resnet18() creates ResNet([2, 2, 2, 2]) with 100 classes."""
    check_calls(student, reference, answering, "resnet18")


@pytest.mark.points(2)
def test_resnet34_creates_the_right_resnet(student, reference, answering):
    """resnet34() creates ResNet([3, 4, 6, 3]) with 100 classes."""
    check_calls(student, reference, answering, "resnet34")


@pytest.mark.points(1)
def test_num_classes_is_passed_on(student, reference, answering):
    """resnet18(num_classes=10) and resnet34(num_classes=7) pass num_classes on."""
    check_calls(student, reference, answering, "resnet18", num_classes=10)
    check_calls(student, reference, answering, "resnet34", num_classes=7)


@pytest.mark.points(1)
def test_returns_the_model(student, reference, answering):
    """Both return the ResNet they create."""
    for name in ("resnet18", "resnet34"):
        if check_calls(student, reference, answering, name) != STANDIN:
            raise checks.Mismatch(f"{name}() should return the ResNet it creates.", "return ResNet(...).")


def count(student, name, *args, **kwargs):
    model = student.call(name, *args, **kwargs).value
    keras_models.call_layer(
        student,
        model,
        np.zeros((1, 32, 32, 3), dtype=np.float32),
        f"{name}()(x)",
        call_timeout=keras_models.BUILD_TIMEOUT,
    )
    return keras_models.model_counts(student, model)


@pytest.mark.points(2)
def test_parameter_counts(student, reference, answering, expected_counts):
    """With your own ResNet: 11,234,532 parameters for resnet18(), 21,353,828 for resnet34() (a difference caused by ResNet or BasicBlock costs points there)."""
    for name in ("resnet18", "resnet34"):
        check_calls(student, reference, answering, name)  # its own job first
        want = expected_counts[name]
        try:
            got = count(student, name)
        except (checks.StudentCodeError, checks.Mismatch) as e:
            got, problem = None, e
        else:
            problem = None
        if got == want:
            continue
        try:
            direct = count(student, "ResNet", DIMS[name], num_classes=100)
        except (checks.StudentCodeError, checks.Mismatch):
            direct = None
        if direct != want:
            continue  # ResNet or BasicBlock is at fault, and graded there
        if problem is not None:
            raise problem
        raise checks.Mismatch(
            f"{name}() has {got[0]:,} parameters; it should have {want[0]:,}, as ResNet({DIMS[name]}) does.", HINT
        )
