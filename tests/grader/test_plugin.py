"""Does the pytest plugin turn a grader run into scores, and stop a grader author's mistakes by name?
(autograder/grader/plugin.py, with the fixtures of autograder/kit/fixtures.py)

Each test builds a tiny course in pytester's folder and runs the plugin in a subprocess,
the way ``autograder.run.grading`` does. No submission is needed: ``--collect-only`` lists
the tests, and grader tests that don't ask for ``student`` run without a sandbox.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from autograder.grader.failures import StudentCodeError
from autograder.grader.plugin import student_message
from autograder.kit.checks import Mismatch
from autograder.run.grading import GRADERS_INI

NAME = "toy"
# Graded functions in notebook order (not alphabetical, so the order is visibly the notebook's).
ANSWERS = {"scale": "def scale(x, k):\n    return x * k\n", "add": "def add(a, b):\n    return a + b\n"}
POINTS = {"scale": 3, "add": 2}


def nbgrader(grade_id: str, **flags: object) -> dict:
    meta = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False, **flags}
    return {"nbgrader": meta}


def code(source: str, metadata: dict) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [], "source": source}


def notebook(points: dict[str, float]) -> dict:
    """An nbgrader source notebook: a set-up cell, then each answer with its visible test cell."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Toy assignment"},
        code("import math", nbgrader("setup", locked=True)),
    ]
    for function, source in ANSWERS.items():
        cells.append(code(source, nbgrader(function, solution=True)))
        cells.append(code(f"assert {function}", nbgrader(f"test_{function}", grade=True, locked=True,
                                                         points=points[function])))  # fmt: skip
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


class Course:
    """A course folder with one assignment, NAME, and its graders."""

    def __init__(self, root: Path, points: dict[str, float] = POINTS, tolerances: str = ""):
        self.root = root
        self.graders = root / "autograder" / "graders" / NAME
        self.graders.mkdir(parents=True)
        table = "\n".join(f"{f} = {p}" for f, p in points.items())
        (self.graders / "assignment.toml").write_text(f"[points]\n{table}\n{tolerances}\n")
        source = root / "source" / NAME
        source.mkdir(parents=True)
        (source / f"{NAME}.ipynb").write_text(json.dumps(notebook(points)))

    def grader(self, function: str, body: str) -> Path:
        path = self.graders / f"test_{function}.py"
        path.write_text("import pytest\n\nfrom autograder.kit import checks\n\n" + textwrap.dedent(body))
        return path


@pytest.fixture
def course(pytester: pytest.Pytester) -> Course:
    # (in a sub-folder: the subprocess runs in pytester.path, and a folder named
    # autograder there would shadow the real package)
    return Course(pytester.path / "course")


def run(pytester: pytest.Pytester, course: Course, *args: str, targets: list[Path] | None = None):
    """The plugin over the graders (or the given files), as autograder.run.grading runs it; and the results."""
    results = pytester.path / "results.json"
    results.unlink(missing_ok=True)
    outcome = pytester.runpytest_subprocess(
        *[str(t) for t in targets or [course.graders]],
        "-c", str(GRADERS_INI), "--rootdir", str(course.graders),
        "-p", "autograder.grader.plugin", "--assignment", NAME, "--course", str(course.root),
        "--results", str(results), "-p", "no:cacheprovider", *args,
    )  # fmt: skip
    return outcome, json.loads(results.read_text()) if results.exists() else None


SCALE = '''
@pytest.mark.share(2)
def test_doubles(reference):
    """Doubles a number.

    (More lines: not part of the description.)
    """
    assert reference.scale(2, 2) == 4


@pytest.mark.share(1)
def test_halves():
    assert True
'''
ADD = '''
@pytest.mark.share(2)
def test_adds():
    """Adds two numbers."""
'''


