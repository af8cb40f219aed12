"""The results shape (autograder/outputs/results.py): one definition, its two JSON forms, and the schema made from it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import jsonschema
import pytest

from autograder.outputs import saved, schema
from autograder.outputs.late import LatePolicy
from autograder.outputs.manual import ManualGrades
from autograder.outputs.results import FunctionResult, StudentResult, TestResult, public_json
from autograder.run.times import Seen, SubmissionTime
from tests.support import REPO

SCHEMA_FILE = REPO / "docs" / "results.schema.json"
DUE = datetime(2026, 12, 1, 17, 0)


def raw(student: str = "ada") -> StudentResult:
    """A graded result as the grader process makes it: two functions, one with a failed test."""
    f = FunctionResult(3.0, 5.0, (TestResult("t1", True, 3.0, "ok", "first"), TestResult("t2", False, 2.0, "no")))
    g = FunctionResult(0.0, 0.0)
    return StudentResult("a", student, 3.0, 5.0, {"f": f, "g": g}, ("a problem",), extra={"seconds": 1.5})


def finished() -> dict[str, StudentResult]:
    """One student of each kind the ``--json`` output has: plain, late with a time to review and a
    manual cell still to grade, and refused."""
    late = LatePolicy.of({"penalty_per_hour": 0.1}, DUE)
    seen = SubmissionTime(None, seen=Seen(DUE + timedelta(hours=2)), problem="no time given")
    manual = ManualGrades({"written": (2.0, "answer")})
    return {
        "ada": raw("ada"),
        "ben": late.apply(manual.apply(replace(raw("ben"), time=seen))),
        "cy": StudentResult.unscored(raw().functions, "cy", "a", "Your notebook could not be read."),
    }


def test_the_committed_schema_is_the_one_generated_from_the_results_module():
    """Is docs/results.schema.json what `python -m autograder.outputs.schema` prints?"""
    assert SCHEMA_FILE.read_text() == schema.text(), (
        "docs/results.schema.json is out of date: run `.venv/bin/python -m autograder.outputs.schema > "
        "docs/results.schema.json`"
    )


def test_every_kind_of_student_validates_and_the_schema_admits_nothing_more():
    """Does the --json of plain, late, manual and refused students validate, and is an extra key
    refused at every level (the class, a student, a function, a test, a manual cell)?"""
    published = json.loads(SCHEMA_FILE.read_text())
    out = public_json("a", finished())
    jsonschema.validate(out, published)
    ben = out["students"]["ben"]
    assert {"raw_score", "time_review", "status", "manual"} <= set(ben) and "raw_score" not in out["students"]["ada"]
    for extra in (
        lambda o: o.update(x=1),
        lambda o: o["students"]["ada"].update(description="x"),
        lambda o: o["students"]["ada"]["functions"]["f"].update(x=1),
        lambda o: o["students"]["ada"]["functions"]["f"]["tests"][0].update(description="first"),
        lambda o: o["students"]["ben"]["manual"]["written"].update(x=1),
    ):
        bad = json.loads(json.dumps(out))
        extra(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, published)


def test_the_published_form_reads_back_to_the_same_bytes():
    """Does each entry of the --json output, read back (``from_public``), publish exactly the same bytes?"""
    out = public_json("a", finished())
    back = {s: StudentResult.from_public(entry, s, "a") for s, entry in out["students"].items()}
    assert json.dumps(public_json("a", back), indent=2) == json.dumps(out, indent=2)


def test_the_saved_form_reads_back_as_written_and_cleaned(tmp_path):
    """Does results.json read back (``saved.load``) to the result saved, with any unclean text cleaned?"""
    path = tmp_path / "results.json"
    saved.save(path, "fp", raw())
    found = saved.load(path, "ada", "a")
    assert found is not None and (found.fingerprint, found.result, found.current) == ("fp", raw(), True)
    record = raw().record()
    record["functions"]["f"]["tests"][1]["message"] = "no\x1b[2J"  # an older run's unclean text
    path.write_text(json.dumps({"fingerprint": "fp", "result": record}))
    found = saved.load(path, "ada", "a")
    assert found is not None and not found.current and found.result.functions["f"].tests[1].message == "no"


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda r: r["functions"]["f"]["tests"][0].update(points="3"), "functions.f.tests.0.points"),
        (lambda r: r["functions"]["f"].update(tests="none"), "functions.f.tests"),
        (lambda r: r.update(score=True), "score"),
        (lambda r: r.update(seconds="slow"), "seconds"),
    ],
)
def test_a_malformed_saved_result_is_refused_saying_where(change, where):
    """Is a saved result of the wrong layout a ValueError on one line that names the key, never a half-read result?"""
    record = raw().record()
    change(record)
    with pytest.raises(ValueError) as e:
        StudentResult.parse(record, "ada", "a")
    assert str(e.value).startswith(f"{where}: ") and "\n" not in str(e.value)
