"""Outputs that hold students' code or grades are never committed by accident: .gitignore covers each
folder a run writes (run/layout.py, outputs/class_report.py), for the course and its example class."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import REPO

# what a run writes beside submitted/ (the course's own, and the example class's), and kept work
OUTPUTS = ["autograded", "feedback", "grades", "reports"]
PATHS = [
    *(
        f"{where}{folder}/ada/cnn_step_by_step/cnn_step_by_step.html"
        for where in ("", "examples/")
        for folder in OUTPUTS
    ),
    "gradebook.db",
    "examples/gradebook.db",
    "release-edits/cnn_step_by_step/20261208T000000Z/cnn_step_by_step.ipynb",
    ".cache/release/cnn_step_by_step.json",
]


@pytest.mark.parametrize("path", PATHS)
def test_every_output_folder_is_ignored_by_git(path):
    """Does git ignore this output, so `git add -A` in the course never commits a student's work?"""
    done = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", "-q", path], capture_output=True)
    assert done.returncode == 0, f"{path} is not ignored by .gitignore ({done.stderr.decode().strip()})"


def test_the_course_material_is_not_ignored():
    """And the material itself (release/, source/, examples/submitted/) stays tracked."""
    for path in ("release/cnn_step_by_step/cnn_step_by_step.ipynb", "source/cnn_step_by_step/cnn_step_by_step.ipynb",
                 "examples/submitted/ada/cnn_step_by_step/cnn_step_by_step.ipynb"):  # fmt: skip
        done = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", "-q", path])
        assert done.returncode == 1, path
