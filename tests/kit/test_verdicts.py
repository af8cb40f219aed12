"""May an excuse rest only on graded evidence? The verdicts plugin (autograder/kit/verdicts.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from autograder.kit import verdicts

STAND_INS = {"ResNet50": ("identity_block", "convolutional_block"), "ResNet": ("BasicBlock",), "resnet18": ("ResNet",)}


@pytest.fixture
def config(monkeypatch) -> SimpleNamespace:
    monkeypatch.setattr(verdicts, "_stand_ins", lambda config: STAND_INS)
    return SimpleNamespace(stash=pytest.Stash())


def collect(config, *nodeids: str) -> list[str]:
    items = [SimpleNamespace(nodeid=n) for n in nodeids]
    verdicts.pytest_collection_modifyitems(config, items)
    return [i.nodeid for i in items]


def ran(config, nodeid: str, passed: bool) -> None:
    config.stash[verdicts.SEEN].setdefault(verdicts.function_of(nodeid), {})[nodeid] = passed


ALL = ("test_BasicBlock.py::test_a", "test_ResNet.py::test_a", "test_ResNet.py::test_whole_model",
       "test_ResNet50.py::test_stem", "test_ResNet50.py::test_whole_model", "test_identity_block.py::test_a",
       "test_resnet18.py::test_whole_models", "test_zero.py::test_a")  # fmt: skip


def test_parts_run_before_the_functions_that_use_them(config):
    """Do a part's tests run before those of the composites that use it, directly or not, the rest in order?"""
    order = collect(config, *ALL)
    position = {n: i for i, n in enumerate(order)}
    assert position["test_BasicBlock.py::test_a"] < position["test_ResNet.py::test_a"]
    assert position["test_identity_block.py::test_a"] < position["test_ResNet50.py::test_stem"]
    assert position["test_ResNet.py::test_whole_model"] < position["test_resnet18.py::test_whole_models"]
    assert order[:3] == ["test_BasicBlock.py::test_a", "test_identity_block.py::test_a", "test_zero.py::test_a"]
    assert verdicts.parts_of("resnet18", STAND_INS) == ["ResNet", "BasicBlock"]


def test_an_excuse_needs_a_part_that_lost_points_and_the_rest_passed(config):
    """Is a whole-model check excused only when a part lost points in its own tests and every other test passed?"""
    collect(config, *ALL)
    whole = verdicts.Verdicts(config, "test_ResNet50.py::test_whole_model")
    ran(config, "test_identity_block.py::test_a", False)
    assert whole.lost("identity_block") is True
    assert whole.excuse() is None  # test_stem has not run yet
    ran(config, "test_ResNet50.py::test_stem", False)
    assert whole.excuse() is None  # ResNet50's own code failed a check: no excuse
    ran(config, "test_ResNet50.py::test_stem", True)
    assert whole.excuse() == "identity_block"


def test_no_excuse_without_a_graded_failure(config):
    """Parts that passed, or whose tests never ran in this grading, excuse nothing."""
    collect(config, *ALL)
    ran(config, "test_ResNet50.py::test_stem", True)
    whole = verdicts.Verdicts(config, "test_ResNet50.py::test_whole_model")
    assert whole.lost("identity_block") is None and whole.excuse() is None
    ran(config, "test_identity_block.py::test_a", True)
    assert whole.lost("identity_block") is False and whole.excuse() is None


def test_a_part_of_a_part_counts(config):
    """Does a BasicBlock that lost points excuse resnet18's whole-model check (resnet18 -> ResNet -> BasicBlock)?"""
    collect(config, *ALL)
    ran(config, "test_BasicBlock.py::test_a", False)
    assert verdicts.Verdicts(config, "test_resnet18.py::test_whole_models").excuse() == "BasicBlock"
