"""Shared helpers for the project's tests (re-exported from the package)."""

from autograder.submissions import Variant, build_submission, reference_answers, write_submission

__all__ = ["Variant", "build_submission", "reference_answers", "write_submission"]
