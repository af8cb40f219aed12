"""The class report: one self-contained page per assignment with plots, per-function and
per-check figures, common mistakes, time, errors, late work and similar answers; written
by every grading run and by ``autograder report``, for the whole class; opened in
headless Chromium, where it renders without console errors and runs no student text.

One small class is graded once (module fixture) and every test reads its report.
"""

from __future__ import annotations

import html.parser
import re
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path

import markupsafe
import pytest

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.course.notebook import cell_role, grade_id_of, read_notebook
from autograder.grader.failures import NOT_IMPLEMENTED
from autograder.graders.cnn_step_by_step.catalogue import CORRECT, MUTANTS
from autograder.outputs import class_report, report_context, report_data, report_due, report_similarity
from autograder.outputs.bounds import Bounds
from autograder.outputs.results import NOT_GRADED, StudentResult
from autograder.run import class_results, pipeline
from autograder.run.discover import discover
from autograder.run.layout import Layout
from autograder.run.options import Options
from autograder.run.times import Sources
from tests.support import REPO, build_submission, need_program, write_submission

A = Assignment("cnn_step_by_step")  # the quickest to grade (about 1 s a submission)
NAME = A.name
DUE = datetime(2026, 12, 1, 17, 0)
LATE = {"penalty_per_hour": 0.05, "max_penalty": 0.3}
# Student-controlled text that changes the page if it ever runs: the title, or a marker
# that only exists once the script has joined its two halves.
# (ids can't hold < > " \ `: intake refuses them, since formgrader shows ids unescaped; a quote
# that would end a single-quoted attribute and entity-like text still can be ids)
HOSTILE_ID = "x' onmouseover='document.title=1' &amp; &lt;b&gt;"
PAYLOAD = '</script><script>document.title="X"+"SS";document.body.append("XS"+"SRAN")</script>'
MUTANT = next(v for v in MUTANTS if v.name == "conv_forward_stride_ignored")
TITLE = f"{NAME} — class report"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """ada perfect and on time; ben the untouched release; cy a conv_forward mutant, 2 h 10 min
    late; the hostile student raising PAYLOAD in zero_pad; dee a notebook that isn't JSON."""
    root = tmp_path_factory.mktemp("class")
    sub = root / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    write_submission(build_submission(A, perfect=False), sub, "ben", NAME)
    write_submission(build_submission(A, {MUTANT.function: MUTANT.source}), sub, "cy", NAME)
    raising = f"def zero_pad(X, pad):\n    raise Exception({PAYLOAD!r})\n"
    write_submission(build_submission(A, {"zero_pad": raising}), sub, HOSTILE_ID, NAME)
    (sub / "dee" / NAME).mkdir(parents=True)
    (sub / "dee" / NAME / f"{NAME}.ipynb").write_text("not a notebook {")
    (sub / "ada" / NAME / "timestamp.txt").write_text("2026-12-01 16:59:00.000000 UTC")
    (sub / "cy" / NAME / "timestamp.txt").write_text("2026-12-01 19:10:00.000000 UTC")
    mp = pytest.MonkeyPatch()
    mp.setattr(Assignment, "late", lambda self: dict(LATE))
    trusted = Sources(trust_timestamps=True)  # (the times in timestamp.txt are the test's own)
    outcome = pipeline.grade(A, Layout.beside(sub), Options(workers=2, times=trusted), due=DUE)
    yield {"root": root, "submitted": sub, "outcome": outcome, "page": outcome.class_report.read_text()}
    mp.undo()


