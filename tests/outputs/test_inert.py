"""Is every notebook we write to autograded/ inert when formgrader shows it to an instructor?

One hostile notebook (tests/markup.py) carries a payload in every place a renderer honours;
each payload, when it runs, calls the browser's probe and requests ``/pwned/<name>`` from
the page's own origin (where a real one would POST to ``/api/kernels``).

The pages are made as formgrader makes them (tests/formgrader.py) and opened in headless
Chromium over the DevTools protocol (tests/browser.py), which sees every request and every
probe call. The control: the same notebook, unsanitised, runs its payloads there.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jinja2
import nbformat
import pytest

from autograder.course.assignments import Assignment
from autograder.course.notebook import grade_id_of, read_notebook, write_notebook
from autograder.outputs import feedback, inert
from autograder.outputs.results import FunctionResult, ManualResult, StudentResult, TestResult
from autograder.text import clean_tree
from tests.browser import Chromium, Visit
from tests.formgrader import FormgraderOrigin, render
from tests.markup import AUDIT, HIDDEN, LIVE, LOADS, MARKDOWN, PNG, WRITTEN, hostile_notebook, js
from tests.support import REPO, build_submission

A = Assignment("cnn_step_by_step")
NAME = A.name


def autograded(nb: dict, path: Path) -> Path:
    """``nb`` as the pipeline writes it to autograded/ (feedback.autograded_notebook)."""
    submitted = path.with_suffix(".submitted.ipynb")
    write_notebook(nb, submitted)
    write_notebook(feedback.autograded_notebook(StudentResult(NAME, "mal", 0.0, 0.0, {}), submitted), path)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def origin():
    server = FormgraderOrigin()
    yield server
    server.close()


def visit(browser: Chromium, origin: FormgraderOrigin, name: str, page: str, evaluate: str | None = None) -> Visit:
    """``page`` served as ``name`` and opened; ``Visit.hits``: what reached the origin meanwhile."""
    start = len(origin.hits)
    seen = browser.visit(origin.add(name, page), evaluate=evaluate)
    seen.hits = origin.hits[start:]
    return seen


@pytest.fixture(scope="module")
def pages(tmp_path_factory, browser, origin):
    """The formgrader pages of an honest notebook, the hostile one unsanitised, and it as we write it."""
    tmp = tmp_path_factory.mktemp("inert")
    hostile = hostile_notebook()
    write_notebook(hostile, tmp / "unsanitised.ipynb")
    files = {
        "baseline": autograded(build_submission(A), tmp / "honest.ipynb"),
        "unsanitised": tmp / "unsanitised.ipynb",
        "inert": autograded(hostile, tmp / "inert.ipynb"),
    }
    return {name: visit(browser, origin, name, render(path), AUDIT) for name, path in files.items()}


def test_the_unsanitised_notebook_runs_its_payloads_in_formgrader(pages):
    """(The control: the probes and the origin see payloads that run and requests that leave.)"""
    control = pages["unsanitised"]
    assert LIVE <= set(control.probes)
    assert {f"/pwned/{name}" for name in LIVE | LOADS} <= set(control.hits)
    beyond = control.requests_beyond(pages["baseline"])
    assert "https://tracker.example/pixel.png" in beyond  # (host names resolve to nothing: it is only tried)
    assert control.value["bad"] and control.value["statusmessage"] > 1 and control.value["test_zero_pad"] > 1
    assert HIDDEN not in control.value["text"]


def test_formgrader_runs_nothing_and_loads_nothing_from_the_autograded_notebook(pages):
    """As we write it: no probe, no request to the origin or anywhere that the honest page doesn't make,
    nothing in the notebook's part of the page that could run or load, formgrader's ids its own."""
    page = pages["inert"]
    assert page.probes == []
    assert not [hit for hit in page.hits if hit.startswith("/pwned/")]
    assert page.requests_beyond(pages["baseline"]) == []
    assert page.value["bad"] == []
    assert page.value["statusmessage"] == 1 and page.value["test_zero_pad"] == 1
    assert page.title == pages["baseline"].title


def test_what_the_student_wrote_stays_readable(pages):
    """The written answer (with < > & and quotes), code in Markdown, the hidden cell and the links' text are shown."""
    text = pages["inert"].value["text"]
    assert WRITTEN in text and "if a < b and c > d: pass" in text and HIDDEN in text
    assert "click for full marks" in text and "statusmessage" in text


# --- the notebook itself, without a browser --------------------------------------------------


