"""pytest plugin that turns a grader run into one student's scores.

Load it with ``-p autograder.grader.plugin``. It provides:

- the marker ``@pytest.mark.share(n)``: a test's share of its function's points, which
  assignment.toml's ``[points]`` declares (1 if absent; otter's per-case weights). A test is
  worth points * share / (the shares of all the function's tests);
- the fixture ``student``: the submission, running in a sandbox (``StudentSession``);
- the grading library's fixtures (``autograder/kit/fixtures.py``): ``assignment``, ``spec``,
  ``reference``, ``tolerances``, ``grader_helpers``, ``rng`` and ``distinct``;
- ``--spec PATH``: the run's grading spec (``spec.py``: limits, isolation, tolerances,
  stand-ins), the one file the run hands every grader process;
- ``--results PATH``: where the scores are written as JSON when the run ends.

The graded function of a test is its module's name: ``test_zero_pad.py`` grades
``zero_pad``. A test's first docstring line is its description for the student.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from autograder.course import cells_run, definitions
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import NotebookError, plan_submission, read_notebook
from autograder.course.points import scaled
from autograder.grader.failures import StudentCodeError
from autograder.grader.session import StudentSession
from autograder.kit import checks, explain
from autograder.kit.fixtures import assignment_of, spec_of
from autograder.outputs.results import FunctionResult, GradingFacts, StudentResult, TestResult
from autograder.run.intake import read_submission
from autograder.sandbox import grader_memory
from autograder.sandbox.forked import Template
from autograder.text import clean, clean_messages


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading a submission")
    group.addoption("--submission", help="the student's notebook to grade")
    group.addoption("--assignment", help="assignment name (default: the graders folder's name)")
    group.addoption("--course", help="the course folder (default: the one the graders folder is in)")
    group.addoption("--student", default="student", help="student id, for the results file")
    group.addoption("--results", help="write scores as JSON to this path")
    group.addoption(
        "--spec",
        help="the run's grading spec, a JSON file (autograder/grader/spec.py): limits, isolation, tolerances, "
        "stand-ins (default: the assignment's declaration, with the best sandbox available)",
    )
    group.addoption(
        "--grader-cgroup",
        help="(internal) the cgroup.procs file of the memory cgroup the caller made for this grader process",
    )


pytest_plugins = ("autograder.kit.fixtures",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "share(n): a grader test's share of its function's points (default 1)")
    if config.getoption("spec"):
        spec_of(config)  # read now: a file that is not a grading spec stops the run before anything runs
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


def share_of(item: pytest.Item) -> float:
    """A test's share of its function's points: ``@pytest.mark.share(n)``, or 1 without a marker."""
    if item.get_closest_marker("points") is not None:  # a grader written before points were declared once
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.points is no longer read: a function's points are declared once, in "
            "assignment.toml's [points]; give this test its share of them with @pytest.mark.share(n) (default 1)"
        )
    marker = item.get_closest_marker("share")
    if marker is None:
        return 1.0
    share = marker.args[0] if len(marker.args) == 1 and not marker.kwargs else None
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < float("inf"):
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.share takes one number above 0, the test's share of its "
            f"function's points, such as @pytest.mark.share(2); not {marker}"
        )
    return float(share)


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


def shares_by_function(
    assignment: Assignment, declared: dict[str, float], items: list[pytest.Item], only_some: bool
) -> dict[str, float]:
    """The sum of each graded function's test shares, once every function with tests has ``declared``
    points and (unless the run grades only some) every declared function has tests; otherwise the
    grader author's mistake stops the run, named."""
    shares: dict[str, float] = {}
    for item in items:
        shares[grade_id_of(item)] = shares.get(grade_id_of(item), 0.0) + share_of(item)
    for function in sorted(set(declared) | set(shares)):
        if function not in declared:
            raise pytest.UsageError(
                f"{assignment.graders_dir} has tests of {function}, but {assignment.declaration} declares no points "
                f"for it; add {function} = <points> to its [points], or remove test_{function}.py"
            )
        if function not in shares and not only_some:
            raise pytest.UsageError(
                f"{assignment.declaration} declares {declared[function]:g} points for {function}, but "
                f"{assignment.graders_dir} has no tests of it; add test_{function}.py"
            )
    return shares


# The sandbox template of the warm grader that forked this grader run, if one did (``WarmSandbox``).
WARM_TEMPLATE = pytest.StashKey["Template | None"]()


class WarmSandbox:
    """Hands a warm grader's sandbox template to one grader run: ``grader_server.serve`` passes it to
    ``pytest.main``, and the run's sandboxes fork from it (``sandbox/warm.py``)."""

    def __init__(self, template: Template | None):
        self.template = template

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[WARM_TEMPLATE] = self.template


