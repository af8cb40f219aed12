"""The `autograder` command, as an instructor runs it: outputs, bad input, resuming."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from autograder.course.notebook import nbgrader_meta, write_notebook

A = Assignment("cnn_step_by_step")
NAME = A.name


def autograder(*args: str, env: dict | None = None, check_code: int | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=900,
    )
    if check_code is not None:
        assert proc.returncode == check_code, proc.stdout + proc.stderr
    return proc


def without_cell(nb: dict, grade_id: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if nbgrader_meta(c).get("grade_id") != grade_id]
    return nb


@pytest.fixture(scope="module")
def bad_class(tmp_path_factory):
    """A class where everyone but ada brought a broken notebook; graded once."""
    root = tmp_path_factory.mktemp("course")
    sub = root / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    write_submission(without_cell(build_submission(A), "pool_forward"), sub, "deleted", NAME)
    dup = build_submission(A)
    i = next(i for i, c in enumerate(dup["cells"]) if nbgrader_meta(c).get("grade_id") == "zero_pad")
    dup["cells"].insert(i, copy.deepcopy(dup["cells"][i]))
    write_submission(dup, sub, "duplicated", NAME)
    write_submission(build_submission(A, {"zero_pad": "def pad_zeros(X, pad):\n    return X\n"}), sub, "renamed", NAME)
    (sub / "notjson" / NAME).mkdir(parents=True)
    (sub / "notjson" / NAME / f"{NAME}.ipynb").write_text('{"cells": [')
    (sub / "nonotebook" / NAME).mkdir(parents=True)
    (sub / "nonotebook" / NAME / "my_work.ipynb").write_text("{}")
    (sub / "other_course_only" / "another_assignment").mkdir(parents=True)
    proc = autograder("grade", NAME, str(sub), "--workers", "2", "--json", str(root / "out.json"))
    return root, proc, json.loads((root / "out.json").read_text())


def test_bad_input_is_reported_scored_and_the_rest_graded(bad_class):
    """Each broken notebook gets a clear error and a score; the batch goes on; exit 2."""
    root, proc, out = bad_class
    assert proc.returncode == 2, proc.stderr
    students = out["students"]
    assert set(students) == {"ada", "deleted", "duplicated", "renamed", "notjson", "nonotebook"}
    assert students["ada"]["score"] == 100 and students["ada"]["errors"] == []
    expectations = {
        "deleted": ("`pool_forward` is missing", "pool_forward"),
        "duplicated": ("2 answer cells for `zero_pad`", None),
        "renamed": ("defines `pad_zeros` but not `zero_pad`", "zero_pad"),
        "notjson": ("not valid JSON", "all"),
        "nonotebook": ("no such notebook", "all"),
    }
    for student, (error, zeroed) in expectations.items():
        r = students[student]
        assert any(error in e for e in r["errors"]), (student, r["errors"])
        if zeroed == "all":
            assert r["score"] == 0 and r["max_score"] == 100
        elif zeroed:
            assert r["functions"][zeroed]["score"] == 0
            assert r["score"] == 100 - r["functions"][zeroed]["max_score"]
    assert students["duplicated"]["score"] == 100  # identical copies: the code itself is right


def test_json_output_has_exactly_the_documented_schema(bad_class):
    """Does --json validate against docs/results.schema.json, with nothing more?"""
    _, _, out = bad_class
    schema = json.loads((A.root / "docs" / "results.schema.json").read_text())
    jsonschema.validate(out, schema)
    with pytest.raises(jsonschema.ValidationError):  # the schema admits no extra keys
        jsonschema.validate({**out, "extra": 1}, schema)
    assert set(out) == {"assignment", "students"} and out["assignment"] == NAME
    for r in out["students"].values():
        assert set(r) == {"score", "max_score", "errors", "functions"}
        assert isinstance(r["score"], float) and isinstance(r["max_score"], float)
        assert all(isinstance(e, str) for e in r["errors"])
        assert list(r["functions"]) == A.graded_ids()
        for f in r["functions"].values():
            assert set(f) == {"score", "max_score", "tests"}
            assert f["score"] == sum(t["points"] for t in f["tests"] if t["passed"])
            for t in f["tests"]:
                assert set(t) == {"name", "passed", "points", "message"}
                assert (type(t["name"]), type(t["passed"]), type(t["points"]), type(t["message"])) == (
                    str,
                    bool,
                    float,
                    str,
                )


def test_gradebook_csv_feedback_and_table(bad_class):
    """Scores land in nbgrader's gradebook and a CSV; each student gets a feedback page."""
    root, proc, out = bad_class
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, r in out["students"].items():
            assert gb.find_submission(NAME, student).score == pytest.approx(r["score"])
        assert len(gb.find_assignment(NAME).submissions) == len(out["students"])
    csv_lines = (root / "grades" / f"{NAME}.csv").read_text().splitlines()
    assert csv_lines[0].startswith("student,score,max_score,zero_pad") and len(csv_lines) == 7
    for student in out["students"]:
        page = (root / "feedback" / student / NAME / f"{NAME}.html").read_text()
        assert student in page and "Score:" in page
    assert (root / "autograded" / "ada" / NAME / f"{NAME}.ipynb").exists()
    for student in out["students"]:
        assert student in proc.stdout  # the summary table
    assert "feedback:" in proc.stdout