def test_markdown_that_renders_inert_is_kept_as_written():
    """Is a cell whose rendering the sanitiser passes kept byte for byte (Markdown, math, code, tables)?"""
    for source in (WRITTEN.replace('"', ""), "a < b and `x < y`", "$$a < b$$ and $x$", "| a | b |\n|:--|--:|\n| 1 | 2 |",
                   "```python\ndef f():\n    pass\n\n\ndef g():\n    return 1 < 2\n```"):  # fmt: skip
        assert inert.markdown(source, {}, [inert.RENDER_TOTAL_LIMIT]) == (source, {}), source


def test_every_markdown_cell_renders_to_what_the_sanitiser_passes():
    """For every payload and every cell of every release notebook: the sanitiser finds nothing to remove
    in what formgrader's renderer makes of the cell we write (a rewritten cell writes its newlines as
    ``&#10;``, the same characters to an HTML parser, which the sanitiser writes back as newlines)."""
    sources = list(MARKDOWN.values()) + [
        c["source"] for c in hostile_notebook()["cells"] if c["cell_type"] == "markdown"
    ]
    for path in sorted((REPO / "release").glob("*/*.ipynb")):
        sources += [c["source"] for c in read_notebook(path)["cells"] if c["cell_type"] == "markdown"]
    changed = 0
    for source in sources:
        written, attachments = inert.markdown(source, {}, [inert.RENDER_TOTAL_LIMIT])
        shown = inert.render(written, attachments)
        assert inert.sanitise(shown) == shown.replace("&#10;", "\n"), source
        changed += written != source
    assert changed >= len(MARKDOWN)  # (every payload was rewritten)


def test_attachments_keep_only_raster_images():
    out = inert.notebook(hostile_notebook())
    [cell] = [c for c in out["cells"] if "attachment:" in c["source"] or "data:image" in c["source"]]
    assert "data:image/png;base64," + PNG in cell["source"] and "svg" not in cell["source"]
    assert inert._raster_attachments({"a": {"image/png": "not base64!"}, "b": {"image/svg+xml": PNG}, 3: {}}) == {}


def test_outputs_metadata_and_ids_keep_only_what_is_inert():
    """Only text streams; no widgets, tags, hidden or raw_mimetype flags; nbgrader's metadata only when valid."""
    nb = hostile_notebook()
    nb["nbformat_minor"] = 5
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = ["ok-id", 'bad id"><', "ok-id"][i % 3]
    nb["cells"][0].setdefault("outputs", [])
    out = inert.notebook(clean_tree(nb, limit=None))
    assert set(out["metadata"]) <= {"kernelspec", "language_info"} and "widgets" not in json.dumps(out)
    for before, after in zip(nb["cells"], out["cells"], strict=True):
        assert set(after["metadata"]) <= {"nbgrader", "deletable", "editable"}
        if after["cell_type"] == "code":
            assert all(o["output_type"] == "stream" for o in after["outputs"])
        gid = grade_id_of(before)
        assert after["metadata"].get("nbgrader") == (before["metadata"]["nbgrader"] if gid and '"' not in gid else None)
    ids = [c["id"] for c in out["cells"]]
    assert len(set(ids)) == len(ids) and all(inert._CELL_ID.fullmatch(i) for i in ids)
    nbformat.validate(nbformat.from_dict(out))
    assert not any(o for c in out["cells"] if c["cell_type"] == "code" for o in c["outputs"])  # (none were streams)


def test_release_notebooks_keep_code_and_nbgrader_metadata_exactly():
    """Is nbgrader's view (code, cell types, nbgrader metadata) of each release notebook unchanged?"""
    for path in sorted((REPO / "release").glob("*/*.ipynb")):
        nb = read_notebook(path)
        out = inert.notebook(copy.deepcopy(nb))
        assert [c["cell_type"] for c in out["cells"]] == [c["cell_type"] for c in nb["cells"]]
        for before, after in zip(nb["cells"], out["cells"], strict=True):
            assert after["metadata"].get("nbgrader") == before["metadata"].get("nbgrader")
            if before["cell_type"] == "code":
                assert after["source"] == before["source"]
        nbformat.validate(nbformat.from_dict(json.loads(json.dumps(out))))


