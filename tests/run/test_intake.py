"""Is every submitted file refused by type before it is read by value? (autograder/run/intake.py)"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import os
import socket
import stat

import pytest

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from autograder.course.notebook import grade_id_of, loads_notebook, plan_submission, read_notebook
from autograder.run import intake
from autograder.run.discover import discover
from autograder.run.intake import FileBounds, Refused, read_submission, take

A = Assignment("cnn_step_by_step")
NAME = A.name
NB = f"{NAME}.ipynb"


@pytest.fixture(scope="module")
def notebook_bytes() -> bytes:
    return (json.dumps(build_submission(A), indent=1) + "\n").encode()


@pytest.fixture
def course(tmp_path, notebook_bytes):
    """submitted/ with one honest student, ada."""
    sub = tmp_path / "submitted"
    (sub / "ada" / NAME).mkdir(parents=True)
    (sub / "ada" / NAME / NB).write_bytes(notebook_bytes)
    return sub


def folder_for(sub, student):
    path = sub / student / NAME
    path.mkdir(parents=True)
    return path


def refusal(sub, student, tmp_path, bounds: FileBounds = intake.BOUNDS) -> str:
    with pytest.raises(Refused) as info:
        take(sub, student, NAME, tmp_path / "private" / student, bounds)
    message = str(info.value)
    assert "Traceback" not in message and "\n" not in message
    return message


def test_an_honest_notebook_is_taken_as_a_private_copy(course, tmp_path, notebook_bytes):
    """The grader gets a copy we wrote; changing the student's file afterwards changes nothing."""
    taken = take(course, "ada", NAME, tmp_path / "private" / "ada")
    assert taken.notebook.read_bytes() == notebook_bytes and taken.notebook.parent == tmp_path / "private" / "ada"
    assert stat.S_IMODE(taken.notebook.stat().st_mode) == 0o600
    (course / "ada" / NAME / NB).write_text("{}")  # swapped after the check: too late
    assert read_notebook(taken.notebook)["cells"]


def test_a_folder_where_the_notebook_should_be(course, tmp_path):
    (folder_for(course, "s") / NB).mkdir()
    assert f"s/{NAME}/{NB} is a folder, not a notebook file" in refusal(course, "s", tmp_path)


def test_a_fifo_is_refused_without_blocking(course, tmp_path):
    os.mkfifo(folder_for(course, "s") / NB)
    assert "is a named pipe (FIFO), not a notebook file" in refusal(course, "s", tmp_path)