class Tables(html.parser.HTMLParser):
    """The text of every cell of every table with an id, and every <img> and <script> seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self.scripts = 0
        self.handlers: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [k for k in attrs if k.startswith("on")]
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> Tables:
    tables = Tables()
    tables.feed(page)
    return tables


def rows(page: str, table: str) -> list[list[str]]:
    return parse(page).tables[table][1:]  # without the header


# --- what the page holds ------------------------------------------------------------------


def test_grading_writes_the_report_beside_grades(course):
    """Does every grading run write reports/<assignment>.html in the course folder?"""
    assert course["outcome"].class_report == course["root"] / "reports" / f"{NAME}.html"
    assert set(course["outcome"].report.results) == {"ada", "ben", "cy", "dee", HOSTILE_ID}


def test_histogram_and_plots_are_embedded_images(course):
    """Are the plots data: URIs of SVG (self-contained), and nothing else loaded from anywhere?"""
    tables = parse(course["page"])
    ids = {i.get("id") for i in tables.images}
    assert {"score-histogram", "functions-plot", "times-plot"} <= ids
    assert all(i["src"].startswith("data:image/svg+xml;base64,") for i in tables.images)
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", course["page"])
    assert "Content-Security-Policy" in course["page"] and "default-src 'none'" in course["page"]


def test_function_and_check_tables_match_the_results(course):
    """Are the mean score and failure rate per function and per check those of the graded results?"""
    results = course["outcome"].report.results
    graded = [r for s, r in results.items() if s != "dee"]  # dee was refused: never graded
    table = {r[0]: r for r in rows(course["page"], "function-table")}
    assert list(table) == A.graded_ids()
    for gid in A.graded_ids():
        scores = [r.functions[gid].score for r in graded]
        lost = sum(r.functions[gid].lost for r in graded)
        assert table[gid][2] == f"{round(sum(scores) / len(scores), 2):g}"
        assert table[gid][3] == f"{100 * lost / len(graded):.0f}%"
        assert table[gid][4] == str(len(graded))
    assert table["conv_forward"][3] == "50%"  # ben (untouched) and cy (the mutant) of four
    checks = rows(course["page"], "check-table")
    assert len(checks) == sum(len(f.tests) for f in graded[0].functions.values())
    for function, _, _, _, rate, failed in checks:
        assert function in A.graded_ids()
        n_failed, n = map(int, failed.split(" / "))
        assert n == len(graded) and rate == f"{100 * n_failed / n:.0f}%"
    # cy's mutant loses points on conv_forward's checks, so their failures exceed ben's alone
    cy = results["cy"].functions["conv_forward"].tests
    forward = [c for c in checks if c[0] == "conv_forward"]
    assert sum(int(c[5].split(" / ")[0]) for c in forward) == len(cy) + sum(not t.passed for t in cy)


def test_common_mistakes_are_counted_by_hint(course):
    """Is each failed check counted under the hint it gave, most common first, with the student's text escaped?"""
    results = course["outcome"].report.results
    expected = Counter(
        (gid, " ".join(t.message.split())) for s, r in results.items() if s != "dee" for gid, f in r.functions.items()
        for t in f.tests if not t.passed and NOT_IMPLEMENTED not in t.message
    )  # fmt: skip
    table = rows(course["page"], "mistake-table")
    counted = {(r[2], r[3]): int(r[0]) for r in table}
    assert counted == {key: n for key, n in expected.items() if key in counted}
    assert [int(r[0]) for r in table] == sorted((int(r[0]) for r in table), reverse=True)
    assert len(table) == min(len(expected), report_context.TOP_MISTAKES)
    hostile = [r for r in table if PAYLOAD in r[3]]
    assert hostile and hostile[0][2] == "zero_pad" and hostile[0][1] == "1"
    assert int(hostile[0][0]) == len(results[HOSTILE_ID].functions["zero_pad"].tests)
    assert NOT_GRADED not in {r[3] for r in table}  # a refused notebook is no mistake of the class's


def test_functions_not_written_yet_are_shown_apart_from_the_mistakes(course):
    """Is "not implemented yet" (ben's untouched release) left out of the mistakes and listed apart, by function?"""
    assert not [r for r in rows(course["page"], "mistake-table") if NOT_IMPLEMENTED in r[3]]
    unfinished = re.search(r'<p class="note" id="unfinished">(.*?)</p>', course["page"], re.S)
    assert unfinished, "no list of the functions not written yet"
    for function in A.graded_ids():  # ben wrote none of them
        assert f"<code>{function}</code> (1 student)" in unfinished[1]


def test_time_per_submission_is_listed(course):
    """Are the seconds each graded submission took (results' extra) in the time table?"""
    results = course["outcome"].report.results
    table = {r[0]: r for r in rows(course["page"], "time-table")}
    timed = {s: r.extra["seconds"] for s, r in results.items() if "seconds" in r.extra}
    assert set(table) == set(timed) and len(timed) == 4  # everyone but dee, who was never run
    for student, seconds in timed.items():
        assert table[student][1] == f"{seconds:g}"


