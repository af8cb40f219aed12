"""The grading pipeline (run/pipeline.py): its steps, in their order, each once; no sandbox, no grading."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from autograder import cli, console
from autograder.authoring import demo
from autograder.course import release
from autograder.course.assignments import GRADERS, Assignment
from autograder.outputs import saved
from autograder.outputs.results import FunctionResult, StudentResult
from autograder.run import class_results, class_run, pipeline
from autograder.run.layout import Layout, Report
from autograder.run.options import BatchError, Options

A = Assignment("cnn_step_by_step")
NAME = A.name


def result(student: str, score: float = 1.0) -> StudentResult:
    return StudentResult(NAME, student, score, 2.0, {"zero_pad": FunctionResult(score, 2.0)})


def submit(submitted: Path, *students: str) -> None:
    for student in students:
        (submitted / student / NAME).mkdir(parents=True)
        (submitted / student / NAME / f"{NAME}.ipynb").write_text("{}")


class Steps:
    """Stand-ins for the steps that open the gradebook, grade and write; records every step in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls: list[str] = []
        self.graded: dict | None = None
        self.gathered: dict = {}

        def recorded(name, real):
            def step(*args, **kwargs):
                self.calls.append(name)
                return real(*args, **kwargs)

            return step

        writer = types.SimpleNamespace(
            record=lambda student, result: None,
            close=lambda: self.calls.append("close gradebook"),
            manual_scores=dict,
            gb=types.SimpleNamespace(find_assignment=lambda name: types.SimpleNamespace(duedate=None)),
        )

        def grade_class(assignment, layout, options, found, *, on_result, on_progress):
            self.graded = dict(found)
            report = Report({s: result(s) for s in found})
            for s, r in report.results.items():
                on_result(s, r)
            return report

        def gather(assignment, layout, submitted, options, current=None):
            self.gathered = {"submitted": dict(submitted), "current": current}
            return real_gather(assignment, layout, submitted, options, current)

        real_gather = class_results.gather
        monkeypatch.setattr(pipeline, "discover", recorded("discover", pipeline.discover))
        monkeypatch.setattr(pipeline, "read_previous", recorded("read_previous", pipeline.read_previous))
        monkeypatch.setattr(pipeline, "open_gradebook", recorded("open_gradebook", lambda *a: writer))
        monkeypatch.setattr(pipeline, "late_policy", recorded("late_policy", pipeline.late_policy))
        monkeypatch.setattr(pipeline, "manual_grades", recorded("manual_grades", pipeline.manual_grades))
        monkeypatch.setattr(pipeline, "grade_class", recorded("grade_class", grade_class))
        monkeypatch.setattr(pipeline, "merge_grades", recorded("merge_grades", lambda *a: 0))
        monkeypatch.setattr(class_results, "gather", recorded("gather", gather))
        monkeypatch.setattr(class_results, "skeleton_of", lambda *a: {})  # (not by collecting the graders)
        monkeypatch.setattr(
            pipeline, "write_class_report", recorded("write_class_report", lambda *a, **k: (Path("page"), None))
        )


def test_the_steps_run_in_their_listed_order_each_once(tmp_path, monkeypatch):
    """Does a run discover once, check everything that can fail before grading, grade, then merge the
    grades and hand the class report the run's own results?"""
    steps = Steps(monkeypatch)
    submit(tmp_path / "submitted", "ada", "ben", "cy")
    layout = Layout.beside(tmp_path / "submitted")
    outcome = pipeline.grade(A, layout, Options(), students=["ada", "cy"])
    assert steps.calls == [
        "discover",  # once: grading and the class report both use it
        "read_previous", "open_gradebook",  # (each can stop the run: before anything is graded)
        "late_policy", "manual_grades",  # (the gradebook's due date and scores: after it is open)
        "grade_class", "close gradebook",
        "merge_grades", "gather", "write_class_report",  # (last: every grade is written by then)
    ]  # fmt: skip
    assert steps.graded == {"ada": "ada", "cy": "cy"}  # the --student selection, discovered once
    assert steps.gathered["submitted"] == {"ada": "ada", "ben": "ben", "cy": "cy"}  # the report: the whole class
    assert steps.gathered["current"] is outcome.report.results and outcome.class_report == Path("page")


