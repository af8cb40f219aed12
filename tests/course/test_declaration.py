"""assignment.toml: a mistake stops with one clear error, never a silently ignored limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.course.assignments import Assignment, AssignmentError, available
from autograder.course.declaration import LIMIT_TYPES
from autograder.course.notebook import read_notebook
from autograder.course.points import table_points
from autograder.sandbox.limits import GiB, Limits
from tests.support import REPO

NAME = "cnn_step_by_step"


@pytest.fixture
def toml(tmp_path) -> Path:
    """An assignment.toml of a course copy (with the source notebook, for [stand_ins])."""
    real = Assignment(NAME)
    (tmp_path / "autograder" / "graders" / NAME).mkdir(parents=True)
    (tmp_path / "source" / NAME).mkdir(parents=True)
    (tmp_path / "source" / NAME / f"{NAME}.ipynb").write_bytes(real.source_notebook.read_bytes())
    return tmp_path / "autograder" / "graders" / NAME / "assignment.toml"


def refused(toml: Path, text: str) -> str:
    """The error that reading ``text`` as assignment.toml stops with (limits and stand-ins alike)."""
    toml.write_text(text)
    assignment = Assignment(NAME, root=toml.parents[3])
    with pytest.raises(AssignmentError) as e:
        assignment.limits()
    with pytest.raises(AssignmentError):
        assignment.stand_ins()
    assert str(toml) in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("name", available(REPO))
def test_the_real_files_are_valid(name):
    """Does every assignment.toml in the course pass, with its limits applied as written?"""
    assignment = Assignment(name)
    conf = assignment.config()
    limits = assignment.limits()
    assert limits.call_timeout == conf["limits"]["call_timeout"] and isinstance(limits.call_timeout, float)
    assert limits.budget_seconds == conf["limits"]["budget_seconds"]
    assert limits.env == conf["limits"].get("env", {})
    assert set(assignment.stand_ins()) == set(conf["stand_ins"])


def test_every_limit_can_be_declared(toml):
    """Is every Limits field but env a [limits] key, and memory_gib and grader_memory_gib converted to bytes?"""
    fields = {f for f in Limits.__dataclass_fields__ if f != "env"}
    assert set(LIMIT_TYPES) == fields | {"memory_gib", "grader_memory_gib"}
    toml.write_text('[limits]\ncall_timeout = 4\nmax_processes = 8\nmemory_gib = 1.5\ngrader_memory_gib = 0.5\n'
                    '[limits.env]\nA = "1"\n')  # fmt: skip
    limits = Assignment(NAME, root=toml.parents[3]).limits(cell_timeout=7)
    assert (limits.call_timeout, limits.max_processes, limits.memory_bytes) == (4.0, 8, int(1.5 * GiB))
    assert limits.grader_memory_bytes == GiB // 2
    assert limits.env == {"A": "1"} and limits.cell_timeout == 7


def test_an_unknown_key_is_named_with_every_allowed_key(toml):
    """Is a typo (call_timout) refused, with the keys [limits] allows and their types?"""
    message = refused(toml, "[limits]\ncall_timout = 5\n")
    assert "limits.call_timout" in message
    assert "call_timeout (seconds, a number)" in message and "max_processes (a whole number)" in message
    assert "memory_gib (GiB, a number)" in message and "[limits.env]" in message


def test_an_unknown_table_is_refused(toml):
    """Is a table other than [limits] and [stand_ins] (or a key outside them) refused?"""
    for text in ("[limit]\ncall_timeout = 5\n", "call_timeout = 5\n"):
        message = refused(toml, text)
        assert "unknown table or key" in message and "[limits]" in message and "[stand_ins]" in message


@pytest.mark.parametrize(
    "line, expected",
    [
        ('call_timeout = "5"', "limits.call_timeout must be seconds, a number above 0, not the text '5'"),
        ("call_timeout = true", "limits.call_timeout must be seconds, a number"),
        ("max_processes = 8.5", "limits.max_processes must be a whole number above 0, not 8.5"),
        ("memory_bytes = 1e9", "limits.memory_bytes must be bytes, a whole number"),
        ("memory_gib = [2]", "limits.memory_gib must be GiB, a number above 0, not the list [2]"),
        ("budget_seconds = inf", "limits.budget_seconds must be seconds, a number above 0"),
        ("env = 1", "limits.env must be the table [limits.env]"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(toml, line, expected):
    """Is a value of the wrong type refused when the file is read, naming the key and its type?"""
    assert expected in refused(toml, f"[limits]\n{line}\n")


@pytest.mark.parametrize("line", ["call_timeout = -5", "cell_timeout = 0", "max_processes = -1", "memory_gib = -2.0"])
def test_a_negative_or_zero_number_is_refused(toml, line):
    """Is a limit of 0 or less refused?"""
    key = line.split()[0]
    assert f"limits.{key} must be" in refused(toml, f"[limits]\n{line}\n")


def test_memory_in_two_units_is_refused(toml):
    """Are memory_gib and memory_bytes refused together (which one would win)?"""
    assert "not both" in refused(toml, "[limits]\nmemory_gib = 2\nmemory_bytes = 1024\n")


def test_env_with_a_value_that_is_not_text_is_refused(toml):
    """Is an environment variable whose value is a number refused, with its name?"""
    message = refused(toml, "[limits.env]\nTF_NUM_INTEROP_THREADS = 1\n")
    assert "limits.env.TF_NUM_INTEROP_THREADS must be text" in message and "not 1" in message


def test_a_syntax_error_names_the_file_and_the_line(toml):
    """Is a TOML syntax error an AssignmentError with the file and the line number?"""
    message = refused(toml, "[limits]\ncall_timeout = 5\ncell_timeout = = 10\n")
    assert "is not valid TOML" in message and "line 3" in message


def test_stand_ins_must_be_lists_of_names(toml):
    """Is a [stand_ins] entry that is not a list of names refused when the file is read?"""
    assert "stand_ins.conv_forward must be a list" in refused(toml, '[stand_ins]\nconv_forward = "zero_pad"\n')
    assert "stand_ins must be a table" in refused(toml, 'stand_ins = ["zero_pad"]\n')


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[points]\nzero_pad = "5"\n', "points.zero_pad must be a number of points (0 or more), not the text '5'"),
        ("[points]\nzero_pad = -1\n", "points.zero_pad must be a number of points"),
        ("[helpers]\nmodule = []\n", "unknown key helpers.module; [helpers] allows modules"),
        ('[helpers]\nmodules = ["../../etc"]\n', "helpers.modules must be a list of names in source/<assignment>/"),
        (
            '[helpers]\nmodules = ["missing.py"]\n',
            "helpers.modules names missing.py, which is not in source/cnn_step_by_step/",
        ),
        ("[tolerances]\ntight = 1e-6\n", "tolerances.tight must be a table of rtol and atol"),
        ("[tolerances]\ntight = {rtol = 1e-6, abstol = 1}\n", "tolerances.tight must be a table of rtol and atol"),
        ("[tolerances]\ntight = {rtol = -1.0}\n", "such as tight = {rtol = 1e-6, atol = 1e-8}"),
        ("[fidelity]\nmin_mutant = 3\n", "unknown key fidelity.min_mutant; [fidelity] allows min_mutants"),
        ("[fidelity]\nmin_mutants = 2.5\n", "fidelity.min_mutants must be a whole number (0 or more), not 2.5"),
        ('[fidelity]\nmutants_graded_on = "some"\n', "fidelity.mutants_graded_on must be one of 'all', 'dependents'"),
        ("[fidelity]\nvisible_checks = 0.5\n", "fidelity.visible_checks must be a fraction from 0.8 to 1"),
        ('[fidelity]\nvisible_checks = "most"\n', "fidelity.visible_checks must be a fraction from 0.8 to 1"),
        ('[grader]\npreloads = ["keras"]\n', "unknown key grader.preloads; [grader] allows preload"),
        ('[grader]\npreload = "keras"\n', 'grader.preload must be a list of module names, such as ["keras"]'),
        ('[grader]\npreload = ["os; rm -rf /"]\n', "grader.preload must be a list of module names"),
        ('[grader]\nanswers = "tests"\n', 'grader.answers must be "reference" or "per test", not the text \'tests\''),
    ],
)
def test_the_declaration_tables_are_checked_key_by_key(toml, text, expected):
    """Is a mistake in [points], [helpers], [tolerances] or [fidelity] refused, naming the key and what is allowed?"""
    assert expected in refused(toml, text)


def test_declared_tolerances_override_and_extend_the_defaults(toml):
    """Do [tolerances] entries replace a default's keys and add new names?"""
    toml.write_text("[tolerances]\nnumeric = {atol = 1e-3}\nloose = {rtol = 0.1, atol = 0.2}\n")
    tol = Assignment(NAME, root=toml.parents[3]).tolerances()
    assert tol.numeric == {"rtol": 1e-5, "atol": 1e-3} and tol.loose == {"rtol": 0.1, "atol": 0.2}
    assert tol.tight == {"rtol": 1e-6, "atol": 1e-8}


