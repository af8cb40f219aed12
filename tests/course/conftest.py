"""The course's session fixtures: plain nbgrader's run over every assignment (tests/course/plain_nbgrader.py)."""

from __future__ import annotations

import pytest

from tests.course import plain_nbgrader


@pytest.fixture(scope="session")
def plain_nbgrader_run(tmp_path_factory) -> plain_nbgrader.PlainRun:
    """nbgrader's generate, autograde and validate on a copy of the course (minutes: only ``slow`` tests use it)."""
    return plain_nbgrader.run(tmp_path_factory.mktemp("plain-nbgrader"))
