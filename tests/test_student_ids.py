"""Student ids are data: an id that looks like an option, a formula or a quoted formula is graded
under its own row, and the CSV and the Canvas export give every id back as it was.

One class of students whose ids start with ``-``, ``+``, ``=``, ``@``, ``'``, a space or a
non-ASCII letter is graded once through the CLI; ``+x`` and ``'+x`` have different scores.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from rich.console import Console

from autograder import cli, console, text
from autograder.course.assignments import Assignment
from autograder.run.grading import grader_command
from tests.plugins import record_expected
from tests.support import build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
BROKEN = {"zero_pad": "def zero_pad(X, pad):\n    return X\n"}  # loses 4 of zero_pad's 5 points
IDS = {"-x": 100, "+x": 100, "'+x": 96, "=x": 96, "@x": 100, "'x": 96, " x": 100, "ü名": 96, "ada": 100}
FORMULA = ("=", "+", "-", "@", "\t")


def test_cell_is_one_to_one_and_uncell_reverses_it():
    """Do ids that quoting used to merge (+x and '+x) stay apart, and does every id come back?"""
    ids = [*IDS, "'", "''", "'''+x", "-", "=", "\tx", "x'", "1-2", "", "'=x", "''=x"]
    cells = [text.cell(i) for i in ids]
    assert len(set(cells)) == len(ids)
    assert [text.uncell(c) for c in cells] == ids
    assert not any(c.startswith(FORMULA) for c in cells)  # a spreadsheet runs none of them
    assert text.uncell("'abc") == "'abc"  # (an older CSV's unquoted ' id reads the same)


def test_every_value_of_the_grader_command_is_joined_to_its_option(tmp_path):
    """An id (or any value) can never be read as an option or an @file by the grader process's pytest."""
    spec, expected = tmp_path / "spec.json", tmp_path / "expected.npz"
    plugins = record_expected.arguments(expected)
    cmd = grader_command(A, tmp_path / "nb.ipynb", "-x", tmp_path / "r.json", spec, plugins=plugins)
    assert "--student=-x" in cmd and f"--spec={spec}" in cmd and f"--record-expected={expected}" in cmd
    values = cmd[cmd.index("autograder.grader.plugin") + 1 :]
    assert all(arg.startswith("-") for arg in values), values


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, int, str]:
    root = tmp_path_factory.mktemp("ids")
    for student, score in IDS.items():
        write_submission(build_submission(A, BROKEN if score < 100 else None), root / "submitted", student, NAME)
    code, out = run(root, "grade", NAME, str(root / "submitted"), "--workers", "2", "--json", str(root / "out.json"))
    return root, code, out


def run(root: Path, *args: str) -> tuple[int, str]:
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(console, "out", Console(file=printed, width=300))
        mp.setattr(console, "err", Console(file=printed, width=300))
        return cli.main(list(args)), printed.getvalue()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_each_id_is_graded_under_its_own_row(graded):
    """Is every id graded (an id starting with - too), in the JSON, the CSV and the gradebook, with its own score?"""
    root, code, out = graded
    assert code == 0, out[-3000:]
    students = json.loads((root / "out.json").read_text())["students"]
    assert {s: e["score"] for s, e in students.items()} == IDS
    rows = csv_rows(root / "grades" / f"{NAME}.csv")
    assert {text.uncell(r["student"]): float(r["score"]) for r in rows} == IDS
    assert len(rows) == len(IDS) and not any(r["student"].startswith(FORMULA) for r in rows)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert {s.id for s in gb.students} == set(IDS)
    for student in IDS:
        assert (root / "feedback" / student / NAME / f"{NAME}.html").is_file()


def test_the_csv_round_trips_through_a_partial_run(graded):
    """Grading only some ids (--student=-x, --student=+x) keeps every other row as it was: no row merges,
    no cell is quoted twice."""
    root, _, _ = graded
    path = root / "grades" / f"{NAME}.csv"
    before = path.read_bytes()
    code, out = run(root, "grade", NAME, str(root / "submitted"), "--workers", "1", "--student=-x", "--student=+x",
                    "--student=ü名")  # fmt: skip
    assert code == 0, out[-3000:]
    assert path.read_bytes() == before


def test_the_canvas_export_gives_each_id_back(graded):
    root, _, _ = graded
    code, out = run(root, "export", NAME, str(root / "submitted"), "--canvas", str(root / "canvas.csv"))
    assert code == 0
    with (root / "canvas.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[2:]
    assert {text.uncell(r[3]): float(r[5]) for r in rows} == IDS
    assert not any(cell.startswith(FORMULA) for r in rows for cell in r)
    assert "Canvas won't match those rows" in " ".join(out.split())
    code, _ = run(root, "export", NAME, str(root / "submitted"), "--gradescope-results", str(root / "one.json"),
                  "--student=-x")  # fmt: skip
    assert code == 0 and json.loads((root / "one.json").read_text())["extra_data"]["student"] == "-x"