class GradingRun:
    """Collects each test's verdict and writes the student's scores at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.started = time.monotonic()
        self.records: dict[str, dict] = {}
        self.session: StudentSession | None = None
        self.bad_input: list[str] = []
        self.out_of_memory = False  # a MemoryError in the grader (RLIMIT_DATA): no scores at all
        self.points: dict[str, float] = {}  # function -> its points (assignment.toml's [points])
        self.shares: dict[str, float] = {}  # function -> the shares of all its tests

    # --- the submission ---------------------------------------------------------------

    def assignment(self) -> Assignment:
        return assignment_of(self.config)

    def start_session(self, helpers: dict | None) -> StudentSession:
        opt = self.config.getoption
        assignment = self.assignment()
        spec = spec_of(self.config)
        # Bound this process's memory before the student's code runs or sends anything, and
        # after the graders' imports (TensorFlow), which are the same for every student.
        grader_memory.bound_grader(opt("grader_cgroup"), spec.limits.grader_memory_bytes)
        limits, isolate = spec.limits, spec.isolation == "namespaces"  # (the spec's: decided once, where it was made)
        try:
            release_nb = read_notebook(assignment.release_notebook)
            submission = plan_submission(read_submission(Path(opt("submission"))), release_nb)
        except NotebookError as e:
            e = NotebookError(str(e).replace(str(Path(opt("submission"))), Path(opt("submission")).name))
            self.bad_input.append(str(e))
            return StudentSession(None, assignment.release_dir, limits, isolate,
                                  unavailable=f"Your notebook could not be read: {e}")  # fmt: skip
        self.bad_input.extend(submission.problems)
        template = self.config.stash.get(WARM_TEMPLATE, None)  # (None: not forked by a warm grader: start cold)
        return StudentSession(submission, assignment.release_dir, limits, isolate, helpers, stand_ins=spec.stand_ins,
                              template=template)  # fmt: skip

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
        try:
            self.points = self.assignment().points()
        except AssignmentError as e:  # [points] missing or not naming every graded function: the author's to fix
            raise pytest.UsageError(str(e)) from None
        self.shares = shares_by_function(self.assignment(), self.points, items, only_some)
        for item in items:
            function = grade_id_of(item)
            self.records[item.nodeid] = {
                "function": function,
                "name": item.name,
                "description": description_of(item),
                "share": share_of(item),
                "worth": scaled(self.points[function], share_of(item), self.shares[function]),
                "passed": False,
                "message": "This check was not run.",
            }

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is not None and call.excinfo.errisinstance(MemoryError):
            # the grader process's own limit (grader_memory.bound_grader): grading stops for this
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
            session.exitstatus = grader_memory.GRADER_MEMORY_EXIT  # no results: grading.py says why
            return
        if path and exitstatus in (0, 1):  # not after a usage or internal error: no 0-of-0 result
            Path(path).write_text(json.dumps(self.results().record(), indent=1))

    def results(self) -> StudentResult:
        """The student's scores (``record()`` is what the run saves); every string in them is ``text.clean``'s."""
        assignment = self.assignment()
        tests: dict[str, list[TestResult]] = {gid: [] for gid in assignment.graded_ids()}
        passed: dict[str, float] = {}  # function -> the shares of its tests that passed
        for record in self.records.values():
            function = record["function"]
            test = TestResult(
                name=clean(record["name"]),
                passed=record["passed"],
                points=record["worth"],
                message=clean(record["message"]),
                description=clean(record["description"]),
            )
            tests.setdefault(function, []).append(test)
            passed[function] = passed.get(function, 0.0) + (record["share"] if record["passed"] else 0.0)
        functions: dict[str, FunctionResult] = {}
        for gid, done in tests.items():
            if not done:
                functions[clean(gid)] = FunctionResult(0.0, 0.0)
                continue
            # the declared points, shared by the tests by their shares (multiplied first: exact)
            score = scaled(self.points[gid], passed[gid], self.shares[gid])
            functions[clean(gid)] = FunctionResult(score, self.points[gid], tuple(done))
        errors = list(self.bad_input)
        ran_cells = None
        if self.session is not None:
            errors.extend(explain.student_error(note) for note in self.session.notes)
            if summary := self.session.output_summary():
                errors.append(summary)
            ran_cells, elsewhere = self.defined_elsewhere(list(tests))
            errors.extend(elsewhere)
        facts = GradingFacts(
            isolation="namespaces" if self.session and self.session.isolate else "process",
            seconds=round(time.monotonic() - self.started, 2),
            student_seconds=round(self.session.spent, 2) if self.session else 0.0,
            sandbox_starts=dict(self.session.starts) if self.session else {},
        )
        if ran_cells is not None:
            facts["cells_run"] = ran_cells  # which cells ran, completely or partly: what the class report reads
        return StudentResult(
            clean(assignment.name),
            clean(self.config.getoption("student")),
            sum(f.score for f in functions.values()),
            sum(f.max_score for f in functions.values()),
            functions,
            tuple(clean_messages(errors)),
            bool(self.bad_input),
            facts,
        )

    def defined_elsewhere(self, graded: list[str]) -> tuple[dict | None, list[str]]:
        """How the notebook's cells ran (``cells_run.record``), and a note for each graded function
        whose definition in force when the graders called it is outside its answer cell."""
        submission = self.session.submission if self.session is not None else None
        ran = cells_run.record(submission.cells, self.session.loads) if submission else None
        if ran is None:
            return None, []  # the sandbox never ran the notebook: nothing was graded from it
        located = definitions.locate(submission.cells, cells_run.parse_ran(ran), graded,
                                     safe_modules=definitions.safe_modules(self.assignment()))  # fmt: skip
        return ran, [note for loc in located.values() if (note := loc.student_note())]