def test_a_character_device_is_refused_without_opening_it(course, tmp_path, monkeypatch):
    path = folder_for(course, "s") / NB
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:  # no CAP_MKNOD: make the file *look* like one to intake
        path.write_text("{}")
        real = os.stat

        def fake(p, *a, **k):
            st = real(p, *a, **k)
            return os.stat_result((stat.S_IFCHR | 0o600, *st[1:])) if p == NB else st

        monkeypatch.setattr(intake.os, "stat", fake)
    opened, real_open = [], os.open
    monkeypatch.setattr(intake.os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    assert "is a character device, not a notebook file" in refusal(course, "s", tmp_path)
    assert NB not in opened  # refused by lstat, before any open


def test_a_socket(course, tmp_path):
    folder = folder_for(course, "s")
    with contextlib.chdir(folder), socket.socket(socket.AF_UNIX) as s:
        s.bind(NB)  # (relative: the full path may be longer than a socket address)
        assert "is a socket, not a notebook file" in refusal(course, "s", tmp_path)


@pytest.mark.parametrize("target", ["reference", "ada", "nowhere"])
def test_a_notebook_that_is_a_symbolic_link_to_anything(course, tmp_path, target):
    links_to = {"reference": A.source_notebook, "ada": course / "ada" / NAME / NB, "nowhere": tmp_path / "nope"}
    (folder_for(course, "s") / NB).symlink_to(links_to[target])
    assert f"s/{NAME}/{NB} is a symbolic link" in refusal(course, "s", tmp_path)


def test_a_student_folder_that_is_a_symbolic_link(course, tmp_path):
    """A folder linked to a classmate's is not graded with the classmate's code."""
    (course / "mallory").symlink_to(course / "ada")
    message = refusal(course, "mallory", tmp_path)
    assert message.startswith("mallory/ is a symbolic link") and "never follows a link" in message


def test_an_assignment_folder_that_is_a_symbolic_link(course, tmp_path):
    (course / "mallory").mkdir()
    (course / "mallory" / NAME).symlink_to(course / "ada" / NAME)
    assert refusal(course, "mallory", tmp_path).startswith(f"mallory/{NAME}/ is a symbolic link")


def test_a_hard_link_is_refused_because_the_other_name_could_be_anywhere(course, tmp_path, notebook_bytes):
    outside = tmp_path / "outside.ipynb"
    outside.write_bytes(notebook_bytes)
    os.link(outside, folder_for(course, "s") / NB)
    message = refusal(course, "s", tmp_path)
    assert "is a hard link: the file has 2 names" in message and "cannot tell where" in message


def test_a_file_the_grader_cannot_open(course, tmp_path, notebook_bytes, monkeypatch):
    """(As root, permissions don't stop reads, so the open itself is made to fail.)"""
    (folder_for(course, "s") / NB).write_bytes(notebook_bytes)
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if path == NB:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(intake.os, "open", deny)
    assert "could not be opened (permission denied)" in refusal(course, "s", tmp_path)


def test_a_notebook_over_the_size_cap_is_refused_unread(course, tmp_path):
    path = folder_for(course, "s") / NB
    with path.open("wb") as f:
        f.truncate(33 * 2**20)  # sparse: nothing is written, and nothing must be read
    assert "is 33.0 MiB; the limit is 32 MiB" in refusal(course, "s", tmp_path)


def test_a_small_cap_applies_too(course, tmp_path, notebook_bytes):
    (folder_for(course, "s") / NB).write_bytes(notebook_bytes)
    assert "the limit is" in refusal(course, "s", tmp_path, FileBounds(max_bytes=1000))


@pytest.mark.parametrize("depth", [100, 100_000])
def test_json_nested_deeper_than_the_cap(course, tmp_path, depth):
    """Both a depth json can parse and one that makes it raise RecursionError."""
    text = '{"nbformat": 4, "cells": [], "metadata": {"x": ' + "[" * depth + "]" * depth + "}}"
    (folder_for(course, "s") / NB).write_text(text)
    assert "levels deep" in refusal(course, "s", tmp_path)


@pytest.mark.parametrize(
    "grade_id, kind", [(7, "a number"), ([1], "a list"), ({"a": 1}, "an object"), (None, "null"), (True, "true/false")]
)
def test_a_grade_id_that_is_not_text(course, tmp_path, grade_id, kind):
    nb = build_submission(A)
    cell = next(c for c in nb["cells"] if grade_id_of(c) == "test_zero_pad")
    cell["metadata"]["nbgrader"]["grade_id"] = grade_id
    write_submission(nb, course, "s", NAME)
    assert f"its nbgrader grade_id is {kind}, not text" in refusal(course, "s", tmp_path)


def test_missing_notebook_bad_utf8_and_too_many_cells(course, tmp_path):
    folder = folder_for(course, "s")
    assert f"s/{NAME}/{NB}: no such notebook" in refusal(course, "s", tmp_path)
    (folder / NB).write_bytes(b'{"cells": [], "nbformat": 4, "x": "\xff"}')
    assert "not a text file" in refusal(course, "s", tmp_path)
    (folder / NB).write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "raw", "source": ""}] * 20}))
    assert "20 cells; the limit is 10" in refusal(course, "s", tmp_path, FileBounds(max_cells=10))
    (folder / NB).write_text('{"nbformat": 4, "cells": [], "n": ' + "9" * 5000 + "}")
    assert "not valid JSON" in refusal(course, "s", tmp_path)


