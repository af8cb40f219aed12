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
