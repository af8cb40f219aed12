"""The verdicts of the tests already run in this grading: the only evidence an excuse may use.

A composite part (``ResNet50``, ``VGG``, ``train_step``) is graded on its own code, but a
whole-model check needs the student's own parts (blocks, ``l2_penalty``), and a wrong part
makes it fail. Such a failure may be excused, and the points not charged twice, only on
evidence the grader already produced and checked: the part's *own graded tests* lost
points. Never on a fresh call to the part, which the student's code could recognise and
answer differently (an ``l2_penalty`` that lies only for the excuse's probe).

This module is a pytest plugin (loaded with ``autograder.kit.fixtures``). It

- orders the tests so that every part's tests run before those of the functions that use
  it (``[stand_ins]`` in assignment.toml: parts first), keeping the order within a level;
- records each test's verdict as it is reported;
- gives graders the fixture ``verdicts``: ``verdicts.lost(function)`` (did that function's
  tests lose points in this grading? None if none of them ran), ``verdicts.excuse()``
  (a part of the current test's function that lost points in its own tests, provided every
  other test of the function ran and passed; None otherwise).

A grader uses it like this::

    if verdicts.excuse():  # a block lost points, and the rest of ResNet50 passed its tests
        return
    keras_outputs.whole_model_matches(...)  # otherwise: evidence, measured here
"""

from __future__ import annotations

from pathlib import Path

import pytest

ORDER = pytest.StashKey[dict[str, list[str]]]()  # function -> its tests' node ids, as collected
SEEN = pytest.StashKey[dict[str, dict[str, bool]]]()  # function -> {node id: passed}, as they ran


def function_of(nodeid: str) -> str:
    """The graded function of a test: its module's name (``test_zero_pad.py`` grades ``zero_pad``)."""
    return Path(nodeid.split("::")[0]).stem.removeprefix("test_")


def parts_of(function: str, stand_ins: dict[str, tuple[str, ...]]) -> list[str]:
    """The graded functions ``function`` uses through the grader, directly or not."""
    found: list[str] = []
    todo = list(stand_ins.get(function, ()))
    while todo:
        part = todo.pop(0)
        if part not in found and part != function:
            found.append(part)
            todo.extend(stand_ins.get(part, ()))
    return found


def _stand_ins(config: pytest.Config) -> dict[str, tuple[str, ...]]:
    from autograder.kit.fixtures import assignment_of

    try:
        return assignment_of(config).stand_ins()
    except Exception:  # no assignment to read (pytest run on something else): no order to keep
        return {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    stand_ins = _stand_ins(config)
    level = {f: len(parts_of(f, stand_ins)) for f in {function_of(i.nodeid) for i in items}}
    items.sort(key=lambda item: level[function_of(item.nodeid)])  # stable: the order within a level stays
    order: dict[str, list[str]] = {}
    for item in items:
        order.setdefault(function_of(item.nodeid), []).append(item.nodeid)
    config.stash[ORDER] = order
    config.stash[SEEN] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    seen = item.config.stash.get(SEEN, None)
    if seen is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        seen.setdefault(function_of(item.nodeid), {})[item.nodeid] = report.passed


class Verdicts:
    """The verdicts so far, seen from one test (``nodeid``) of its graded function."""

    def __init__(self, config: pytest.Config, nodeid: str):
        self.order = config.stash.get(ORDER, {})
        self.seen = config.stash.get(SEEN, {})
        self.nodeid = nodeid
        self.function = function_of(nodeid)
        self.parts = parts_of(self.function, _stand_ins(config))

    def lost(self, function: str) -> bool | None:
        """Did ``function`` lose points in this grading? None if none of its tests has run."""
        ran = self.seen.get(function)
        return None if not ran else not all(ran.values())

    def others_passed(self) -> bool:
        """Has every other test of this test's function run, and passed?"""
        others = [n for n in self.order.get(self.function, []) if n != self.nodeid]
        ran = self.seen.get(self.function, {})
        return all(ran.get(n) is True for n in others)

    def excuse(self) -> str | None:
        """A part that lost points in its own tests, if every other test of this function passed.

        Then a check of the whole (built with the student's own parts) is not charged
        here: the part's bug has cost points where it lives, and the function's own code
        passed everything else. None otherwise: the check must pass on its evidence.
        """
        if not self.others_passed():
            return None
        return next((part for part in self.parts if self.lost(part)), None)


@pytest.fixture
def verdicts(request: pytest.FixtureRequest) -> Verdicts:
    """The verdicts of the tests already run in this grading (see the module's docstring)."""
    return Verdicts(request.config, request.node.nodeid)
