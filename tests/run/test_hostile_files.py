"""Does a class full of hostile files and hostile text still grade, safely, to the end?

One class, graded once through the CLI (and then resumed): an honest student, one
student per file attack (refused before any grading) and one per text attack (graded).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import html.parser
import io
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from autograder import cli, console
from autograder.course.assignments import Assignment
from autograder.course.notebook import grade_id_of
from autograder.outputs.feedback import feedback_html
from autograder.outputs.results import StudentResult
from autograder.run import pools
from autograder.run.grading import GradingError, collect_tests
from autograder.text import MESSAGE_LIMIT, PAGE_LIMIT, TRUNCATED
from tests.markup import AUDIT, hostile_notebook
from tests.support import build_submission, reference_answers, write_submission

pytestmark = pytest.mark.slow  # a whole hostile class graded through the CLI, then resumed

A = Assignment("cnn_step_by_step")
NAME = A.name
NB = f"{NAME}.ipynb"

# Hostile text, as a Python literal (for code the student runs) and as raw characters.
HOSTILE_PY = (
    r'"\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\'
    r' [/x] [bold red]red <script>alert(1)</script> \x00 \ud800 \x9b2J"'
)
HOSTILE = eval(HOSTILE_PY)  # noqa: S307 (our own literal)
TYPE_PY = r'"Evil\x1b[2J\x1b]0;pwned\x07[/x]<script>" + "T" * 100_000'  # a class name can't hold NUL
RAISE = f"raise type({TYPE_PY}, (Exception,), {{}})({HOSTILE_PY} + 'M' * 100_000)"
PRINTABLE_PY = HOSTILE_PY.replace(r" \ud800", "")  # (print() itself refuses a lone surrogate)
PRINTS = [  # the first makes its hostile line the worker's last words (shown in the cell's note)
    f"import os, sys\nprint({PRINTABLE_PY} + 'P' * 100_000, file=sys.stderr, flush=True)\nos._exit(70)",
    f"print({HOSTILE_PY})",
    f"print({PRINTABLE_PY} * 1000)",
]
BAD_NAMES = [os.fsdecode(b"badname\x1b[2J\xff"), "osc\x1b]0;title\x07"]
# printable, but nbgrader's formgrader writes ids into its pages unescaped (intake.MARKUP_IN_IDS)
MARKUP_NAMES = ["<img src=x onerror=alert(1)>", 'x";alert(1);"', "back\\slash`tick"]
GRADE_IDS = {"gid_number": 7, "gid_list": ["zero_pad"], "gid_dict": {"id": "zero_pad"}, "gid_null": None}
REFUSED = {  # student -> what their message says
    "dir": "is a folder, not a notebook file",
    "fifo": "is a named pipe (FIFO)",
    "chardev": "is a character device",
    "socket": "is a socket",
    "link_reference": "is a symbolic link",
    "link_folder": "is a symbolic link",
    "link_assignment": "is a symbolic link",
    "hardlink": "is a hard link",
    "huge": "the limit is 32 MiB",
    "deep": "levels deep",
    **{s: "grade_id is" for s in GRADE_IDS},
    "badname\\x1b[2J\\xff": "control characters",
    "osc\\x1b]0;title\\x07": "control characters",
    **{name: "formgrader would read as HTML or script" for name in MARKUP_NAMES},
}
SOURCES_FOLDER = "sources [bold red]&'x"  # a printable, markup-like folder name: graded as is
GRADED = ["ada", "dupes", "exceptions", "prints", SOURCES_FOLDER, "metadata", "markup"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=900,
    )


def write_raw(nb: dict, sub: Path, student: str) -> Path:
    """Write with JSON escapes (so lone surrogates can be in it), as a hostile tool would."""
    path = sub / student / NAME / NB
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def hostile_notebooks() -> dict[str, dict]:
    """The text attacks, each in an otherwise honest notebook."""
    ids = A.graded_ids()
    nbs = {}
    # exceptions: every answer raises a 100 KB-named exception with a hostile message,
    # and 60 cells of the student's own raise at import
    nbs["exceptions"] = build_submission(
        A, {g: f"def {g}(*args, **kwargs):\n    {RAISE}\n" for g in ids}, extra_cells=[RAISE] * 60
    )
    # prints: a flood in every call, and a cell that prints hostile text and exits
    nbs["prints"] = build_submission(A, extra_cells=PRINTS)
    # cell sources: hostile comments in correct answers, raw NUL in a cell of their own
    comment = f"\n# {HOSTILE.replace(chr(0), '')}\n# {'C' * 100_000}\n"  # (NUL: no Python source compiles)
    nbs["sources"] = build_submission(
        A, {g: src + comment for g, src in reference_answers(A).items()}, extra_cells=["x = 1  # \x00 NUL"]
    )
    # metadata: hostile keys and values at every level, and an extra cell with a hostile grade_id
    nb = build_submission(A, extra_cells=["y = 2"])
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": HOSTILE + "K" * 100_000}
    nb["metadata"][HOSTILE] = {HOSTILE: [HOSTILE] * 3}
    for cell in nb["cells"]:
        cell["metadata"]["tags"] = [HOSTILE]
    nb["cells"][-1]["metadata"]["nbgrader"] = {"grade_id": HOSTILE, "solution": True, "grade": False}
    nbs["metadata"] = nb
    # dupes: an edited set-up cell, twice, and a copy of a test cell
    nb = build_submission(A)
    i = next(i for i, c in enumerate(nb["cells"]) if grade_id_of(c) == "setup_imports")
    edited = copy.deepcopy(nb["cells"][i])
    edited["source"] = "raise SystemExit('the student set-up ran')"
    nb["cells"][i:i] = [edited, copy.deepcopy(edited)]
    j = next(j for j, c in enumerate(nb["cells"]) if grade_id_of(c) == "test_zero_pad")
    nb["cells"].insert(j, copy.deepcopy(nb["cells"][j]))
    nbs["dupes"] = nb
    # markup: a payload in every place a notebook renderer honours (tests/markup.py)
    nbs["markup"] = hostile_notebook()
    return nbs


def make_class(root: Path) -> Path:
    sub = root / "submitted"
    honest = build_submission(A)
    write_submission(honest, sub, "ada", NAME)
    for student, nb in hostile_notebooks().items():
        write_raw(nb, sub, SOURCES_FOLDER if student == "sources" else student)

    def folder(student: str) -> Path:
        (sub / student / NAME).mkdir(parents=True)
        return sub / student / NAME

    (folder("dir") / NB).mkdir()
    os.mkfifo(folder("fifo") / NB)
    try:
        os.mknod(folder("chardev") / NB, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:  # no CAP_MKNOD here: test_intake covers devices without one
        (sub / "chardev" / NAME).rmdir()
        (sub / "chardev").rmdir()
        REFUSED.pop("chardev")
    with contextlib.chdir(folder("socket")):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(NB)
        listener.close()  # the socket file stays
    (folder("link_reference") / NB).symlink_to(A.source_notebook.resolve())
    (sub / "link_folder").symlink_to(sub / "ada")
    (sub / "link_assignment").mkdir()
    (sub / "link_assignment" / NAME).symlink_to(sub / "ada" / NAME)
    write_submission(honest, root / "outside", "x", NAME)
    os.link(root / "outside" / "x" / NAME / NB, folder("hardlink") / NB)
    with (folder("huge") / NB).open("wb") as f:
        f.truncate(33 * 2**20)
    depth = 100_000
    (folder("deep") / NB).write_text('{"nbformat": 4, "cells": [' + "[" * depth + "]" * depth + "]}")
    for student, gid in GRADE_IDS.items():
        nb = build_submission(A)
        next(c for c in nb["cells"] if grade_id_of(c) == "zero_pad")["metadata"]["nbgrader"]["grade_id"] = gid
        write_submission(nb, sub, student, NAME)
    for raw in BAD_NAMES + MARKUP_NAMES:
        write_submission(honest, sub, raw, NAME)
    return sub


def tamper_saved_results(root: Path) -> None:
    """results.json as an older, unsanitised run could have left it (same fingerprint)."""
    path = root / "autograded" / "metadata" / NAME / "results.json"
    saved = json.loads(path.read_text())
    result = saved["result"]
    result["errors"] += [HOSTILE + "E" * 100_000, "[/x]", "\x1b]0;title\x07"]
    test = result["functions"]["zero_pad"]["tests"][0]
    test["message"] = test["description"] = HOSTILE + "D" * 100_000
    result["student"] = "../../escaped"  # the outputs' folders are the batch's, not the file's
    path.write_text(json.dumps(saved))


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """The class graded once, then the same command again (resuming over tampered results)."""
    root = tmp_path_factory.mktemp("hostile")
    sub = make_class(root)
    args = ["grade", NAME, str(sub), "--workers", "2", "--json", str(root / "out.json")]
    first = run_cli(*args)
    out = json.loads((root / "out.json").read_text())
    snapshot = output_files(root)
    tamper_saved_results(root)
    again = run_cli(*args)
    resumed = json.loads((root / "out.json").read_text())
    return root, first, out, snapshot, again, resumed


def output_files(root: Path) -> dict[str, bytes]:
    """Every file the runs wrote (not the submissions), and the gradebook's text, by name."""
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and p.parts[len(root.parts)] not in ("submitted", "outside")
        and p.name != "gradebook.db"
    }  # fmt: skip
    with contextlib.closing(sqlite3.connect(root / "gradebook.db")) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        text = [v for t in tables for row in db.execute(f'SELECT * FROM "{t}"') for v in row if isinstance(v, str)]
    files["gradebook.db (text)"] = "\n".join(text).encode("utf-8", "surrogatepass")
    return files


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def assert_clean_file(name: str, data: bytes) -> None:
    text = data.decode("utf-8")  # strict: raises on invalid UTF-8 (and encoded surrogates)
    assert "\x1b" not in text and "\x00" not in text and "\x9b" not in text, name
    if name.endswith((".json", ".ipynb")):
        for s in strings_in(json.loads(text)):  # also no JSON-escaped ESC, NUL or surrogate
            assert "\x1b" not in s and "\x00" not in s, (name, s[:80])
            s.encode("utf-8")


