"""A pytest plugin for the grader processes the tests start: it saves every expected value the graders compared against.

The grading library announces each one as the audit event ``checks.EXPECTED_EVENT``; this plugin
collects them and, at the end of the session, saves them to ``--record-expected`` (an ``.npz``
of flat float64 arrays). The fidelity tests then search every student's feedback for them.
``recording()`` does the same inside the test process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from autograder.kit.checks import EXPECTED_EVENT

# An audit hook can't be removed, so one hook per process feeds whichever recordings are open.
_open: list[list[np.ndarray]] = []


def _hook(event: str, args: tuple) -> None:
    if event == EXPECTED_EVENT:
        for seen in _open:
            seen.append(args[0])


sys.addaudithook(_hook)


@contextmanager
def recording() -> Iterator[list[np.ndarray]]:
    """The expected values compared against while the block runs, in order."""
    seen: list[np.ndarray] = []
    _open.append(seen)
    try:
        yield seen
    finally:
        _open.remove(seen)


def arguments(path: object) -> list[str]:
    """The grader command's extra arguments (``grading.grader_command(plugins=...)``) that save to ``path``."""
    return [f"-p{__name__}", f"--record-expected={path}"]  # (each value joined to its option)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-expected", help="save the expected values the graders compared against (.npz)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("record_expected"):
        config.stash[RECORDING] = seen = []
        _open.append(seen)


def pytest_unconfigure(config: pytest.Config) -> None:
    seen = config.stash.get(RECORDING, None)
    if seen is not None:
        _open.remove(seen)
        np.savez(config.getoption("record_expected"), *[np.asarray(a, dtype=np.float64).ravel() for a in seen])


RECORDING = pytest.StashKey[list]()
