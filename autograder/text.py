"""The one sanitiser for student-controlled text, on its way to a terminal, a page or a file.

Everything a student controls is hostile input: exception types and messages, printed
output, cell sources, folder names, notebook metadata. ``clean`` makes such a string
safe to store and show anywhere:

    surrogates      lone surrogates (JSON "\\ud800", undecodable file-name bytes) -> U+FFFD
    escapes         terminal escape sequences (CSI, OSC, DCS, ...) are removed whole
    controls        other control characters are made visible (NUL -> "␀"); \\n and \\t stay
    bidi            bidirectional overrides (the "Trojan source" characters) are removed
    length          at most ``limit`` UTF-8 bytes, then a visible "… truncated" marker

``terminal`` additionally escapes rich markup, for text printed through rich; HTML is
escaped by the feedback template (jinja2 autoescape), JSON and CSV by their writers; ``cell``
quotes a CSV cell a spreadsheet would run as a formula, and ``uncell`` reads it back.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape

MESSAGE_LIMIT = 10 * 1024  # bytes of one message (an error, a test's verdict)
CODE_LIMIT = 32 * 1024  # bytes of one answer cell shown in feedback
PAGE_LIMIT = 1_000_000  # bytes of one feedback page
MAX_ERRORS = 50  # problems listed per student; the rest are counted
TRUNCATED = "… truncated"
MAX_TREE_DEPTH = 100  # deeper than any notebook intake accepts: a corrupt or hostile file

# ESC (or its 8-bit C1 form) and everything a terminal would read as part of the sequence.
_ESCAPES = re.compile(
    r"""
      (?:\x1b\[|\x9b) [0-?]* [ -/]* [@-~]?                  # CSI: cursor, colours, clear screen
    | (?:\x1b[\]P^_X]|[\x90\x98\x9d-\x9f])                   # OSC, DCS, SOS, PM, APC: a string...
      [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?                 # ...up to BEL or ST (or the end)
    | \x1b [ -/]* [0-~]?                                     # any other escape (ESC c, ESC 7, ...)
    """,
    re.VERBOSE,
)
SURROGATES = re.compile("[\ud800-\udfff]")  # lone surrogates: no encoding can write them
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_SHOWN = {i: chr(0x2400 + i) for i in range(0x20)} | {0x7F: "\u2421"}  # ␀ … ␟, ␡


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return _CONTROL_SHOWN.get(code, "\ufffd" if code < 0x100 else "")


def clean(text: Any, limit: int | None = MESSAGE_LIMIT) -> str:
    """``text`` as safe, valid Unicode: no escapes or controls, at most ``limit`` bytes."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = SURROGATES.sub("\ufffd", text)
    if _CONTROLS.search(text):
        text = _ESCAPES.sub("", text.replace("\r\n", "\n"))
        text = _CONTROLS.sub(_visible, text)
    if limit is not None and len(text) > limit // 4:  # (a character is at most 4 bytes)
        data = text.encode("utf-8")
        if len(data) > limit:
            marker = f" {TRUNCATED} ({len(data):,} bytes in all)"
            kept = data[: max(0, limit - len(marker.encode()))].decode("utf-8", "ignore")
            text = kept + marker
    return text


def terminal(text: Any, limit: int | None = MESSAGE_LIMIT) -> str:
    """``clean`` text with rich markup escaped, to embed in a string rich will print."""
    return escape(clean(text, limit))


def clean_tree(value: Any, limit: int | None = MESSAGE_LIMIT, _depth: int = 0) -> Any:
    """A copy of JSON-like data with every string (keys too) passed through ``clean``."""
    if isinstance(value, str):
        return clean(value, limit)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _depth > MAX_TREE_DEPTH:
        raise ValueError(f"nested more than {MAX_TREE_DEPTH} levels deep")
    if isinstance(value, dict):
        return {clean(k, limit): clean_tree(v, limit, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_tree(v, limit, _depth + 1) for v in value]
    return clean(str(value), limit)


def clean_messages(messages: list, limit: int = MESSAGE_LIMIT, max_items: int = MAX_ERRORS) -> list[str]:
    """At most ``max_items`` cleaned messages; a last one says how many were left out."""
    out = [clean(m, limit) for m in messages[:max_items]]
    if len(messages) > max_items:
        out.append(f"{TRUNCATED}: {len(messages) - max_items:,} more not listed")
    return out


def clean_id(name: str) -> str:
    """A file or folder name as an id that can be shown and stored: printable, and with
    each character that isn't (a control, an undecodable byte) spelled out, e.g. ``\\x1b``."""

    def spell(ch: str) -> str:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode gives it
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(spell(ch) if _unsafe(ch) else ch for ch in name)


def _unsafe(ch: str) -> bool:
    return bool(SURROGATES.match(ch) or _CONTROLS.match(ch))


def is_clean_id(name: str) -> bool:
    return clean_id(name) == name


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list); the
# quote itself is on the list so that quoting stays one-to-one: "+x" -> "'+x", "'+x" -> "''+x".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def cell(text: str) -> str:
    """A CSV cell a spreadsheet won't run as a formula: text starting with ``FORMULA_START`` gets a
    leading ``'``. One-to-one, and ``uncell`` reverses it (student ids are keys)."""
    text = clean(text, 1024)
    return "'" + text if text.startswith(FORMULA_START) else text


def uncell(text: str) -> str:
    """The text ``cell`` quoted. (A CSV written before the quote itself was quoted reads the same,
    except an id that started with ' followed by one of = + - @ ', which it could not tell apart.)"""
    return text[1:] if text[:1] == "'" and text[1:].startswith(FORMULA_START) else text