def test_the_batch_finishes_with_exit_2_and_everyone_in_the_outputs(hostile_class):
    root, first, out, _, again, resumed = hostile_class
    for proc in (first, again):
        assert proc.returncode == 2, (proc.stdout + proc.stderr)[-3000:]
        assert b"Traceback" not in proc.stderr
    everyone = {*REFUSED, *GRADED}
    assert set(out["students"]) == everyone and set(resumed["students"]) == everyone
    with (root / "grades" / f"{NAME}.csv").open(encoding="utf-8", newline="") as f:
        assert {row["student"] for row in csv.DictReader(f)} == everyone
    assert f"({len(GRADED)} unchanged since the last run" in again.stdout.decode()


def test_the_json_keeps_its_documented_schema(hostile_class):
    """With hostile text and refused files in it, does --json still validate?"""
    _, _, out, _, _, resumed = hostile_class
    schema = json.loads((A.root / "docs" / "results.schema.json").read_text())
    for results in (out, resumed):
        jsonschema.validate(results, schema)


def test_the_honest_neighbour_keeps_full_marks(hostile_class):
    _, _, out, _, _, resumed = hostile_class
    for results in (out, resumed):
        assert results["students"]["ada"]["score"] == 100 and results["students"]["ada"]["errors"] == []


def test_each_refused_file_scores_0_with_its_own_message(hostile_class):
    _, _, out, _, _, _ = hostile_class
    for student, expected in REFUSED.items():
        r = out["students"][student]
        assert r["score"] == 0 and r["max_score"] == 100, student
        assert len(r["errors"]) == 1 and expected in r["errors"][0], (student, r["errors"])
        assert all(not t["passed"] for f in r["functions"].values() for t in f["tests"])