def test_nbgrader_export_sees_the_scores(bad_class, tmp_path):
    """`nbgrader export` (the real command) reads our scores from the gradebook."""
    root, _, out = bad_class
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "export", f"--CourseDirectory.root={root}", f"--to={tmp_path / 'export.csv'}"],
        check=True, capture_output=True, env=env, cwd=root,
    )  # fmt: skip
    rows = (tmp_path / "export.csv").read_text().splitlines()[1:]
    exported = {row.split(",")[3]: float(row.split(",")[9]) for row in rows}
    assert exported == {s: r["score"] for s, r in out["students"].items()}


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", NAME, "/no/such/folder"], "does not exist"),
        (["grade", "no_such_assignment", "."], "incomplete"),
    ],
)
def test_run_errors_are_one_line_and_exit_1(args, message):
    proc = autograder(*args, check_code=1)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) <= 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_gradebook_that_cannot_be_opened_is_a_run_error(tmp_path):
    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'gradebook.db'}"
    proc = autograder("grade", NAME, str(tmp_path / "submitted"), "--gradebook", url, check_code=1)
    assert "the gradebook" in proc.stderr and "could not be opened" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # grades a class, interrupts it and grades it again
def test_interrupted_run_resumes_without_losing_or_double_counting(tmp_path):
    """Kill a run halfway; the next run grades only the rest and the totals are right."""
    sub = tmp_path / "submitted"
    students = ["s1", "s2", "s3", "s4"]
    for s in students:
        write_submission(build_submission(A), sub, s, NAME)
    write_submission(build_submission(A, perfect=False), sub, "s5", NAME)
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", NAME, str(sub)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list((tmp_path / "autograded").glob(f"*/{NAME}/results.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.parts[-3] for p in (tmp_path / "autograded").glob(f"*/{NAME}/results.json")}
    assert 2 <= len(done_before) < 5
    rerun = autograder("grade", NAME, str(sub), "--json", str(tmp_path / "out.json"), check_code=0)
    assert f"({len(done_before)} unchanged since the last run" in rerun.stdout
    out = json.loads((tmp_path / "out.json").read_text())["students"]
    assert {s: r["score"] for s, r in out.items()} == {"s1": 100, "s2": 100, "s3": 100, "s4": 100, "s5": 0}
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert len(gb.find_assignment(NAME).submissions) == 5
        assert gb.find_student("s1").score == 100
    # a changed notebook is graded again; an unchanged one is not
    write_notebook(build_submission(A, perfect=False), sub / "s1" / NAME / f"{NAME}.ipynb")
    again = autograder("grade", NAME, str(sub), "--json", str(tmp_path / "out.json"), check_code=0)
    assert "(4 unchanged since the last run" in again.stdout
    assert json.loads((tmp_path / "out.json").read_text())["students"]["s1"]["score"] == 0
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert gb.find_student("s1").score == 0 and len(gb.find_assignment(NAME).submissions) == 5


def test_without_namespaces_it_warns_loudly_and_still_grades(tmp_path):
    """On a machine that can't isolate: a red warning, then correct grades anyway."""
    sub = tmp_path / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    write_submission(build_submission(A, perfect=False), sub, "ben", NAME)
    env = {"AUTOGRADER_FORCE_NO_NAMESPACES": "1"}
    proc = autograder("grade", NAME, str(sub), "--json", str(tmp_path / "out.json"), env=env, check_code=0)
    assert "WARNING: this machine cannot isolate student code" in proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())["students"]
    assert out["ada"]["score"] == 100 and out["ben"]["score"] == 0
    strict = autograder("grade", NAME, str(sub), "--isolation", "namespaces", "--force", env=env, check_code=1)
    assert "sandbox is unavailable" in strict.stderr


def test_console_script_and_module_entry_points():
    assert "release" in autograder("--help", check_code=0).stdout
    script = Path(sys.executable).parent / "autograder"
    assert "grade" in subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout
