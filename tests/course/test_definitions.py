"""Where each graded function's code was when the graders called it (autograder/course/definitions.py,
bindings.py, cells_run.py).

Is the last definition that ran the one located, wherever it is? Do cells that did not run
not count, and cells that ran partly add a candidate? Is an alias followed to what it named
then, and a helper the function calls compared with it? Is what could bind a name unseen
(exec, globals(), a cell too large to read) noted rather than guessed? Nothing runs here:
cells are parsed only.
"""

from __future__ import annotations

import pytest

from autograder.authoring.submissions import build_submission
from autograder.course import cells_run, definitions
from autograder.course.assignments import Assignment, available
from autograder.course.notebook import Cell, plan_submission, read_notebook
from autograder.outputs.bounds import Bounds

OWN = "def f(x):\n    return x + 1\n"
COPY = "def f(x):\n    y = x * 2\n    return y - 3\n"


def answer(index: int, source: str, grade_id: str = "f") -> Cell:
    return Cell(index, "answer", source, grade_id)


def extra(index: int, source: str) -> Cell:
    return Cell(index, "extra", source)


def locate(cells: list[Cell], ran: dict | None = None, **bounds) -> definitions.Located:
    return definitions.locate(cells, ran, ["f"], Bounds(**bounds))["f"]


def test_a_definition_in_its_answer_cell_is_not_noted():
    found = locate([extra(0, "import numpy as np"), answer(1, OWN)])
    assert [d.cell.index for d in found.definitions] == [1]
    assert found.code() == OWN.strip()
    assert found.notes() == [] and found.student_note() is None


def test_the_last_definition_that_ran_is_the_one_located():
    """A copy pasted after the answer cell, in a cell of the student's own: is it the code compared, and noted?"""
    found = locate([answer(1, OWN), extra(4, "print('hi')\n" + COPY)])
    assert [d.cell.index for d in found.definitions] == [4]
    assert found.code() == COPY.strip()
    assert found.notes() == ["graded as defined in cell 5, outside its answer cell (its answer cell is cell 2); "
                             "that code is compared"]  # fmt: skip
    assert "`f` was graded as defined in cell 5, not in its answer cell" in found.student_note()


def test_a_definition_before_the_answer_cell_is_replaced_by_it():
    found = locate([extra(0, COPY), answer(1, OWN)])
    assert [d.cell.index for d in found.definitions] == [1] and found.notes() == []


def test_cells_that_did_not_run_do_not_count():
    """A cell skipped by the sandbox (timed out, ended the worker, after the budget) binds nothing."""
    cells = [answer(1, OWN), extra(4, COPY)]
    assert [d.cell.index for d in locate(cells, {1: "complete"}).definitions] == [1]
    assert [d.cell.index for d in locate(cells, {1: "complete", 4: "complete"}).definitions] == [4]


def test_a_cell_that_ran_partly_adds_a_candidate():
    """It raised somewhere: its definition may or may not have run, so both are compared."""
    found = locate([answer(1, OWN), extra(4, COPY + "raise ValueError\n")], {1: "complete", 4: "partial"})
    assert [d.cell.index for d in found.definitions] == [1, 4]
    assert OWN.strip() in found.code() and COPY.strip() in found.code()
    assert found.notes()[0].startswith("may have been graded as defined in cell 5, outside its answer cell")


def test_a_definition_nested_in_an_if_or_try_adds_a_candidate():
    nested = "try:\n    " + COPY.replace("\n    ", "\n        ") + "except Exception:\n    pass\n"
    found = locate([answer(1, OWN), extra(2, nested)])
    assert [d.cell.index for d in found.definitions] == [1, 2]
    assert COPY.strip() in found.code()  # (dedented: it parses as written at the top level)


def test_an_alias_is_followed_to_what_it_named_then():
    """``f = mine`` binds f to the function ``mine`` named at that point, not to a later ``mine``."""
    found = locate([extra(0, COPY.replace("def f", "def mine")), answer(1, "f = mine\n"),
                    extra(2, "def mine(x):\n    return 0\n")])  # fmt: skip
    assert [(d.cell.index, d.name) for d in found.definitions] == [(0, "mine")]
    assert "y = x * 2" in found.code()
    assert found.notes()[0].startswith("graded as defined in cell 1, outside its answer cell")


def test_a_one_line_answer_compares_the_helpers_it_calls():
    """An answer that calls a pasted copy compares the copy; graded and release names are not followed."""
    cells = [
        Cell(-1, "setup", "import numpy as np\ndef provided(x):\n    return x\n", "setup_imports"),
        extra(3, COPY.replace("def f", "def _impl") + "\ndef _deeper():\n    return 1\n"),
        answer(4, "def f(x):\n    return _impl(x) + g(x) + provided(np.ones(1))\n"),
        answer(5, "def g(x):\n    return _deeper()\n", "g"),
    ]
    located = definitions.locate(cells, None, ["f", "g"])
    assert [h.name for h in located["f"].helpers] == ["_impl"]  # not g (graded), provided or np (release)
    assert "y = x * 2" in located["f"].code() and located["f"].notes() == []
    assert [h.name for h in located["g"].helpers] == ["_deeper"]
    lam = locate([extra(0, COPY.replace("def f", "def _impl")), answer(1, "f = lambda x: _impl(x)\n")])
    assert lam.code().startswith("f = lambda x: _impl(x)") and "y = x * 2" in lam.code()


@pytest.mark.parametrize(
    "cell, why",
    [
        ("exec('def f(x): return 2')", "cell 3 uses exec(), which can bind any name"),
        ("globals()['f'] = print", "cell 3 uses globals(), which can bind any name"),
        ("import sys\nsetattr(sys.modules[__name__], 'f', print)", "cell 3 uses setattr(), which can bind any name"),
        ("from mystery import *", "cell 3 uses from mystery import *, which can bind any name"),
        ("def later():\n    global f\n    f = print\n", "cell 3 defines a function that can rebind it when called"),
        ("def later():\n    exec(code)\n", "cell 3 defines a function that uses exec(), which can bind any name"),
    ],
)
def test_what_could_bind_a_name_unseen_is_noted_not_guessed(cell, why):
    found = locate([answer(1, OWN), extra(2, cell)])
    assert [d.cell.index for d in found.definitions] == [1]  # still compared
    assert any(note.startswith("could not be located with certainty: " + why) for note in found.notes()), found.notes()
    assert found.student_note() is None  # the instructor's to judge, not the student's to fix


def test_a_later_definition_replaces_an_earlier_exec_but_not_a_function_that_may_run_later():
    assert locate([extra(0, "exec(code)"), answer(1, OWN)]).unknown == ()
    assert locate([extra(0, "def later():\n    exec(code)\n"), answer(1, OWN)]).unknown != ()


def test_ordinary_code_is_not_flagged():
    """setattr on self, a release helper's star import, eval as a method: nothing unknown."""
    safe = "class Layer:\n    def __init__(self):\n        setattr(self, 'w', 1)\nmodel.eval()\nfrom helpers import *\n"
    found = definitions.locate([answer(1, OWN), extra(2, safe)], None, ["f"], safe_modules={"helpers"})["f"]
    assert found.unknown == () and found.notes() == []


def test_imports_and_del_are_bindings_too():
    imported = locate([answer(1, OWN), extra(2, "from elsewhere import f")])
    assert imported.code() == ""
    assert "bound in cell 3 by an import from `elsewhere`: its code is not in the notebook" in imported.notes()
    assert locate([answer(1, OWN), extra(2, "del f")]).definitions == ()


# --- bounded ----------------------------------------------------------------------------------


def test_a_cell_too_large_to_read_is_noted_and_not_parsed():
    big = extra(2, "# " + "x" * 300_000 + "\n" + COPY)
    found = locate([answer(1, OWN), big], cell_bytes=256 * 1024)
    assert [d.cell.index for d in found.definitions] == [1]
    assert found.unknown == (f"cell 3 ran but is too large to read ({len(big.source):,} bytes; the limit is 262,144)",)


def test_cells_past_the_notebook_limits_are_not_read():
    """Past the bytes of code read per notebook, or its time (here: none at all), the rest is noted."""
    found = locate([answer(1, OWN), extra(2, COPY)], notebook_bytes=len(OWN))
    assert [d.cell.index for d in found.definitions] == [1]
    assert found.notes()[0].startswith("could not be located with certainty: cell 3 and the cells after it were not")
    found = locate([answer(1, OWN), extra(2, COPY)], parse_seconds=-1)
    assert found.definitions == ()
    assert found.notes()[0].startswith("could not be located: cell 2 and the cells after it were not read")


def test_a_hostile_cell_does_not_break_reading():
    """An expression nested too deep to parse, and one that doesn't parse at all, after the answer."""
    deep = extra(2, "x = " + "+".join(["a"] * 100_000))
    found = locate([answer(1, OWN), deep, extra(3, "def f(:")], {1: "complete", 2: "complete", 3: "partial"})
    assert [d.cell.index for d in found.definitions] == [1]
    assert "could not be located with certainty: cell 3 ran but could not be read here" in found.notes()


# --- how the cells ran ----------------------------------------------------------------------


def test_record_keeps_what_ran_in_every_load():
    """ok everywhere: complete; raised, or ran in one load only: partial; a syntax error or never: not run."""
    cells = [answer(0, OWN), extra(1, COPY), extra(2, "raise ValueError"), extra(3, "def f(:"), extra(4, "x = 1"),
             Cell(-1, "setup", "import numpy", "setup")]  # fmt: skip
    loads = [{0: "ok", 1: "ok", 2: "raised", 3: "raised"}, {0: "ok", 2: "raised", 3: "raised"}]
    assert cells_run.record(cells, loads) == {"complete": [0], "partial": [1, 2]}
    assert cells_run.record(cells, []) is None  # the sandbox never ran the notebook
    assert cells_run.parse_ran({"complete": [0], "partial": [1, 2]}) == {0: "complete", 1: "partial", 2: "partial"}
    for bad in (None, [], {"complete": ["0"]}, {"partial": [True]}, {"complete": 3}):
        assert cells_run.parse_ran(bad) is None  # (older results: every planned cell ran)


@pytest.mark.parametrize("name", available())
def test_the_reference_notebooks_are_noted_for_nothing(name):
    """The instructor's own answers, and the untouched release: every graded function found in its answer cell."""
    a = Assignment(name)
    release = read_notebook(a.release_notebook)
    for perfect in (True, False):
        plan = plan_submission(build_submission(a, perfect=perfect), release)
        located = definitions.locate(plan.cells, None, a.graded_ids(), safe_modules=definitions.safe_modules(a))
        for gid, found in located.items():
            assert found.notes() == [] and [d.cell for d in found.definitions] == [found.answer_cell], gid
