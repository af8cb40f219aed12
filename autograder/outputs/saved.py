"""results.json: one student's raw grade saved under its fingerprint, written whole, and the one loader that reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autograder.files import atomic_write
from autograder.outputs.results import StudentResult


@dataclass(frozen=True)
class Saved:
    """What a results.json holds: the fingerprint it was graded under and the raw result (``StudentResult.record``)."""

    fingerprint: str
    result: StudentResult
    current: bool  # False: the file's text needed cleaning (an older run's); saving it again makes it clean


def load(path: Path, student: str, assignment: str) -> Saved | None:
    """The grade saved in ``path``, checked and cleaned (``StudentResult.parse``); None if missing or unreadable.

    The student and assignment are the caller's (the folders it found the file in), not the file's.
    """
    try:
        raw = json.loads(path.read_bytes())
        if not isinstance(raw, dict):
            return None
        result = StudentResult.parse(raw.get("result"), student, assignment)
    except (OSError, ValueError, RecursionError):
        return None
    fingerprint = raw.get("fingerprint")
    return Saved(fingerprint if isinstance(fingerprint, str) else "", result, result.record() == raw["result"])


def save(path: Path, fingerprint: str, result: StudentResult) -> None:
    """Save ``result`` (raw: no late penalty, no manual scores) under ``fingerprint``, atomically."""
    atomic_write(path, json.dumps({"fingerprint": fingerprint, "result": result.record()}, indent=1))
