"""Progress of `autograder grade`: a rich bar with the count, the rate and the time left on a
terminal; one plain line per graded student when stdout is not a terminal (CI logs, batch jobs)."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console

from autograder import cli
from autograder.console import GradingProgress, pace
from autograder.course.assignments import Assignment
from autograder.outputs.results import FunctionResult, StudentResult
from tests.support import build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
WRONG_PAD = "def zero_pad(X, pad):\n    return X\n"
LINE = re.compile(r"^(?:graded|unchanged) (\d+)/(\d+) (.+?) (\S+)/(\S+)(?: \((.*)\))?$")


def test_pace_is_the_rate_so_far_and_the_time_the_rest_would_take():
    """Is the rate seconds per submission so far, and the time left the rest at that rate?"""
    assert pace(14.0, 10, 20) == "1.4 s/submission, about 14 s left"
    assert pace(30.0, 2, 202) == "15.0 s/submission, about 50 min left"
    assert pace(30.0, 2, 400) == "15.0 s/submission, about 1 h 40 min left"
    assert pace(7200.0, 2, 5) == "3600.0 s/submission, about 3 h 00 min left"
    assert pace(5.0, 5, 5) == "1.0 s/submission"  # finished: nothing left to estimate
    assert pace(3.0, 0, 5) == ""


def test_without_a_terminal_each_graded_student_is_one_plain_line(tmp_path, capsys):
    """Does `autograder grade` print one line per student (count, id, score, rate, time left) when
    stdout is not a terminal, with the ids cleaned and never read as markup?"""
    sub = tmp_path / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    write_submission(build_submission(A, {"zero_pad": WRONG_PAD}), sub, "[red]ben", NAME)  # markup in a name
    (sub / "cy" / NAME).mkdir(parents=True)
    (sub / "cy" / NAME / f"{NAME}.ipynb").write_text("not a notebook")  # refused at intake: a line too
    out_json = tmp_path / "grades.json"
    code = cli.main(["grade", NAME, str(sub), "--workers", "1", "--json", str(out_json)])
    assert code == 2  # cy's notebook is bad input
    lines = [m for m in map(LINE.match, capsys.readouterr().out.splitlines()) if m]
    assert [int(m[1]) for m in lines] == [1, 2, 3] and {m[2] for m in lines} == {"3"}
    scores = {s: r["score"] for s, r in json.loads(out_json.read_text())["students"].items()}
    assert sorted(m[3] for m in lines) == sorted(scores) == ["[red]ben", "ada", "cy"]  # "[red]" shown, not markup
    assert {m[3]: float(m[4]) for m in lines} == scores
    assert scores["ada"] > scores["[red]ben"] > scores["cy"] == 0
    assert all(m[6].endswith(" left") for m in lines[:2]) and "left" not in lines[2][6]
    assert all(re.match(r"\d+\.\d s/submission", m[6]) for m in lines)
    assert all(m[0].startswith("graded ") for m in lines)
    # again: the saved results are kept, and the lines say so rather than "graded"
    assert cli.main(["grade", NAME, str(sub), "--workers", "1", "--json", str(out_json)]) == 2
    again = {m[3]: m[0].split()[0] for m in map(LINE.match, capsys.readouterr().out.splitlines()) if m}
    assert again == {"ada": "unchanged", "[red]ben": "unchanged", "cy": "graded"}  # (cy's is refused again)


def result(student: str, score: float) -> StudentResult:
    return StudentResult(NAME, student, score, 10.0, {"f": FunctionResult(score, 10.0)})


def test_on_a_terminal_the_bar_shows_the_count_the_rate_and_the_time_left():
    """On a terminal, is it a bar with n/total, s/submission and the time left, and no plain lines?"""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=150)
    with GradingProgress(console, NAME) as progress:
        progress.start(3)
        progress.step("ada", result("ada", 10))
        progress.step("\x1b[2Jben", result("\x1b[2Jben", 5))  # an escape in an id: cleaned, not sent
        progress.bar.refresh()
        shown = out.getvalue()
    assert "\x1b[2J" not in shown
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)  # rich's own colours and cursor moves
    assert re.search(r"grading ben .*━ 2/3 \d+\.\d s/submission, about \d+ s left", text), text
    assert "graded 1/3" not in shown  # the plain lines are for logs only