def test_links_to_other_code_are_never_graded_as_that_code(hostile_class):
    """A folder linked to ada's, or a notebook linked to the reference: 0, and no copied code shown."""
    root, _, out, _, _, _ = hostile_class
    reference_lines = [line.strip() for src in reference_answers(A).values() for line in src.splitlines()]
    distinctive = [line for line in reference_lines if "np." in line and len(line) > 30]
    assert distinctive
    for student in ("link_folder", "link_assignment", "link_reference", "hardlink"):
        assert out["students"][student]["score"] == 0
        page = (root / "feedback" / student / NAME / f"{NAME}.html").read_text()
        assert "Your code" not in page and not [line for line in distinctive if line in page]
        assert not (root / "autograded" / student / NAME / NB).exists()
    assert (root / "submitted" / "ada" / NAME / NB).is_file()  # nothing was written through a link
    assert not (root / "submitted" / "ada" / NAME / "results.json").exists()


def test_text_attacks_are_graded_for_what_their_code_does(hostile_class):
    _, _, out, _, _, _ = hostile_class
    s = out["students"]
    assert s["exceptions"]["score"] == 0 and s[SOURCES_FOLDER]["score"] == 100
    assert s["prints"]["score"] == 100 and s["metadata"]["score"] == 100 and s["markup"]["score"] == 100
    assert s["dupes"]["score"] == 100  # the edited set-up copies never ran
    assert any("grade_id `setup_imports`" in e for e in s["dupes"]["errors"])
    assert any("grade_id `test_zero_pad`" in e for e in s["dupes"]["errors"])
    # what the student printed reached the notes (the worker's last words), cleaned
    assert any("[bold red]red <script>alert(1)</script> \u2400" in e for e in s["prints"]["errors"])
    messages = [t["message"] for f in s["exceptions"]["functions"].values() for t in f["tests"]]
    assert all(len(m.encode()) <= MESSAGE_LIMIT for m in messages + s["exceptions"]["errors"])
    assert any("Evil" in m and TRUNCATED in m for m in messages)