def test_a_layout_problem_stops_the_run_before_anything_is_opened(tmp_path, monkeypatch):
    """An empty submissions folder, or an unknown --student: a BatchError, and no gradebook, no grading?"""
    steps = Steps(monkeypatch)
    (tmp_path / "submitted").mkdir()
    with pytest.raises(BatchError, match="it is empty"):
        pipeline.grade(A, Layout.beside(tmp_path / "submitted"), Options())
    submit(tmp_path / "submitted", "ada")
    with pytest.raises(BatchError, match="--student bob"):
        pipeline.grade(A, Layout.beside(tmp_path / "submitted"), Options(), students=["bob"])
    assert steps.calls == ["discover", "discover"]


def test_the_class_run_does_not_discover_what_it_is_given(tmp_path, monkeypatch):
    """Does grade_class take the run's discovery as given (never listing the folder again)?"""
    monkeypatch.setattr(class_run, "discover", lambda *a: pytest.fail("discovered twice"))
    (tmp_path / "submitted").mkdir()
    report = class_run.grade_class(A, Layout.beside(tmp_path / "submitted"), Options(warm=False), {})
    assert report.results == {}


def test_the_class_report_finishes_only_the_saved_results(tmp_path, monkeypatch):
    """Are this run's results taken as they are, and only saved ones (not graded now) finished, once each?"""
    finished: list[str] = []
    real = class_results.finish
    monkeypatch.setattr(class_results, "finish", lambda student, *a: (finished.append(student), real(student, *a))[1])
    layout = Layout.beside(tmp_path / "submitted")
    submit(layout.submitted, "ada", "ben")
    saved.save(layout.results_file("ben", NAME), "f" * 64, result("ben", 2.0))  # graded by an earlier run
    current = {"ada": result("ada")}
    gathered = class_results.gather(A, layout, {"ada": "ada", "ben": "ben"}, Options(), current)
    assert finished == ["ben"]
    assert gathered.results["ada"] is current["ada"] and gathered.results["ben"].score == 2.0
    assert gathered.missing == {}


def test_demo_grades_through_the_same_api_as_the_cli(tmp_path, monkeypatch):
    """Does `autograder demo` call console.grade_and_report (what `autograder grade` calls), never cli.main?"""
    calls = []
    monkeypatch.setattr(cli, "main", lambda *a: pytest.fail("the demo called back into the CLI"))
    monkeypatch.setattr(release, "release_assignment", lambda assignment, *a: tmp_path / "release" / NAME)
    monkeypatch.setattr(Assignment, "check", lambda self: self)
    monkeypatch.setattr(console, "grade_and_report", lambda *a, **k: (calls.append((a, k)), 2)[1])
    assert demo.run_demo(tmp_path, workers=1, force=True) == 0  # 2: the example class has bad input on purpose
    (assignment, layout, options), keywords = calls[0]
    assert assignment.name == NAME and layout.submitted == (tmp_path / "examples" / "submitted").resolve()
    assert (options.workers, options.force) == (1, True)
    assert keywords == {"json": tmp_path / "examples" / "grades" / f"{NAME}.json"}


def test_the_demo_releases_as_autograder_release_does(tmp_path, monkeypatch):
    """Do `autograder demo` and `autograder release` release through one function (``release_assignment``:
    the declared points written into source/, then nbgrader)?"""
    released: list[str] = []
    monkeypatch.setattr(release, "release_assignment",
                        lambda assignment, *a: (released.append(assignment.name), tmp_path / "release" / NAME)[1])  # fmt: skip
    monkeypatch.setattr(Assignment, "check", lambda self: self)
    monkeypatch.setattr(console, "grade_and_report", lambda *a, **k: 0)
    (tmp_path / GRADERS).mkdir(parents=True)  # a course folder, for --course
    assert demo.run_demo(tmp_path, workers=1) == 0
    assert cli.main(["--course", str(tmp_path), "release", NAME]) == 0
    assert released == [NAME, NAME]
