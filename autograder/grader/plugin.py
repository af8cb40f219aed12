"""pytest plugin that turns a grader run into one student's scores.

Load it with ``-p autograder.grader.plugin``. It provides:

- the marker ``@pytest.mark.points(n)``: what a test is worth (required on every test);
  a function's tests must add up to its points in assignment.toml (checked at collection);
- the fixture ``student``: the submission, running in a sandbox (``StudentSession``);
- the grading library's fixtures (``autograder/kit/fixtures.py``): ``assignment``,
  ``reference``, ``tolerances``, ``grader_helpers``, ``rng`` and ``distinct``;
- ``--results PATH``: where the scores are written as JSON when the run ends.

The graded function of a test is its module's name: ``test_zero_pad.py`` grades
``zero_pad``. A test's first docstring line is its description for the student.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.course import definitions
from autograder.course.assignments import Assignment
from autograder.course.notebook import NotebookError, plan_submission, read_notebook
from autograder.grader.session import StudentCodeError, StudentSession
from autograder.kit import checks, explain
from autograder.kit.fixtures import assignment_of
from autograder.run.intake import read_submission
from autograder.sandbox import memory
from autograder.sandbox.isolation import isolation_mode
from autograder.text import clean, clean_messages, clean_tree


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading a submission")
    group.addoption("--submission", help="the student's notebook to grade")
    group.addoption("--assignment", help="assignment name (default: the graders folder's name)")
    group.addoption("--course", help="the course folder (default: the one the graders folder is in)")
    group.addoption("--student", default="student", help="student id, for the results file")
    group.addoption("--results", help="write scores as JSON to this path")
    group.addoption("--call-timeout", type=float, help="seconds per call into student code")
    group.addoption("--cell-timeout", type=float, help="seconds per notebook cell")
    group.addoption("--memory-gib", type=float, help="memory limit of the sandbox, in GiB")
    group.addoption("--budget", type=float, help="seconds for all of this submission's code together")
    group.addoption(
        "--isolation",
        choices=("auto", "namespaces", "process"),
        default="auto",
        help="namespaces: full sandbox (fail if unavailable); process: limits only; auto: best available",
    )
    group.addoption(
        "--isolation-checked",
        action="store_true",
        help="(internal) the caller has just checked that --isolation namespaces works here: don't probe again",
    )
    group.addoption("--record-expected", help="(testing) save the expected values the graders used")
    group.addoption(
        "--grader-cgroup",
        help="(internal) the cgroup.procs file of the memory cgroup the caller made for this grader process",
    )


pytest_plugins = ("autograder.kit.fixtures",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points a grader test is worth")
    if config.getoption("submission") or config.getoption("results"):  # (results alone: --collect-only)
        config.pluginmanager.register(GradingRun(config), "autograder-grading-run")


def grade_id_of(item: pytest.Item) -> str:
    return Path(str(item.fspath)).stem.removeprefix("test_")


def description_of(item: pytest.Item) -> str:
    """A test's first docstring line, naming its case when it is parametrised: ``{name}`` in
    the line is filled in from the parameters, and otherwise the case's id is appended."""
    line = next(iter((item.function.__doc__ or "").strip().splitlines()), "")
    callspec = getattr(item, "callspec", None)
    if not callspec or not line:
        return line
    try:
        filled = line.format(**{k: v for k, v in callspec.params.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        filled = line
    return filled if filled != line else f"{line} ({callspec.id})"


def points_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: every grader test needs @pytest.mark.points(n)")
    return float(marker.args[0])


def student_message(excinfo: pytest.ExceptionInfo) -> str:
    """The reason a test failed, as a student may see it (never grader internals)."""
    e = excinfo.value
    if isinstance(e, StudentCodeError) and e.kind == "exception":
        return explain.student_error(str(e))  # a known NumPy or Keras error, in a sentence
    if isinstance(e, (StudentCodeError, checks.Mismatch)):
        return str(e)
    if isinstance(e, AssertionError):
        return "Your answer did not pass this check."
    if isinstance(e, pytest.skip.Exception):
        return "This check was not run."
    return f"The grader could not check your answer (it got {type(e).__name__} while reading your result)."


def check_tests_add_up(assignment: Assignment, items: list[pytest.Item], only_some: bool) -> None:
    """Each graded function's tests add up to its declared points (all graded functions, unless
    the run grades only some); otherwise the grader author's mistake stops the run, named."""
    declared = assignment.points()
    found: dict[str, float] = {}
    for item in items:
        found[grade_id_of(item)] = found.get(grade_id_of(item), 0.0) + points_of(item)
    for function in sorted(set(declared) | set(found)):
        if only_some and function not in found:
            continue
        if found.get(function, 0.0) != declared.get(function, 0.0):
            raise pytest.UsageError(
                f"the tests of {function} in {assignment.graders_dir} are worth {found.get(function, 0.0):g} points "
                f"in all, but {assignment.declaration} declares {declared.get(function, 0.0):g}; make them agree"
            )


class GradingRun:
    """Collects each test's verdict and writes the student's scores at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.started = time.monotonic()
        self.records: dict[str, dict] = {}
        self.session: StudentSession | None = None
        self.bad_input: list[str] = []
        self.out_of_memory = False  # a MemoryError in the grader (RLIMIT_DATA): no scores at all

    # --- the submission ---------------------------------------------------------------

    def assignment(self) -> Assignment:
        return assignment_of(self.config)

    def start_session(self, helpers: dict | None) -> StudentSession:
        opt = self.config.getoption
        assignment = self.assignment()
        # Bound this process's memory before the student's code runs or sends anything, and
        # after the graders' imports (TensorFlow), which are the same for every student.
        memory.bound_grader(opt("grader_cgroup"), assignment.limits().grader_memory_bytes)
        gib = opt("memory_gib")
        limits = assignment.limits(
            call_timeout=opt("call_timeout"),
            cell_timeout=opt("cell_timeout"),
            memory_bytes=int(gib * 2**30) if gib else None,
            budget_seconds=opt("budget"),
        )
        checked = opt("isolation_checked") and opt("isolation") == "namespaces"
        isolate = checked or isolation_mode(opt("isolation")) == "namespaces"
        try:
            release_nb = read_notebook(assignment.release_notebook)
            submission = plan_submission(read_submission(Path(opt("submission"))), release_nb)
        except NotebookError as e:
            e = NotebookError(str(e).replace(str(Path(opt("submission"))), Path(opt("submission")).name))
            self.bad_input.append(str(e))
            return StudentSession(None, assignment.release_dir, limits, isolate,
                                  unavailable=f"Your notebook could not be read: {e}")  # fmt: skip
        self.bad_input.extend(submission.problems)
        return StudentSession(
            submission, assignment.release_dir, limits, isolate, helpers, stand_ins=assignment.stand_ins()
        )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Start the sandbox now, in the background: its imports then overlap the
        # graders' own set-up (the reference loads while the student's cells run).
        if session.items and self.config.getoption("submission") and not self.config.option.collectonly:
            self.session = self.start_session(None)
            self.session.start_in_background()

    @pytest.fixture(scope="session")
    def student(self, request: pytest.FixtureRequest) -> StudentSession:
        """The submission under test, loaded in a sandboxed worker."""
        try:
            helpers = request.getfixturevalue("grader_helpers")
        except pytest.FixtureLookupError:
            helpers = {}
        if self.session is None:
            self.session = self.start_session(None)
        self.session.join_start()
        self.session.helpers = helpers  # the graders' own mapping: they may fill it later
        yield self.session
        self.session.close()

    # --- verdicts ---------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        only_some = not any(Path(a).is_dir() for a in self.config.args)  # test files named: some graders
        check_tests_add_up(self.assignment(), items, only_some)
        for item in items:
            self.records[item.nodeid] = {
                "function": grade_id_of(item),
                "name": item.name,
                "description": description_of(item),
                "worth": points_of(item),
                "passed": False,
                "message": "This check was not run.",
            }

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is not None and call.excinfo.errisinstance(MemoryError):
            # the grader process's own limit (memory.bound_grader): grading stops for this
            # student; no check passes or fails on a grader that could not hold its data
            self.out_of_memory = True
            item.session.shouldstop = "the grader process ran out of memory"
        record = self.records.get(item.nodeid)
        if record is None:
            return
        if report.when == "call" and report.passed:
            record["passed"], record["message"] = True, record["description"] or "Passed."
        elif report.failed or report.skipped:
            if report.when == "teardown" and record["passed"]:
                return  # a failed clean-up doesn't undo a verdict
            record["passed"] = False
            record["message"] = student_message(call.excinfo) if call.excinfo else "This check was not run."

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.session is not None:  # normally closed by the fixture already; safe twice
            self.session.join_start()
            self.session.close()
        path = self.config.getoption("results")
        if self.out_of_memory:
            session.exitstatus = memory.GRADER_MEMORY_EXIT  # no results: grading.py says why
            return
        if path and exitstatus in (0, 1):  # not after a usage or internal error: no 0-of-0 result
            Path(path).write_text(json.dumps(self.results(), indent=1))
        expected_path = self.config.getoption("record_expected")
        if expected_path:
            np.savez(expected_path, *[np.asarray(a, dtype=np.float64).ravel() for a in checks.EXPECTED_SEEN])

    def results(self) -> dict:
        """The student's scores; every string in it has been through ``text.clean``."""
        assignment = self.assignment()
        order = assignment.graded_ids()
        functions: dict[str, dict] = {gid: {"score": 0.0, "max_score": 0.0, "tests": []} for gid in order}
        for record in self.records.values():
            fn = functions.setdefault(record["function"], {"score": 0.0, "max_score": 0.0, "tests": []})
            fn["tests"].append(
                {
                    "name": record["name"],
                    "passed": record["passed"],
                    "points": record["worth"],
                    "message": record["message"],
                    "description": record["description"],
                }
            )
            fn["max_score"] += record["worth"]
            fn["score"] += record["worth"] if record["passed"] else 0.0
        errors = list(self.bad_input)
        cells_run = None
        if self.session is not None:
            errors.extend(explain.student_error(note) for note in self.session.notes)
            if summary := self.session.output_summary():
                errors.append(summary)
            cells_run, elsewhere = self.defined_elsewhere(list(functions))
            errors.extend(elsewhere)
        return {
            "assignment": clean(assignment.name),
            "student": clean(self.config.getoption("student")),
            "score": sum(f["score"] for f in functions.values()),
            "max_score": sum(f["max_score"] for f in functions.values()),
            "errors": clean_messages(errors),
            "bad_input": bool(self.bad_input),
            "functions": clean_tree(functions),
            "isolation": "namespaces" if self.session and self.session.isolate else "process",
            "seconds": round(time.monotonic() - self.started, 2),
            # of which waiting on the student's code (the budget it used)
            "student_seconds": round(self.session.spent, 2) if self.session else 0.0,
            # sandboxes started for it: forked from a warm grader's template, or cold (sandbox/warm.py)
            "sandbox_starts": dict(self.session.starts) if self.session else {},
            # which cells ran, completely or partly (definitions.record): what the class report reads
            **({"cells_run": cells_run} if cells_run is not None else {}),
        }

    def defined_elsewhere(self, graded: list[str]) -> tuple[dict | None, list[str]]:
        """How the notebook's cells ran (``definitions.record``), and a note for each graded function
        whose definition in force when the graders called it is outside its answer cell."""
        submission = self.session.submission if self.session is not None else None
        cells_run = definitions.record(submission.cells, self.session.loads) if submission else None
        if cells_run is None:
            return None, []  # the sandbox never ran the notebook: nothing was graded from it
        located = definitions.locate(submission.cells, definitions.parse_ran(cells_run), graded,
                                     safe_modules=definitions.safe_modules(self.assignment()))  # fmt: skip
        return cells_run, [note for loc in located.values() if (note := loc.student_note())]