def test_errored_and_late_students_are_listed(course):
    """Are dee (refused, and why) and the hostile student (their error) listed, and cy as late with the penalty?"""
    errors = {r[0]: r for r in rows(course["page"], "error-table")}
    assert errors["dee"][2] == "not graded" and "not valid JSON" in errors["dee"][3]
    assert "Your submission time needs review" in errors["ben"][3]  # no timestamp.txt: a note, not bad input
    late = {r[0]: r for r in rows(course["page"], "late-table")}
    assert "ada" not in late and "cy" in late  # ada was on time
    assert all("submission time needs review" in r[-1] for s, r in late.items() if s != "cy")  # no time: flagged
    assert {"ben", HOSTILE_ID} <= set(late) and 'id="time-review"' in course["page"]
    cy = course["outcome"].report.results["cy"]
    assert late["cy"][1:6] == ["2026-12-01 19:10 UTC", "2 h 10 min", f"{cy.late.raw_score:g}", "15",
                               f"{cy.score:g} / 100"]  # fmt: skip
    assert cy.score == cy.late.raw_score - 15  # 3 started hours at 5%
    assert "Due 2026-12-01 17:00 UTC" in course["page"]


def test_student_text_is_escaped(course):
    """Do the hostile id and message appear only as text: no script, no handler, no tag of theirs?"""
    page = course["page"]
    tables = parse(page)
    assert tables.scripts == 0 and tables.handlers == []
    assert str(markupsafe.escape(HOSTILE_ID)) in page and HOSTILE_ID not in page
    assert "&lt;/script&gt;&lt;script&gt;" in page and "<script" not in page
    assert any(HOSTILE_ID in row[0] for row in tables.tables["time-table"])  # shown as text


def test_similar_answers_are_listed(course):
    """Do ada and the hostile student, both with the reference's answers, show up as similar pairs?"""
    table = rows(course["page"], "similar-table")
    pairs = {(r[0], r[1]) for r in table if len(r) == 4}
    assert ("conv_forward", f"ada — {HOSTILE_ID}") in pairs  # (pairs name their students in order)
    assert not any("ben" in students for _, students in pairs)  # the untouched release matches nobody
    assert ("zero_pad", "ada — cy") in pairs  # both the reference's
    assert not any(f == "zero_pad" and HOSTILE_ID in s for f, s in pairs)  # a two-line raise: too short to judge


# --- the whole class, and the report command -----------------------------------------------


def test_report_command_covers_the_whole_class(course, monkeypatch, capsys):
    """After grading only ada, does `autograder report` still show everyone, from the saved results,
    with the same late penalty, and dee's refusal from intake (never saved)?"""
    monkeypatch.setattr(Assignment, "late", lambda self: dict(LATE))
    page = course["outcome"].class_report
    page.unlink()
    code = cli.main(["--course", str(REPO), "grade", NAME, str(course["submitted"]), "--student", "ada",
                     "--workers", "1", "--due", "2026-12-01 17:00", "--trust-student-timestamps"])  # fmt: skip
    assert code == 0  # (only ada was graded by this run)
    assert f"report:{page}" in "".join(capsys.readouterr().out.split())  # grade says where the report went
    assert {r[0] for r in rows(page.read_text(), "error-table")} >= {"dee", HOSTILE_ID}
    assert len(rows(page.read_text(), "time-table")) == 4  # everyone graded before, not only ada
    out = course["root"] / "elsewhere" / "report.html"
    code = cli.main(["--course", str(REPO), "report", NAME, str(course["submitted"]), "--out", str(out),
                     "--due", "2026-12-01 17:00", "--similarity", "0.5", "--trust-student-timestamps"])  # fmt: skip
    assert code == 0
    printed = "".join(capsys.readouterr().out.split())  # (rich wraps long lines)
    assert f"report:{out}(5students," in printed and "at50%ormore" in printed
    page = out.read_text()
    assert len(rows(page, "function-table")) == len(A.graded_ids())
    late = {r[0]: r for r in rows(page, "late-table")}
    assert late["cy"][4] == "15" and "ada" not in late
    assert all("submission time needs review" in r[-1] for s, r in late.items() if s != "cy")
    errors = {r[0]: r for r in rows(page, "error-table")}
    assert "not valid JSON" in errors["dee"][3]
    assert "Pairs of students whose code for one function shares at least 50%" in " ".join(page.split())


def test_report_command_refuses_a_missing_folder(tmp_path, capsys):
    assert cli.main(["--course", str(REPO), "report", NAME, str(tmp_path / "nope")]) == 1
    assert "does not exist" in " ".join(capsys.readouterr().err.split())