def test_collect_only_lists_every_test_unscored_in_notebook_order(pytester, course):
    """With --collect-only, are all tests listed unscored, with points and descriptions, by function in notebook order?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE)
    outcome, results = run(pytester, course, "--collect-only")
    assert outcome.ret == 0, outcome.stdout.str() + outcome.stderr.str()
    assert list(results["functions"]) == ["scale", "add"]
    assert results["functions"]["scale"] == {
        "score": 0.0,
        "max_score": 3.0,
        "tests": [
            {"name": "test_doubles", "passed": False, "points": 2.0, "message": "This check was not run.",
             "description": "Doubles a number."},
            {"name": "test_halves", "passed": False, "points": 1.0, "message": "This check was not run.",
             "description": ""},
        ],
    }  # fmt: skip
    assert [t["name"] for t in results["functions"]["add"]["tests"]] == ["test_adds"]
    assert (results["assignment"], results["score"], results["max_score"]) == (NAME, 0.0, 5.0)
    assert results["errors"] == [] and results["bad_input"] is False


def test_a_run_scores_each_test_with_a_student_message(pytester, course):
    """Run without a submission, is each verdict scored, with the message the student would read?"""
    course.grader("scale", SCALE)
    course.grader(
        "add",
        '''
        @pytest.mark.share(0.5)
        def test_mismatch():
            """Adds floats."""
            checks.close(1.0, 2.0, "add(1, 1)")

        @pytest.mark.share(0.5)
        def test_bare_assert():
            assert 123.456 == 0

        @pytest.mark.share(0.5)
        def test_grader_trouble():
            {}["secret_key"]

        @pytest.mark.share(0.5)
        def test_skipped():
            pytest.skip("not today")
        ''',
    )
    outcome, results = run(pytester, course)
    assert outcome.ret == 1  # some tests failed: the normal outcome of grading
    messages = {t["name"]: (t["passed"], t["message"]) for f in results["functions"].values() for t in f["tests"]}
    assert messages == {
        "test_doubles": (True, "Doubles a number."),
        "test_halves": (True, "Passed."),
        "test_mismatch": (False, "add(1, 1) should be a NumPy array, but it is a float."),
        "test_bare_assert": (False, "Your answer did not pass this check."),
        "test_grader_trouble": (False, "The grader could not check your answer (it got KeyError while reading your result)."),
        "test_skipped": (False, "This check was not run."),
    }  # fmt: skip
    assert results["functions"]["scale"]["score"] == 3.0 and results["functions"]["add"]["score"] == 0.0
    assert results["score"] == 3.0 and results["max_score"] == 5.0
    assert "123.456" not in json.dumps(results) and "secret_key" not in json.dumps(results)


def test_a_test_without_a_share_marker_takes_one_share(pytester, course):
    """Does a test without @pytest.mark.share count as one share (1 : 1 of scale's 3 points)?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE.replace("@pytest.mark.share(2)\n", ""))
    outcome, results = run(pytester, course, "--collect-only")
    assert outcome.ret == 0, outcome.stderr.str()
    assert [t["points"] for t in results["functions"]["scale"]["tests"]] == [1.5, 1.5]


@pytest.mark.parametrize("marker", ["share()", "share(0)", 'share("2")'])
def test_a_malformed_share_is_a_usage_error_naming_the_test(pytester, course, marker):
    """Does a share marker without one number above 0 stop the run, naming the test and an example?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE.replace("share(1)", marker))
    outcome, _ = run(pytester, course, "--collect-only")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*test_scale.py::test_halves: @pytest.mark.share takes one number above 0*"])


def test_a_points_marker_stops_the_run_saying_where_points_are_declared(pytester, course):
    """Is a grader still marked @pytest.mark.points(n) stopped, pointing to [points] and the share marker?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE.replace("@pytest.mark.share(1)", "@pytest.mark.points(1)"))
    outcome, _ = run(pytester, course, "--collect-only")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(
        ["*test_scale.py::test_halves: @pytest.mark.points is no longer read*[[]points[]]*@pytest.mark.share(n)*"]
    )


def test_shares_divide_the_declared_points(pytester, course):
    """Are scale's 3 declared points shared 2 : 4 by its tests (1 and 2), and is a failed test's share lost?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE.replace("share(1)", "share(4)").replace("assert True", "assert False"))
    outcome, results = run(pytester, course)
    assert outcome.ret == 1, outcome.stdout.str()
    scale = results["functions"]["scale"]
    assert [(t["passed"], t["points"]) for t in scale["tests"]] == [(True, 1.0), (False, 2.0)]
    assert (scale["score"], scale["max_score"]) == (1.0, 3.0)
    assert (results["score"], results["max_score"]) == (3.0, 5.0)  # add: its one test passes, 2 of 2


def test_a_function_without_tests_stops_a_whole_run(pytester, course):
    """Run over the whole graders folder, is a graded function with no tests at all named?"""
    course.grader("scale", SCALE)
    outcome, _ = run(pytester, course, "--collect-only")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*assignment.toml declares 2 points for add, but * has no tests of it*"])


def test_tests_of_an_undeclared_function_stop_the_run(pytester, course):
    """Is a grader file for a function that [points] doesn't list named, with what to add?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE)
    course.grader("extra", ADD.replace("test_adds", "test_more"))
    outcome, _ = run(pytester, course, "--collect-only")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["* has tests of extra, but *assignment.toml declares no points for it; add extra =*"])


