"""Does feedback stay free of hidden test code, reference code and hidden expected values?"""

from __future__ import annotations

import concurrent.futures as cf
import json
import re

import numpy as np
import pytest

from autograder.authoring.catalogue import load
from autograder.authoring.submissions import build_submission, reference_answers, write_submission
from autograder.course.assignments import Assignment, available
from autograder.course.notebook import read_notebook
from autograder.outputs.reports import autograded_notebook, feedback_html
from autograder.outputs.results import StudentResult, public_json
from autograder.run.grading import grade_notebook

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def mutants_for(name: str) -> list:
    first = {}
    for m in load(Assignment(name)).mutants:  # one realistic bug per function: failures are where leaks hide
        first.setdefault(m.function, m)
    return list(first.values())[:5]  # enough to exercise every kind of message, and quick


@pytest.fixture(scope="module", params=available())
def graded_with_expected(request, tmp_path_factory):
    """Feedback texts for a few mutants, plus every expected value the graders used."""
    a = Assignment(request.param)
    tmp = tmp_path_factory.mktemp(f"leak-{a.name}")
    notebooks = {"release": build_submission(a, perfect=False)}
    for m in mutants_for(a.name):
        notebooks[m.name] = build_submission(a, {m.function: m.source})

    def grade(student: str):
        path = write_submission(notebooks[student], tmp / "submitted", student, a.name)
        expected = tmp / f"{student}-expected.npz"
        result = StudentResult.parse(grade_notebook(a, path, student, record_expected=str(expected)), student, a.name)
        texts = [
            feedback_html(result, path),
            json.dumps(public_json(a.name, {student: result})),
            json.dumps(autograded_notebook(result, path)),
        ]
        with np.load(expected) as arrays:
            values = np.concatenate([arrays[k].ravel() for k in arrays.files] or [np.zeros(0)])
        return "\n".join(texts), values, path.read_text()

    with cf.ThreadPoolExecutor(2) as pool:
        graded = list(pool.map(grade, notebooks))
    return a, graded


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