def test_similarity_option_is_checked():
    for bad in ("0", "1.5", "high"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["report", NAME, "x", "--similarity", bad])


# --- in a real browser ------------------------------------------------------------------------


def chromium(page: Path, tmp: Path, *flags: str) -> tuple[str, list[str]]:
    """Chromium's DOM after loading ``page`` (or "" with --screenshot), and its console messages."""
    exe = need_program("chromium", "chromium")
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp / 'profile'}",
         "--enable-logging=stderr", "--v=0", *flags, page.as_uri()],
        capture_output=True, text=True, timeout=120, cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def test_console_capture_sees_console_messages(tmp_path):
    """(The check below is real: a page that logs to the console is seen doing so.)"""
    page = tmp_path / "noisy.html"
    page.write_text("<!DOCTYPE html><title>t</title><script>console.error('noisy page')</script>")
    _, console = chromium(page, tmp_path, "--dump-dom")
    assert any("noisy page" in line for line in console)


def test_renders_in_chromium_without_console_errors_or_student_scripts(course, tmp_path):
    """Does the page load with no console message, its title intact, and the payloads shown as text?"""
    dom, console = chromium(course["outcome"].class_report, tmp_path, "--dump-dom")
    assert console == []
    assert f"<title>{TITLE}</title>" in dom
    assert "XSSRAN" not in dom and "&lt;/script&gt;&lt;script&gt;" in dom
    tables = parse(dom)
    assert tables.handlers == [] and tables.scripts == 0
    assert [i.get("id") for i in tables.images] == ["score-histogram", "functions-plot", "times-plot"]


def test_plots_are_drawn_and_nothing_runs_even_without_the_policy(course, tmp_path):
    """With the CSP removed and a probe script of ours added, are the three plots decoded with a
    size, and does the student text still not run (escaping alone stops it)?"""
    page = course["outcome"].class_report.read_text()
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = ("<script>addEventListener('load', () => document.body.dataset.plots = [...document.images]"
             ".map(i => i.naturalWidth + 'x' + i.naturalHeight).join(' '))</script>")  # fmt: skip
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", probe + "</body>"))
    dom, console = chromium(copy, tmp_path, "--dump-dom")
    assert console == []
    sizes = re.search(r'data-plots="([^"]*)"', dom).group(1).split()
    assert len(sizes) == 3 and all(int(w) > 100 and int(h) > 50 for w, h in (s.split("x") for s in sizes))
    assert f"<title>{TITLE}</title>" in dom and "XSSRAN" not in dom


def test_screenshot_shows_the_histogram(course, tmp_path):
    """Is the screenshot of the page's top not blank: the histogram's bars are painted?"""
    import matplotlib.image

    shot = tmp_path / "shot.png"
    _, console = chromium(course["outcome"].class_report, tmp_path, f"--screenshot={shot}", "--window-size=1200,900")
    assert console == [] and shot.stat().st_size > 0
    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).astype(int)
    bar = (abs(pixels - [0x3B, 0x6E, 0xA8]).sum(axis=-1) < 30).sum()  # the histogram's colour
    assert bar > 500
    assert len({tuple(p) for p in pixels.reshape(-1, 3)[::97]}) > 10


def test_the_report_loads_nothing_and_its_text_would_run_unescaped(course, tmp_path):
    """Over the DevTools protocol: the report requests nothing but itself (its plots are data: images)
    and its title stays. The control, the same page with the hostile texts unescaped and without the
    policy, runs them (so the check above could fail)."""
    from markupsafe import escape

    from tests.browser import Chromium

    report = course["outcome"].class_report
    page = report.read_text()
    unescaped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    for text in (PAYLOAD, HOSTILE_ID):
        assert str(escape(text)) in unescaped
        unescaped = unescaped.replace(str(escape(text)), text)
    control = tmp_path / "control.html"
    control.write_text(unescaped)
    browser = Chromium(tmp_path / "profile")
    try:
        seen, ran = browser.visit(report.as_uri()), browser.visit(control.as_uri())
    finally:
        browser.close()
    assert [url for url in seen.requests if not url.startswith("data:")] == [report.as_uri()]
    assert seen.title == TITLE and seen.exceptions == [] and seen.console == []
    assert ran.title != TITLE


def test_reports_folder_is_only_written_by_us(course):
    """(The report is written atomically: no temporary file is left beside it.)"""
    assert [p.name for p in (course["root"] / "reports").iterdir()] == [f"{NAME}.html"]


