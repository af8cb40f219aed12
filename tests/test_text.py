"""Is student-controlled text safe everywhere it goes? (autograder/text.py, the one sanitiser)"""

from __future__ import annotations

import io
import json
import os

import pytest
from rich.console import Console

from autograder import console
from autograder.outputs.feedback import feedback_html
from autograder.outputs.results import FunctionResult, StudentResult, TestResult
from autograder.run.layout import Report
from autograder.text import (
    MAX_ERRORS,
    MESSAGE_LIMIT,
    TRUNCATED,
    clean,
    clean_id,
    clean_messages,
    clean_tree,
    terminal,
)

ESC = "\x1b"
ATTACKS = {
    "csi clear screen": "before\x1b[2J\x1b[Hafter",
    "csi colour": "\x1b[31;1mred\x1b[0m",
    "8-bit csi": "a\x9b2Jb",
    "osc title (BEL)": "x\x1b]0;pwned\x07y",
    "osc hyperlink (ST)": "x\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\y",
    "unterminated osc": "x\x1b]0;title with no end",
    "dcs": "x\x1bP1$qm\x1b\\y",
    "esc c (reset)": "x\x1bcy",
    "lone esc": "x\x1b",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_escape_sequences_are_removed_whole(text):
    """Does no ESC (nor an 8-bit CSI/OSC) survive, and no half of a sequence?"""
    out = clean(text)
    assert ESC not in out and "\x9b" not in out and "\x07" not in out
    assert "[2J" not in out and "]0;" not in out and "8;;" not in out


def test_text_around_escapes_is_kept():
    assert clean("before\x1b[2J\x1b[Hafter") == "beforeafter"
    assert clean("x\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\y") == "xclicky"


def test_lone_surrogates_and_undecodable_bytes_become_replacement_characters():
    """JSON "\\ud800" escapes and file names decoded with surrogateescape encode afterwards."""
    name = os.fsdecode(b"caf\xe9")  # a Latin-1 name on a UTF-8 file system
    for text in ["a\ud800b", "\udfff", name, "pair \U0001f600 ok"]:
        out = clean(text)
        out.encode("utf-8")  # raises if a surrogate is left
    assert clean("a\ud800b") == "a\ufffdb" and clean(name) == "caf\ufffd"
    assert clean("pair \U0001f600 ok") == "pair \U0001f600 ok"  # real characters are untouched


def test_nul_and_control_characters_are_made_visible_but_newline_and_tab_stay():
    out = clean("a\x00b\x08c\rd\x7fe\x85f\tg\nh")
    assert out == "a\u2400b\u2408c\u240dd\u2421e\ufffdf\tg\nh"
    assert clean("line\r\nnext") == "line\nnext"


def test_bidirectional_overrides_are_removed():
    """The "Trojan source" characters can't reorder what the instructor reads."""
    assert clean("if admin\u202e \u2066x\u2069") == "if admin x"


def test_long_text_is_capped_with_a_visible_marker():
    out = clean("x" * 100_000)
    assert len(out.encode()) <= MESSAGE_LIMIT and TRUNCATED in out and "100,000 bytes" in out
    wide = clean("\u00e9" * 100_000)  # two bytes each: the cut never splits a character
    assert len(wide.encode("utf-8")) <= MESSAGE_LIMIT and TRUNCATED in wide
    assert clean("short") == "short" and clean("y" * 50_000, limit=None) == "y" * 50_000


def test_clean_is_idempotent_and_takes_any_value():
    for text in [*ATTACKS.values(), "a\ud800\x00" * 5000, "[/x] <script>"]:
        assert clean(clean(text)) == clean(text)
    assert clean(None) == "" and clean(3.5) == "3.5"


def test_markup_and_html_are_left_to_their_writers():
    """clean() keeps "[/x]" and "<script>" as text; terminal() escapes rich markup."""
    assert clean("[/x] <script>") == "[/x] <script>"
    assert terminal("[/x] [bold red]hi") == "\\[/x] \\[bold red]hi"


def test_terminal_text_prints_through_rich_literally():
    buf = io.StringIO()
    Console(file=buf, width=200).print(f"note: {terminal('[/x] [bold red]x' + ATTACKS['osc title (BEL)'])}")
    assert buf.getvalue() == "note: [/x] [bold red]xxy\n"


def test_summary_table_never_lets_escapes_or_markup_through(monkeypatch):
    """console.print_summary, given raw hostile text, prints it literally and with no ESC."""
    buf = io.StringIO()
    monkeypatch.setattr(console, "out", Console(file=buf, width=200))
    hostile = "[/x] [bold red]<script>\x1b[2J\x1b]0;pwned\x07\x00\ud800"
    report = Report(results={hostile: StudentResult("demo", hostile, 0.0, 1.0, {}, (hostile * 3, "b"))})
    console.print_summary(type("A", (), {"name": "demo"})(), report)
    out = buf.getvalue()
    assert ESC not in out and "\x00" not in out and "[/x] [bold red]<script>" in out and "(+1 more)" in out


def test_clean_tree_cleans_keys_and_values_and_keeps_numbers():
    tree = {"a\x1b[2J": ["x\x00", {"k": "\ud800"}, 1, 2.5, True, None]}
    assert clean_tree(tree) == {"a": ["x\u2400", {"k": "\ufffd"}, 1, 2.5, True, None]}
    json.dumps(clean_tree(tree), ensure_ascii=False).encode("utf-8")
    deep: list = []
    node = deep
    for _ in range(200):
        node.append([])
        node = node[0]
    with pytest.raises(ValueError):
        clean_tree(deep)


def test_clean_messages_caps_their_number():
    out = clean_messages([f"problem {i}" for i in range(1000)])
    assert len(out) == MAX_ERRORS + 1 and TRUNCATED in out[-1] and "950 more not listed" in out[-1]


def test_clean_id_spells_out_what_cannot_be_shown():
    """A folder name becomes a printable id: each bad character (or byte) is spelled out."""
    name = os.fsdecode(b"bob\x1b[2J\xff")
    assert clean_id(name) == "bob\\x1b[2J\\xff"
    assert clean_id("ada_lovelace-1 [x] <y>") == "ada_lovelace-1 [x] <y>"  # printable stays as it is
    assert clean_id("a\x00\u202e") == "a\\x00\\u202e"
    assert clean(clean_id(name)) == clean_id(name)


def test_feedback_escapes_html_and_strips_escapes():
    """The page shows "<script>" as text and holds no ESC or NUL."""
    tests = (TestResult("t", False, 1.0, "<img src=x>"),)
    result = StudentResult("demo", "<b>s</b>\x1b[2J", 0.0, 1.0, {"f": FunctionResult(0.0, 1.0, tests)},
                           ("<script>alert(1)</script>\x00\x1b]0;t\x07",))  # fmt: skip
    page = feedback_html(result, None)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<img" not in page and "<b>s" not in page
    assert ESC not in page and "\x00" not in page
