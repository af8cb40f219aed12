"""Shared helpers for the project's tests: where the course is, and building submissions."""

from pathlib import Path

from autograder.submissions import Variant, build_submission, reference_answers, write_submission

REPO = Path(__file__).resolve().parents[1]  # the course these tests grade (this repository)

__all__ = [
    "REPO",
    "Variant",
    "build_submission",
    "reference_answers",
    "write_submission",
]


def need_program(path: str, package: str) -> str:
    """The path of a program from a Debian package a test needs (``tools/debian-packages``
    installs it). Missing: on CI (CI=true) the test fails; elsewhere it is skipped, saying why."""
    import glob
    import os
    import shutil

    import pytest

    found = shutil.which(path) or next(iter(sorted(glob.glob(path))), None)
    if found:
        return found
    message = f"{path} not found: install Debian's {package} (as root, `sh tools/debian-packages` does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