def test_long_or_unrenderable_markdown_is_shown_as_text_without_rendering(monkeypatch):
    """A cell over the limit (nbconvert's math rules are quadratic: 72 KB of \\begin{a} take seconds), past the
    notebook's budget, or that nbconvert refuses (a missing attachment) is escaped text, never rendered."""
    rendered = []
    monkeypatch.setattr(inert, "render", lambda source, attachments=None: rendered.append(source) or source)
    long = "\\begin{a}" * (inert.RENDER_CELL_LIMIT // 9 + 1)
    written, _ = inert.markdown(long, {}, [inert.RENDER_TOTAL_LIMIT])
    assert long not in rendered and inert.NOT_RENDERED in written and written.startswith("<div>")
    written, _ = inert.markdown("*fits*", {}, [3])  # over what is left of the budget
    assert "*fits*" not in rendered and inert.NOT_RENDERED in written
    monkeypatch.undo()
    written, _ = inert.markdown("![x](attachment:missing.png)", {}, [inert.RENDER_TOTAL_LIMIT])
    assert inert.NOT_RENDERED in written and "attachment:missing.png" in written


def test_a_refused_students_old_autograded_notebook_is_made_inert(tmp_path):
    """A notebook an older version wrote (unsanitised) for a student refused now is rewritten inert."""
    old = tmp_path / "autograded" / "mal" / NAME / f"{NAME}.ipynb"
    write_notebook(hostile_notebook(), old)
    result = StudentResult.unscored({}, "mal", NAME, "refused")
    feedback.write_student_outputs(result, None, tmp_path / "autograded", tmp_path / "feedback")
    again = read_notebook(old)
    assert again == inert.notebook(again) and "onerror" not in json.dumps(again["cells"][-1])


# --- the feedback page --------------------------------------------------------------------------

PAGE = (f'</pre></td></table><img src=x onerror="{js("feedback_img")}"><script>{js("feedback_script")}</script>'
        f"<style>@import url('/pwned/feedback_style');</style><a href=\"javascript:{js('feedback_link')}\">x</a>")  # fmt: skip


def hostile_feedback(tmp: Path, escaped: bool = True, policy: bool = True) -> str:
    """A feedback page with ``PAGE`` in every text it shows: the student id, a check's name, description
    and message, a problem, an answer cell and a written answer. ``escaped=False``: as if jinja's
    autoescape were off; ``policy=False``: without the page's Content-Security-Policy."""
    nb = build_submission(A, {"zero_pad": f"def zero_pad(X, pad):\n    # {PAGE}\n    return X\n"})
    written = nbformat.v4.new_markdown_cell(PAGE, metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "points": 5, "grade_id": "written_1", "schema_version": 3}})  # fmt: skip
    nb["cells"].append(json.loads(json.dumps(written)))
    path = tmp / "feedback.ipynb"
    write_notebook(nb, path)
    test = TestResult(PAGE, False, 1.0, PAGE, PAGE)
    result = StudentResult(NAME, PAGE, 0.0, 6.0, {"zero_pad": FunctionResult(0.0, 1.0, (test,))}, errors=(PAGE,),
                           manual={"written_1": ManualResult(5.0)})  # fmt: skip
    plain = jinja2.Environment(
        loader=feedback._TEMPLATES.loader, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    with pytest.MonkeyPatch.context() as mp:
        if not escaped:
            mp.setattr(feedback, "_TEMPLATES", plain)
        page = feedback.feedback_html(result, path)
    return page if policy else re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)


def test_the_feedback_page_runs_and_loads_nothing_of_the_students(browser, origin, tmp_path):
    """Every text the feedback page shows holds script, a handler, a style import and a javascript:
    link: nothing runs and nothing but the page itself is requested. The control (no escaping, no
    policy) runs them; the page's policy alone, were escaping to fail, stops them too."""
    control = visit(browser, origin, "feedback-control", hostile_feedback(tmp_path, escaped=False, policy=False))
    assert {"feedback_img", "feedback_script"} <= set(control.probes)
    assert "/pwned/feedback_style" in control.hits
    policy_only = visit(browser, origin, "feedback-policy", hostile_feedback(tmp_path, escaped=False))
    assert policy_only.probes == [] and not [hit for hit in policy_only.hits if hit.startswith("/pwned/")]
    page = visit(browser, origin, "feedback", hostile_feedback(tmp_path))
    assert page.probes == [] and not [hit for hit in page.hits if hit.startswith("/pwned/")]
    assert [url for url in page.requests if not url.startswith("data:")] == [page.url]
    assert page.title.startswith(f"{NAME} — feedback for </pre>")  # the id, as text
