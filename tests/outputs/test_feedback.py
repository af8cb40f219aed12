"""Does feedback stay free of hidden test code, reference code and hidden expected values?

The students are the untouched release and a few mutants (``fidelity.feedback_mutants``: the
first of each function's), graded once per session with the rest of the catalogue
(``graded_class``, shared with tests/authoring/test_fidelity.py), where their graders recorded every
expected value they used.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from autograder.authoring.submissions import reference_answers
from autograder.course.assignments import available
from autograder.course.notebook import read_notebook
from autograder.outputs.feedback import autograded_notebook, feedback_html
from autograder.outputs.results import public_json

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


@pytest.fixture(scope="module", params=available())
def graded_with_expected(request, graded_class):
    """Feedback texts for the release and a few mutants, plus every expected value their graders used."""
    graded = graded_class(request.param)
    a = graded.assignment
    assert len(graded.expected) >= 2  # the release and at least one mutant

    def feedback(student: str) -> tuple[str, np.ndarray, str]:
        result, path = graded.results[student], graded.notebooks[student]
        texts = [
            feedback_html(result, path),
            json.dumps(public_json(a.name, {student: result})),
            json.dumps(autograded_notebook(result, path)),
        ]
        with np.load(graded.expected[student]) as arrays:
            values = np.concatenate([arrays[k].ravel() for k in arrays.files] or [np.zeros(0)])
        return "\n".join(texts), values, path.read_text()

    return a, [feedback(student) for student in graded.expected]


def test_no_hidden_test_source_in_feedback(graded_with_expected):
    a, graded = graded_with_expected
    lines = set()
    for path in a.graders_dir.glob("*.py"):
        if path.name == "catalogue.py":  # test data: students' answers and function names, not grader code
            continue
        lines |= {line.strip() for line in path.read_text().splitlines() if len(line.strip()) > 25}
    for text, _, own in graded:  # a line the student wrote themselves is theirs to see
        leaked = [line for line in lines if line in text and json.dumps(line)[1:-1] not in own]
        assert leaked == []
    for text, _, _ in graded:  # no pytest assertion report in any student message
        messages = re.findall(r'"message": "((?:[^"\\]|\\.)*)"', text)
        assert messages and not [
            m for m in messages if "assert " in m or "AssertionError" in m or "Error:" in m and "raised" not in m
        ]


def test_no_reference_solution_in_feedback(graded_with_expected):
    a, graded = graded_with_expected
    release = json.dumps(read_notebook(a.release_notebook))
    solution_lines = {
        line.strip()
        for source in reference_answers(a).values()
        for line in source.splitlines()
        # substantive computation (indexing, NumPy calls), not contract lines like `cache = (...)`
        if len(line.strip()) > 15 and ("[" in line or "np." in line) and line.strip() not in release
    }
    assert solution_lines
    for text, _, own in graded:
        assert [line for line in solution_lines if line in text and json.dumps(line)[1:-1] not in own] == []


def test_no_hidden_expected_value_in_feedback(graded_with_expected):
    """No number printed with 4+ significant digits equals a value the graders expected."""
    a, graded = graded_with_expected
    # numbers the release itself shows (public checks, docstrings) are not hidden
    public = {
        float(t) for p in a.release_dir.rglob("*") if p.is_file() for t in NUMBER.findall(p.read_text(errors="replace"))
    }
    expected = np.concatenate([values for _, values, _ in graded])
    expected = expected[np.isfinite(expected) & (np.abs(expected) > 1e-3)]
    assert expected.size > 100  # the graders really compared values
    for text, _, _ in graded:
        printed = {float(t) for t in NUMBER.findall(text) if len(t.lstrip("-").replace(".", "").lstrip("0")) >= 4}
        printed -= public
        for value in printed:
            assert not np.any(np.isclose(expected, value, rtol=1e-4, atol=0)), value