def test_no_escape_reaches_the_terminal(hostile_class):
    """No ESC from student text in the CLI's output, and markup-like names print literally."""
    _, first, _, _, again, _ = hostile_class
    for proc in (first, again):
        for stream in (proc.stdout, proc.stderr):
            text = stream.decode("utf-8")
            assert "\x1b" not in text and "\x00" not in text and "\x9b" not in text
        assert SOURCES_FOLDER in proc.stdout.decode()  # not swallowed as rich markup


def test_every_output_file_is_valid_utf8_without_escapes_or_nul(hostile_class):
    _, _, _, snapshot, _, _ = hostile_class
    names = set(snapshot)
    assert "out.json" in names and f"grades/{NAME}.csv" in names and "gradebook.db (text)" in names
    assert f"autograded/metadata/{NAME}/{NB}" in names and f"autograded/ada/{NAME}/results.json" in names
    assert f"reports/{NAME}.html" in names  # the class report, with everyone's hostile text in it
    assert len([n for n in names if n.endswith(".html")]) == len(REFUSED) + len(GRADED) + 1
    for name, data in snapshot.items():
        assert_clean_file(name, data)


def test_resuming_over_saved_results_that_hold_hostile_text(hostile_class):
    """An older run's results.json with such text: re-cleaned, and written back clean."""
    root, _, _, _, _, resumed = hostile_class
    files = output_files(root)
    for name, data in files.items():
        assert_clean_file(name, data)
    r = resumed["students"]["metadata"]
    assert any(TRUNCATED in e for e in r["errors"]) and "[/x]" in r["errors"]
    assert not (root.parent / "escaped").exists() and (root / "feedback" / "metadata" / NAME / f"{NAME}.html").exists()


def test_each_feedback_page_is_at_most_1_mb_and_valid_html(hostile_class):
    root, _, _, _, _, _ = hostile_class
    pages = list((root / "feedback").rglob("*.html"))
    assert len(pages) == len(REFUSED) + len(GRADED)
    for page in pages:
        assert page.stat().st_size <= PAGE_LIMIT
        assert_valid_html(page.read_text(encoding="utf-8"))
    exceptions = (root / "feedback" / "exceptions" / NAME / f"{NAME}.html").read_text()
    # (each of its messages is capped where it is made, so this page stays under 1 MB by
    # itself; shortening an oversized page is tested below)
    assert "&lt;script&gt;" in exceptions and "<script>" not in exceptions
    sources = (root / "feedback" / SOURCES_FOLDER / NAME / f"{NAME}.html").read_text()
    assert "Your code" in sources and "&lt;script&gt;alert(1)&lt;/script&gt;" in sources and "<script>" not in sources


@pytest.mark.slow  # formgrader and Chromium, once per student
def test_formgrader_shows_every_autograded_notebook_inert(hostile_class, tmp_path):
    """Each student's autograded notebook, as formgrader renders it and Chromium runs it (tests/formgrader.py,
    tests/browser.py): no payload runs, nothing is requested that ada's honest page doesn't request, and
    nothing in the notebook's part of the page could run or load."""
    from tests.browser import Chromium
    from tests.formgrader import FormgraderOrigin, render

    root = hostile_class[0]
    students = ["ada", "markup", "metadata", "exceptions", SOURCES_FOLDER]  # (those whose notebooks hold their text)
    origin, browser = FormgraderOrigin(), Chromium(tmp_path / "profile")
    try:
        pages = {}
        for i, student in enumerate(students):
            start = len(origin.hits)
            page = render(root / "autograded" / student / NAME / NB, student, named=False)  # (as in our gradebook)
            pages[student] = browser.visit(origin.add(str(i), page), evaluate=AUDIT), origin.hits[start:]
    finally:
        browser.close()
        origin.close()
    baseline = pages["ada"][0]
    for student, (page, hits) in pages.items():
        assert page.probes == [] and not [hit for hit in hits if hit.startswith("/pwned/")], student
        assert page.requests_beyond(baseline) == [] and page.value["bad"] == [], student
        assert page.value["statusmessage"] == 1 and page.value["test_zero_pad"] == 1, student