def test_folder_names_that_cannot_be_shown_are_refused(course, tmp_path, notebook_bytes):
    raw = os.fsdecode(b"eve\x1b[2J\xff")
    folder = course / raw / NAME
    folder.mkdir(parents=True)
    (folder / NB).write_bytes(notebook_bytes)
    message = refusal(course, raw, tmp_path)
    assert "eve\\x1b[2J\\xff" in message and "control characters" in message and "\x1b" not in message
    printable = "[bold red]&'-+= ü名"
    write_submission(build_submission(A), course, printable, NAME)
    assert take(course, printable, NAME, tmp_path / "p").digest


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", 'x";alert(1);"', "a\\b", "tick`"])
def test_names_formgrader_would_render_as_markup_are_refused(course, tmp_path, name):
    """Is an id with < > " \\ or ` refused, naming what to do? (formgrader writes ids into its pages unescaped)"""
    write_submission(build_submission(A), course, name, NAME)
    with pytest.raises(Refused, match="formgrader would read as HTML or script") as e:
        take(course, name, NAME, tmp_path / "p")
    assert "Rename the folder" in str(e.value)


def test_lone_surrogates_in_the_json_are_replaced(course, tmp_path):
    nb = build_submission(A, extra_cells=["x = '\ud800'  # \udcff"])
    nb["metadata"]["\ud800"] = "\udfff"
    path = folder_for(course, "s") / NB
    path.write_text(json.dumps(nb))  # ensure_ascii: the surrogates are \\ud800 escapes
    taken = take(course, "s", NAME, tmp_path / "p")
    parsed = read_submission(taken.notebook)
    assert parsed["cells"][-1]["source"] == "x = '\ufffd'  # \ufffd" and parsed["metadata"]["\ufffd"] == "\ufffd"


def test_read_submission_checks_the_file_too(tmp_path, notebook_bytes):
    """What the grader process uses: the same refusals for the file itself."""
    (tmp_path / "real.ipynb").write_bytes(notebook_bytes)
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "real.ipynb")
    os.mkfifo(tmp_path / "fifo.ipynb")
    assert read_submission(tmp_path / "real.ipynb")["cells"]
    for name, expected in [("link", "symbolic link"), ("fifo", "named pipe"), ("none", "no such notebook")]:
        with pytest.raises(Refused, match=expected):
            read_submission(tmp_path / f"{name}.ipynb")


def test_discover_lists_links_without_following_them(course, tmp_path):
    """A linked student folder is listed (to be refused), a plain file beside them is not."""
    (course / "mallory").symlink_to(course / "ada")
    (course / "dangling").symlink_to(tmp_path / "nowhere")
    (course / "README.txt").write_text("not a student")
    (course / "other" / "another_assignment").mkdir(parents=True)
    (course / os.fsdecode(b"ada\\x1b")).mkdir()  # a literal backslash: same id as the next one
    (course / os.fsdecode(b"ada\\x1b") / NAME).mkdir()
    (course / "ada\x1b" / NAME).mkdir(parents=True)
    found = discover(course, NAME)
    assert set(found) == {"ada", "mallory", "dangling", "ada\\x1b", "ada\\x1b~2"}
    assert found["mallory"] == "mallory" and sorted(found.values())[1] == "ada\x1b"


# --- duplicated nbgrader cells (notebook.plan_submission) ---------------------------


def release():
    return read_notebook(A.release_notebook)


def test_duplicated_setup_and_test_cells_are_reported_and_change_nothing():
    """Copies of a set-up cell (even edited ones) run the release's set-up code, once."""
    nb = build_submission(A)
    i = next(i for i, c in enumerate(nb["cells"]) if grade_id_of(c) == "setup_imports")
    j = next(j for j, c in enumerate(nb["cells"]) if grade_id_of(c) == "test_zero_pad")
    edited = copy.deepcopy(nb["cells"][i])
    edited["source"] = "raise SystemExit('the student set-up ran')"
    nb["cells"][i:i] = [edited, copy.deepcopy(edited)]
    nb["cells"].insert(j + 2, copy.deepcopy(nb["cells"][j + 2]))
    plan = plan_submission(nb, release())
    setup = [c for c in plan.cells if c.role == "setup"]
    assert [c.grade_id for c in setup] == ["setup_imports"] and "SystemExit" not in setup[0].source
    assert all("SystemExit" not in c.source for c in plan.cells)
    assert any("3 cells with the nbgrader grade_id `setup_imports`" in p for p in plan.problems)
    assert any("2 cells with the nbgrader grade_id `test_zero_pad`" in p for p in plan.problems)


def test_an_answer_id_reused_on_another_cell_is_reported_once():
    nb = build_submission(A)
    test_cell = next(c for c in nb["cells"] if grade_id_of(c) == "test_zero_pad")
    test_cell["metadata"]["nbgrader"]["grade_id"] = "zero_pad"
    problems = plan_submission(nb, release()).problems
    assert [p for p in problems if "zero_pad`" in p] == [
        "There are 2 cells with the nbgrader grade_id `zero_pad`, which must be unique; the grader used the "
        "release's version of it. Delete the copies."
    ]


def test_non_text_grade_ids_never_crash_the_planner():
    """(Intake refuses them; the planner, given one anyway, treats the cell as the student's.)"""
    nb = json.loads(json.dumps(build_submission(A)))
    for c in nb["cells"]:
        if grade_id_of(c) in ("zero_pad", "setup_imports", "test_zero_pad"):
            c["metadata"]["nbgrader"]["grade_id"] = [c["metadata"]["nbgrader"]["grade_id"]]
    plan = plan_submission(nb, release())
    assert any("`zero_pad` is missing" in p for p in plan.problems)
    with pytest.raises(Exception, match="not text"):
        loads_notebook(json.dumps(nb).encode(), "nb.ipynb")