def test_the_notebook_must_show_the_declared_points(toml):
    """Is a notebook showing other points than assignment.toml named, with both numbers and `autograder release`?"""
    assignment = Assignment(NAME, root=toml.parents[3])
    real = Assignment(NAME).config()["points"]
    lines = "".join(f"{k} = {v:g}\n" for k, v in real.items())
    toml.write_text("[points]\n" + lines)
    assert assignment.check_points() == {k: float(v) for k, v in real.items()}
    toml.write_text("[points]\n" + lines.replace("zero_pad = 5", "zero_pad = 6"))
    with pytest.raises(
        AssignmentError, match=r"zero_pad is worth 6 points in .*assignment.toml, but 5 in nbgrader"
    ) as e:
        assignment.check_points()
    assert f"run `autograder release {NAME}`" in str(e.value)
    toml.write_text("[points]\n" + lines.replace("zero_pad = 5\n", ""))
    with pytest.raises(AssignmentError, match="must list every graded function once; missing: zero_pad"):
        assignment.check_points()


def test_the_points_table_is_read_from_the_introduction():
    """Is the notebook's points table read row by row, names in backticks, numbers in order?"""
    keras = Assignment("keras_resnet", root=REPO)
    assert table_points(read_notebook(keras.source_notebook)) == keras.points()  # (resnet34, in parentheses, is not)


def test_dependents_follow_the_stand_ins_transitively():
    """Are a function's dependents every graded function that calls it through the grader, directly or not?"""
    keras = Assignment("keras_resnet", root=REPO)
    assert keras.dependents("BasicBlock") == ["ResNet", "resnet18", "resnet34"]
    assert keras.dependents("identity_block") == ["ResNet50"] and keras.dependents("resnet18") == []
    assert Assignment(NAME, root=REPO).dependents("zero_pad") == ["conv_backward", "conv_forward"]