def test_points_that_do_not_name_every_graded_function_stop_the_run(pytester, course):
    """Is a [points] table without one of the notebook's graded functions a usage error, naming it?"""
    course.grader("add", ADD)
    course.grader("scale", SCALE)
    (course.graders / "assignment.toml").write_text("[points]\nscale = 3\n")
    outcome, _ = run(pytester, course, "--collect-only")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*assignment.toml: [[]points[]] must list every graded function once; missing: add*"])


def test_naming_some_test_files_checks_only_their_functions(pytester, course):
    """Run on one grader file, are the other functions' missing tests let be, and its own tests given its points?"""
    scale = course.grader("scale", SCALE)
    outcome, results = run(pytester, course, "--collect-only", targets=[scale])
    assert outcome.ret == 0, outcome.stderr.str()
    assert results["functions"]["scale"]["max_score"] == 3.0
    assert results["functions"]["add"] == {"score": 0.0, "max_score": 0.0, "tests": []}


def test_shares_may_be_fractions(pytester, course):
    """Do fractional shares divide the points exactly (0.5 : 1.5 : 1 of 3 points)?"""
    course.grader("add", ADD)
    course.grader(
        "scale",
        """
        @pytest.mark.share(0.5)
        def test_a(): pass

        @pytest.mark.share(1.5)
        def test_b(): pass

        @pytest.mark.share(1)
        def test_c(): pass
        """,
    )
    outcome, results = run(pytester, course, "--collect-only")
    assert outcome.ret == 0, outcome.stderr.str()
    assert [t["points"] for t in results["functions"]["scale"]["tests"]] == [0.5, 1.5, 1.0]


def test_a_blank_docstring_is_an_empty_description(pytester, course):
    """Is a docstring of only spaces read as no description (rather than crashing the run)?"""
    course.grader("add", ADD.replace('"""Adds two numbers."""', '"""   """'))
    course.grader("scale", SCALE)
    outcome, results = run(pytester, course, "--collect-only")
    assert outcome.ret == 0, outcome.stdout.str()
    assert results["functions"]["add"]["tests"][0]["description"] == ""


def test_a_parametrised_test_names_its_case(pytester, course):
    """Does each case of a parametrised test say which one it is ({name} filled in, or its id added)?"""
    course.grader("add", ADD)
    course.grader(
        "scale",
        """
        import pytest

        @pytest.mark.share(0.5)
        @pytest.mark.parametrize("name", ["W1", "b1"])
        def test_gradient(name):
            \"\"\"grads['{name}'] is right.\"\"\"

        @pytest.mark.share(1)
        @pytest.mark.parametrize("reg", [0.0, 0.5])
        def test_loss(reg):
            \"\"\"The loss is right.\"\"\"
        """,
    )
    outcome, results = run(pytester, course, "--collect-only")
    assert outcome.ret == 0, outcome.stdout.str()
    described = [t["description"] for t in results["functions"]["scale"]["tests"]]
    assert described == ["grads['W1'] is right.", "grads['b1'] is right.", "The loss is right. (0.0)",
                         "The loss is right. (0.5)"]  # fmt: skip


# --- the grading library's fixtures -------------------------------------------------------