def test_gradebook_due_is_used_without_creating_a_gradebook(tmp_path):
    """Without gradebook.db the report reads no due date and creates no gradebook."""
    layout = Layout.beside(tmp_path / "submitted")
    assert report_due.gradebook_due(A, layout) is None
    assert not (tmp_path / "gradebook.db").exists()


def test_gradebook_due_date_is_read(course):
    """With the course's gradebook.db, is the assignment's duedate the report's due date?"""
    from nbgrader.api import Gradebook

    layout = Layout.beside(course["submitted"])
    assert report_due.gradebook_due(A, layout) is None  # grading recorded no due date
    with Gradebook(f"sqlite:///{course['root'] / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment(NAME, duedate="2026-12-01 17:00:00 UTC")
    assert report_due.gradebook_due(A, layout) == DUE


# --- the code that ran: copies outside the answer cell, and students past a cap ------------------

STUB = next(c["source"] for c in read_notebook(A.release_notebook)["cells"]
            if cell_role(c) == "answer" and grade_id_of(c) == "conv_forward")  # fmt: skip
OWN = next(v.source for v in CORRECT if v.name == "conv_forward_tensordot_per_position")
EXTRA_CELL = len(read_notebook(A.release_notebook)["cells"]) + 1  # a cell appended to the release, from 1
BIG_CELL = "# " + "x" * 300_000 + "\n_big = 1\n"  # runs at once, but too large to read (Bounds.cell_bytes)


@pytest.fixture(scope="module")
def copied(tmp_path_factory):
    """ada perfect; eve's conv_forward a disguised copy of ada's, pasted in a cell of her own (its
    answer cell untouched); fay's answer cell ada's, then redefined in her own cell as gus wrote it
    in his answer cell; hal's a copy with 70 KB of comments (past the cap compared); ivy's copy in a
    cell that then raises; jay's in a cell that then ends the worker (skipped); kim's notebook
    with a 300 KB cell that ran (too large to read); lee's zero_pad an expression nested too deep
    for the parser."""
    from tests.outputs.test_similarity import DISGUISED, REFERENCE

    root = tmp_path_factory.mktemp("copied")
    sub = root / "submitted"
    huge = REFERENCE["conv_forward"].replace("\n", "\n    # " + "x" * 70_000 + "\n", 1)
    notebooks = {
        "ada": build_submission(A),
        "eve": build_submission(A, {"conv_forward": STUB}, extra_cells=[DISGUISED]),
        "fay": build_submission(A, extra_cells=[OWN]),
        "gus": build_submission(A, {"conv_forward": OWN}),
        "hal": build_submission(A, {"conv_forward": huge}),
        "ivy": build_submission(A, {"conv_forward": STUB}, extra_cells=[DISGUISED + "\nraise RuntimeError('after')\n"]),
        "jay": build_submission(A, {"conv_forward": STUB}, extra_cells=[DISGUISED + "\nimport os\nos._exit(3)\n"]),
        "kim": build_submission(A, extra_cells=[BIG_CELL]),
        "lee": build_submission(A, {"zero_pad": "x = " + "+".join(["a"] * 100_000)}),
    }
    for student, nb in notebooks.items():
        write_submission(nb, sub, student, NAME)
    outcome = pipeline.grade(A, Layout.beside(sub), Options(workers=2))
    page = outcome.class_report.read_text()
    pairs = {(r[0], r[1]) for r in rows(page, "similar-table") if len(r) == 4}
    notes = {(r[0], r[1]): r[2] for r in rows(page, "similarity-notes")}
    yield {"root": root, "outcome": outcome, "page": page, "pairs": pairs, "notes": notes}


def test_the_batch_finishes_with_everyone(copied):
    report = copied["outcome"].report
    assert set(report.results) == {"ada", "eve", "fay", "gus", "hal", "ivy", "jay", "kim", "lee"}
    assert not report.failed and copied["outcome"].class_report is not None
    assert report.results["lee"].score == 100 - 5  # (all but zero_pad: the notebook is planned, not parsed whole)
    assert report.results["eve"].functions["conv_forward"].score == 20  # the copy was the code graded
    assert report.results["jay"].functions["conv_forward"].score == 0  # its copy never stayed defined


def test_a_copy_pasted_in_a_cell_of_the_students_own_is_a_pair_and_noted(copied):
    """eve's answer cell is the release's; the copy in her own cell is what was graded: is it
    compared, and noted in her feedback, in the report's errors and beside the pairs?"""
    assert ("conv_forward", "ada — eve") in copied["pairs"]
    elsewhere = f"`conv_forward` was graded as defined in cell {EXTRA_CELL}, not in its answer cell"
    feedback = (copied["root"] / "feedback" / "eve" / NAME / f"{NAME}.html").read_text()
    assert elsewhere in " ".join(feedback.split())
    errors = {r[0]: r[3] for r in rows(copied["page"], "error-table")}
    assert elsewhere in errors["eve"]
    assert copied["notes"]["eve", "conv_forward"].startswith(
        f"graded as defined in cell {EXTRA_CELL}, outside its answer cell (its answer cell is cell "
    )
    assert f"cell {EXTRA_CELL}, outside its answer cell" in " ".join(copied["page"].split())  # beside the pair
    assert ("ada", "conv_forward") not in copied["notes"]


def test_a_function_redefined_after_its_answer_cell_is_compared_by_its_last_definition(copied):
    """fay's answer cell is ada's code, but the conv_forward graded is her later one, which is gus's."""
    assert ("conv_forward", "fay — gus") in copied["pairs"]
    assert ("conv_forward", "ada — fay") not in copied["pairs"]
    assert ("zero_pad", "ada — fay") in copied["pairs"]  # (the rest of her notebook is still ada's)


def test_a_cell_that_raised_counts_up_to_the_raise_and_a_skipped_one_not_at_all(copied):
    """ivy's copy ran before her cell raised: compared. jay's cell ended the worker, so the sandbox
    skipped it and graded his answer cell (the release's): nothing of the copy is compared."""
    assert ("conv_forward", "ada — ivy") in copied["pairs"]
    assert copied["notes"]["ivy", "conv_forward"].startswith(f"may have been graded as defined in cell {EXTRA_CELL}")
    assert not any("jay" in students for function, students in copied["pairs"] if function == "conv_forward")
    assert ("jay", "conv_forward") not in copied["notes"]


def test_students_past_a_cap_are_noted_and_the_others_still_compared(copied):
    """hal's conv_forward is over the bytes compared: noted, not compared. kim's notebook has a cell
    too large to read after her answers: noted, and what was read is still compared (a large cell
    added to a notebook must not hide the copies in it)."""
    assert not any("hal" in students for function, students in copied["pairs"] if function == "conv_forward")
    assert copied["notes"]["hal", "conv_forward"].startswith("too large to compare: ")
    assert ("zero_pad", "ada — hal") in copied["pairs"]  # hal's other functions are still compared
    assert ("zero_pad", "ada — kim") in copied["pairs"]
    assert copied["notes"]["kim", "every function"] == (
        f"could not be located with certainty: cell {EXTRA_CELL} ran but is too large to read "
        f"({len(BIG_CELL):,} bytes; the limit is 262,144)"
    )
    assert ("conv_forward", "ada — eve") in copied["pairs"]  # everyone else still compared
    assert 'id="similarity-stopped"' not in copied["page"]


def test_each_students_problems_are_capped_on_the_page():
    """50 problems of 10 KB each: does the page show 10, each shortened, and count the rest?"""
    result = StudentResult(NAME, "ada", 0.0, 1.0, {}, errors=tuple(f"{i}: " + "x" * 10_000 for i in range(50)))
    row = report_context.context(report_data.ClassReport(A, {"ada": result}))["errored"][0]
    assert len(row["errors"]) == 11 and all(len(e.encode()) <= 2048 for e in row["errors"])
    assert row["errors"][-1] == "… truncated: 40 more, all on the student's feedback page"


def test_a_report_out_of_time_says_so_and_still_renders(copied, tmp_path):
    """With no time to compare at all: no pairs, a note saying where it stopped, and the page."""
    layout = Layout.beside(copied["root"] / "submitted")
    results = class_results.gather(A, layout, discover(layout.submitted, NAME), Options())
    report = report_data.ClassReport(A, results.results, results.missing)
    report_similarity.add_similarity(report, layout, 0.8, Bounds(similarity_seconds=-1))
    page = class_report.render(report)
    assert report.pairs == [] and report.stopped == "9 of 9 graded students were not read"
    shown = " ".join(page.split())
    assert "Similarity stopped at its time budget (-1 s for the class): 9 of 9 graded students" in shown