def test_no_id_formgrader_would_render_as_markup_reaches_the_gradebook(hostile_class, tmp_path):
    """Are ids with < > " \\ ` refused and kept out of the gradebook, whose ids formgrader shows unescaped?
    (The control: such an id in formgrader's header does run.)"""
    from tests.browser import Chromium
    from tests.formgrader import FormgraderOrigin, render

    root = hostile_class[0]
    with contextlib.closing(sqlite3.connect(root / "gradebook.db")) as db:
        ids = {row[0] for row in db.execute("select id from student")}
    assert SOURCES_FOLDER in ids and "ada" in ids
    assert not [i for i in ids if set(i) & set('<>"\\`')], ids
    origin, browser = FormgraderOrigin(), Chromium(tmp_path / "profile")
    try:
        notebook = root / "autograded" / "ada" / NAME / NB
        page = browser.visit(
            origin.add("0", render(notebook, "<img src=x onerror=autograderProbe('id')>", named=False))
        )
    finally:
        browser.close()
        origin.close()
    assert page.probes, "the control should run: formgrader does not escape ids"


class _TagBalance(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def assert_valid_html(page: str) -> None:
    """Every element closed, in order, and the document complete."""
    parser = _TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.stack == [] and page.rstrip().endswith("</html>")


# --- the same guarantees, without a grader run -------------------------------------


@pytest.fixture(scope="module")
def skeleton() -> dict:
    return collect_tests(A)


def test_an_oversized_page_is_shortened_visibly_and_stays_valid(skeleton):
    result = copy.deepcopy(skeleton)
    for f in result["functions"].values():
        for t in f["tests"]:
            t["message"] = "<b>" + "m" * (MESSAGE_LIMIT - 10)
    result.update(student="s", errors=["e" * (MESSAGE_LIMIT - 10)] * 50)
    page = feedback_html(StudentResult.parse(result, "s", NAME), None)
    assert len(page.encode()) <= PAGE_LIMIT and "shortened to stay under 1 MB" in page and TRUNCATED in page
    assert_valid_html(page)
    result["functions"] = {f"f{i}": copy.deepcopy(result["functions"]["zero_pad"]) for i in range(1000)}
    page = feedback_html(StudentResult.parse(result, "s", NAME), None)  # too much even shortened: the scores alone
    assert len(page.encode()) <= PAGE_LIMIT and "left out" in page
    assert_valid_html(page)


def test_a_grader_process_failure_is_that_students_result_and_not_saved(tmp_path, monkeypatch, skeleton):
    """A crashed grader process: 0 points with a message, exit 2, the rest graded, retried next run."""
    sub = tmp_path / "submitted"
    for s in ("ok", "crashy"):
        write_submission(build_submission(A), sub, s, NAME)

    def fake_grade(assignment, notebook, student, **options):
        if student == "crashy":
            raise GradingError("the graders failed for crashy (pytest exit 3):\nINTERNALERROR \x1b[2J", "It failed.")
        passed = copy.deepcopy(skeleton)
        for f in passed["functions"].values():
            f["score"] = f["max_score"]
            for t in f["tests"]:
                t["passed"] = True
        return {**passed, "score": 100.0, "student": student}

    monkeypatch.setattr(pools, "grade_notebook", fake_grade)
    err = io.StringIO()
    monkeypatch.setattr(console, "err", console.Console(file=err, width=200))
    monkeypatch.setattr(console, "out", console.Console(file=io.StringIO(), width=200))
    code = cli.main(["grade", NAME, str(sub), "--json", str(tmp_path / "out.json")])
    out = json.loads((tmp_path / "out.json").read_text())["students"]
    assert code == 2 and out["ok"]["score"] == 100
    crashy = out["crashy"]
    assert crashy["score"] == 0 and crashy["max_score"] == 100 and crashy["errors"] == ["It failed."]
    assert "crashy scored 0 and will be graded again" in err.getvalue() and "\x1b" not in err.getvalue()
    assert (tmp_path / "autograded" / "ok" / NAME / "results.json").exists()
    assert not (tmp_path / "autograded" / "crashy" / NAME / "results.json").exists()
    assert (tmp_path / "feedback" / "crashy" / NAME / f"{NAME}.html").exists()
