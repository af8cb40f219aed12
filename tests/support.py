"""Shared helpers for the project's tests: where the course is, and building submissions."""

from pathlib import Path

from autograder.authoring.submissions import Variant, build_submission, reference_answers, write_submission

REPO = Path(__file__).resolve().parents[1]  # the course these tests grade (this repository)

__all__ = [
    "REPO",
    "copy_parts",
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


def copy_parts(root: Path, parts: list[str]) -> Path:
    """These parts of the course (folders or files, relative to REPO) copied under ``root``,
    without Python's caches: a course of its own for a test that edits or fingerprints it."""
    import shutil

    for rel in parts:
        src, dst = REPO / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dst)
    return root