FIXTURES = '''
import numpy as np
from pathlib import Path


@pytest.mark.share(1)
def test_tolerances(tolerances):
    """The declared tolerances, with the defaults for the rest."""
    assert tolerances.tight == {"rtol": 0.25, "atol": 1e-8}
    assert tolerances["numeric"] == {"rtol": 1e-5, "atol": 1e-6}
    assert tolerances.training == {"rtol": 0.0, "atol": 0.5}


@pytest.mark.share(1)
def test_assignment_and_reference(assignment, reference, grader_helpers):
    """The assignment, its reference answers (the source notebook's cells), and no stand-ins."""
    assert assignment.name == "toy" and Path(assignment.root).name == "course"
    assert reference.scale(3, 4) == 12 and reference.add(1, 2) == 3 and reference.math.pi > 3
    assert grader_helpers == {}


@pytest.mark.share(0.5)
def test_rng_first(rng, request):
    """rng: seeded from the test's id."""
    import zlib
    expected = np.random.default_rng(zlib.crc32(request.node.nodeid.encode())).standard_normal(3)
    assert np.array_equal(rng.standard_normal(3), expected)


@pytest.mark.share(0.5)
def test_distinct(distinct):
    """distinct: all values different, in the shape and dtype asked for."""
    x = distinct(4, 5, 6, dtype=np.float32)
    assert x.shape == (4, 5, 6) and x.dtype == np.float32
    assert len(np.unique(x)) == x.size
    gaps = np.diff(np.sort(x.astype(np.float64).ravel()))
    assert gaps.min() > 0.04
'''


def test_fixtures_give_what_the_assignment_declares(pytester):
    """Do tolerances, assignment, reference, grader_helpers, rng and distinct give graders what they promise?"""
    course = Course(pytester.path / "course", tolerances="[tolerances]\ntight = {rtol = 0.25}\ntraining = {atol = 0.5}")
    course.grader("add", ADD)
    course.grader("scale", FIXTURES)
    outcome, results = run(pytester, course)
    failed = {t["name"]: t["message"] for t in results["functions"]["scale"]["tests"] if not t["passed"]}
    assert outcome.ret == 0 and failed == {}, outcome.stdout.str()
    assert results["score"] == 5.0


def test_rng_differs_between_tests_and_repeats_between_runs(pytester, course):
    """Does each test get its own random numbers, the same in every run?"""
    course.grader("add", ADD)
    course.grader(
        "scale",
        """
        import json
        from pathlib import Path

        OUT = Path(__file__).parents[3] / "draws.jsonl"

        @pytest.mark.share(1.5)
        def test_one(rng):
            with OUT.open("a") as f:
                f.write(json.dumps(["one", rng.random()]) + "\\n")

        @pytest.mark.share(1.5)
        def test_two(rng):
            with OUT.open("a") as f:
                f.write(json.dumps(["two", rng.random()]) + "\\n")
        """,
    )
    for _ in range(2):
        outcome, _ = run(pytester, course)
        assert outcome.ret == 0, outcome.stdout.str()
    draws = [json.loads(line) for line in (course.root / "draws.jsonl").read_text().splitlines()]
    by_test = {name: {value for n, value in draws if n == name} for name in ("one", "two")}
    assert len(by_test["one"]) == 1 and len(by_test["two"]) == 1 and by_test["one"] != by_test["two"]


# --- student_message ----------------------------------------------------------------------


def excinfo_of(error: BaseException) -> pytest.ExceptionInfo:
    with pytest.raises(type(error)) as excinfo:
        raise error
    return excinfo


def test_a_mismatch_is_shown_with_its_hint():
    """Does a Mismatch reach the student as written, hint included?"""
    message = student_message(excinfo_of(Mismatch("out has shape (2,), but should have shape (3,).", hint="h.")))
    assert message == "out has shape (2,), but should have shape (3,). Hint: h."


def test_a_student_code_error_is_shown():
    """Does a failed call into student code reach the student as its own message?"""
    error = StudentCodeError("exception", "zero_pad raised ValueError: bad pad")
    assert student_message(excinfo_of(error)) == "zero_pad raised ValueError: bad pad"


def test_a_bare_assertion_reveals_nothing():
    """Does a bare assert (whose text would show hidden values) become a generic message?"""
    message = student_message(excinfo_of(AssertionError("assert 123.456 == expected_secret")))
    assert message == "Your answer did not pass this check."


def test_a_skip_is_a_check_not_run():
    """Is a skipped check reported as not run?"""
    with pytest.raises(pytest.skip.Exception) as excinfo:
        pytest.skip("internal reason")
    assert student_message(excinfo) == "This check was not run."


@pytest.mark.parametrize(
    "error", [KeyError("secret_key"), TypeError("'NoneType' is not subscriptable"), ZeroDivisionError()]
)
def test_any_other_error_names_only_its_type(error):
    """Does a grader's own error name only its type, never its text?"""
    message = student_message(excinfo_of(error))
    assert (
        message == f"The grader could not check your answer (it got {type(error).__name__} while reading your result)."
    )
    assert str(error) == "" or str(error) not in message
