"""Session-wide fixtures: the loopback listener and each assignment's graded catalogue.

Grading a catalogue takes minutes (the Keras ones most), so it happens once per session, and
every test that reads it (through ``graded_class``, directly or by way of another fixture) is
marked ``slow``: ``pytest -m "not slow"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from autograder.course.assignments import Assignment
from tests.fidelity import GradedClass, LoopbackListener, grade_catalogue
from tests.support import REPO

# The grader processes the tests start (cold, or from a warm server) load the suite's own plugins
# (tests/plugins) by name, so the repository is on their path; the sandbox's environment is its own.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that reads a graded catalogue."""
    for item in items:
        if "graded_class" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def listener():
    server = LoopbackListener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory, listener) -> Callable[[str], GradedClass]:
    """``graded_class(name)``: that assignment's catalogue, graded once per session."""
    done: dict[str, GradedClass] = {}

    def get(name: str) -> GradedClass:
        if name not in done:
            done[name] = grade_catalogue(Assignment(name, root=REPO), tmp_path_factory.mktemp(name), listener)
        return done[name]

    return get
