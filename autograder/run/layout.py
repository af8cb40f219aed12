"""Where a class run reads and writes (``Layout``, nbgrader's folders), and what it hands back (``Report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.outputs.results import StudentResult


@dataclass
class Layout:
    """Where a batch reads and writes, nbgrader-style, next to ``submitted/``."""

    submitted: Path
    autograded: Path
    feedback: Path

    @classmethod
    def beside(cls, submitted: Path, feedback: Path | None = None) -> Layout:
        course = submitted.resolve().parent
        return cls(submitted.resolve(), course / "autograded", Path(feedback or course / "feedback").resolve())

    def results_file(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment / "results.json"


@dataclass
class Report:
    """What a class run did: every student's result, and who failed, was reused, refused or unstamped."""

    results: dict[str, StudentResult] = field(default_factory=dict)  # everyone's, refused too
    failed: dict[str, str] = field(default_factory=dict)  # student -> why their grader process failed
    reused: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # refused at intake (never graded)
    # without nbgrader's timestamp.txt and submission_secret.txt (not collected by `nbgrader
    # collect`): `nbgrader release_feedback` cannot hand their feedback back
    unstamped: list[str] = field(default_factory=list)
