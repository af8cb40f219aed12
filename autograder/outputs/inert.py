"""Make what an instructor's tools render inert: the notebooks we write to ``autograded/``.

nbgrader's formgrader shows the autograded notebook, rendered by nbconvert, inside the
instructor's Jupyter origin, where a script could start kernels and change grades as the
instructor. ``nbgrader generate_feedback`` renders the same notebook. So every notebook we
write there passes through ``notebook`` first, which keeps only what is inert:

    markdown   formgrader's own rendering of the cell (nbconvert's markdown2html) is
               sanitised with nh3 (``sanitise``: an allow-list of formatting tags, no
               script, no handler, no style, no request). A cell whose rendering passes
               unchanged is kept as written; any other becomes that sanitised HTML, as
               one HTML block that the renderer passes through verbatim (checked; its
               newlines written ``&#10;``, so a second pass keeps it as it is). Cells
               over ``RENDER_CELL_LIMIT`` bytes, or past ``RENDER_TOTAL_LIMIT`` in one
               notebook, or that nbconvert can't render, are shown as escaped text.
    raw        sanitised the same way (formgrader writes raw cells into the page)
    attachments  only PNG, JPEG, GIF and WebP images with valid base64 (never SVG)
    outputs    only plain-text streams (our verdicts); everything a student's kernel made
               (HTML, JavaScript, widgets, images, errors) is dropped
    metadata   a cell keeps only ``nbgrader`` (if it is valid under nbgrader's own
               schema, so its grade_id can't break out of formgrader's attributes),
               ``deletable`` and ``editable``; the notebook keeps only ``kernelspec`` and
               ``language_info`` (plain values). Gone: widget state, tags (formgrader
               turns them into CSS classes), ``jupyter.source_hidden``,
               ``transient.remove_source``, ``raw_mimetype``, ``trusted`` ...

The allow-list (``CLEANER``), decided here:

- tags: nh3's defaults (ammonia's formatting tags) without ``area``/``map``, plus
  ``input`` only as a disabled checkbox (Markdown task lists); ``script`` and ``style``
  are removed with their content; ``iframe``, ``object``, ``embed``, ``form``, ``svg``,
  ``math``, ``meta``, ``base``, ``link`` are removed (their text stays, as text).
- attributes: nh3's defaults without ``cite``; no ``on*``, no ``style`` but ``text-align``
  on table cells, no ``data-*`` (Bootstrap's data API acts on them), no ``name``; ``id``
  only on headings, prefixed ``user-content-`` (so a heading named like a grade cell
  can't take the id formgrader's script looks up), and in-page links follow the prefix;
  classes only those nbconvert itself writes (Pygments tokens, ``anchor-link`` ...), but
  not Mermaid's (a Mermaid block stays as text: no Mermaid renderer gets to act on it).
- URLs: links to ``http``, ``https``, ``mailto`` and ``#fragment`` (a click, never a
  load); images only from ``data:image/png|jpeg|gif|webp`` (attachments are inlined so):
  a remote or relative image would be a request leaving the page, so its ``src`` goes.

MathJax (loaded by formgrader itself, with its Safe extension) still typesets ``$...$``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import html
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import nh3

from autograder.course.notebook import Notebook

RENDER_CELL_LIMIT = 16 * 1024  # bytes of one cell rendered as Markdown (nbconvert's math rules are quadratic)
RENDER_TOTAL_LIMIT = 96 * 1024  # bytes rendered per notebook (the course's notebooks hold about 25 KB)
ID_PREFIX = "user-content-"
NEWLINE = "&#10;"  # a newline in a rewritten cell (see _html_block)
RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp")
NOT_RENDERED = "(autograder: this cell is shown as text; it was too long, or not Markdown that nbconvert renders.)"
NOT_SHOWN = "(autograder: this cell could not be shown safely; read it in the submitted notebook.)"


def _classes() -> dict[str, set[str]]:
    """The CSS classes nbconvert's Markdown renderer writes, by tag (anything else is dropped)."""
    from pygments.token import STANDARD_TYPES

    return {
        "span": {c for c in STANDARD_TYPES.values() if c},  # code blocks, highlighted by Pygments
        "div": {"highlight"},  # (not jp-Mermaid/mermaid: a Mermaid renderer would act on the text)
        "a": {"anchor-link"},
        "li": {"task-list-item"},
        "input": {"task-list-item-checkbox"},
    }


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's last word on an attribute: images only from inline raster data, no other data: URL."""
    if (tag, name) == ("img", "src"):
        return value if value.startswith(tuple(f"data:{t};base64," for t in RASTER)) else None
    if name in ("href", "src") and value.strip().lower().startswith("data:"):
        return None
    return value


def _relative(url: str) -> str | None:
    """Relative URLs: only in-page links (to a prefixed id); a relative path would reach the Jupyter server."""
    if url.startswith("#"):
        return url if url.startswith(f"#{ID_PREFIX}") else f"#{ID_PREFIX}{url[1:]}"
    return None


def _cleaner() -> nh3.Cleaner:
    attributes = {tag: set(names) - {"cite"} for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"title", "lang", "dir"}
    for level in range(1, 7):
        attributes[f"h{level}"] = {"id"}
    for cell in ("th", "td"):
        attributes[cell] = attributes[cell] | {"style"}  # Markdown tables align columns with style
    return nh3.Cleaner(
        tags=(nh3.ALLOWED_TAGS - {"area", "map"}) | {"input"},
        clean_content_tags={"script", "style"},
        attributes=attributes,
        attribute_filter=_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        url_relative=_relative,
        id_prefix=ID_PREFIX,
        allowed_classes=_classes(),
        tag_attribute_values={"input": {"type": {"checkbox"}, "disabled": {""}, "checked": {""}}},
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


CLEANER = _cleaner()


def sanitise(markup: str) -> str:
    """``markup`` (an HTML fragment from a student) with only the allow-list's tags, attributes and URLs."""
    return CLEANER.clean(markup)


# --- notebooks --------------------------------------------------------------------------


def notebook(nb: Notebook) -> Notebook:
    """An inert copy of ``nb`` (see the module's docstring); ``nb`` itself is not changed.

    Expects text already passed through ``text.clean_tree`` (no escapes or controls).
    """
    budget = [RENDER_TOTAL_LIMIT]  # Markdown bytes this notebook may still have rendered
    minor = nb.get("nbformat_minor")
    minor = minor if isinstance(minor, int) and not isinstance(minor, bool) and 0 <= minor <= 5 else 4
    given = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    cells = [_cell(c, budget) for c in given]
    if minor >= 5:  # nbformat 4.5's cell ids: its pattern, unique (formgrader writes them into the page)
        seen: set[str] = set()
        for i, (cell, original) in enumerate(zip(cells, given, strict=True)):
            cid = original.get("id")
            if not (isinstance(cid, str) and _CELL_ID.fullmatch(cid)) or cid in seen:
                cid = next(c for n in range(len(given) + 1) if (c := f"cell-{i}-{n}") not in seen)
            cell["id"] = cid
            seen.add(cid)
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": _notebook_metadata(nb.get("metadata")), "cells": cells}


_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _cell(cell: dict, budget: list[int]) -> dict:
    kind = cell.get("cell_type")
    source = cell.get("source", "")
    source = source if isinstance(source, str) else "".join(s for s in source if isinstance(s, str))
    out: dict[str, Any] = {"cell_type": kind, "metadata": _cell_metadata(cell.get("metadata"))}
    if kind == "code":
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        out.update(source=source, execution_count=None, outputs=[_stream(o) for o in outputs if _is_stream(o)])
    elif kind == "markdown":
        out["source"], attachments = markdown(source, cell.get("attachments"), budget)
        if attachments:
            out["attachments"] = attachments
    else:  # raw: formgrader writes its text into the page
        safe = sanitise(source)
        out.update(cell_type="raw", source=source if safe == source else safe)
    return out


def _is_stream(output: Any) -> bool:
    return (
        isinstance(output, dict)
        and output.get("output_type") == "stream"
        and output.get("name") in ("stdout", "stderr")
        and isinstance(output.get("text"), (str, list))
    )


def _stream(output: dict) -> dict:
    text = output["text"]
    text = text if isinstance(text, str) else "".join(t for t in text if isinstance(t, str))
    return {"output_type": "stream", "name": output["name"], "text": text}


def _raster_attachments(attachments: Any) -> dict[str, dict[str, str]]:
    """A cell's attachments, each kept only as PNG, JPEG, GIF or WebP with valid base64."""
    kept = {}
    for name, bundle in (attachments or {}).items() if isinstance(attachments, dict) else ():
        if not isinstance(bundle, dict):
            continue
        images = {}
        for mime in RASTER:
            data = bundle.get(mime)
            if isinstance(data, str):
                try:
                    base64.b64decode(data, validate=True)
                except (binascii.Error, ValueError):
                    continue
                images[mime] = data
        if images and isinstance(name, str):
            kept[name] = images
    return kept


# --- Markdown cells ---------------------------------------------------------------------


@cache
def _exporter():
    from nbconvert.exporters import HTMLExporter  # slow import: only when a notebook is written

    return HTMLExporter()


def render(source: str, attachments: dict | None = None) -> str:
    """A Markdown cell as formgrader shows it: nbconvert's ``markdown2html`` then ``strip_files_prefix``."""
    from nbconvert.filters.strings import strip_files_prefix

    context = {"cell": {"attachments": attachments or {}}, "resources": {}}
    return strip_files_prefix(_exporter().markdown2html(context, source))


def markdown(source: str, attachments: Any, budget: list[int]) -> tuple[str, dict]:
    """A Markdown cell's source and attachments (as the notebook has them), inert (see the module's docstring).

    ``budget`` (a one-item list) is how many more bytes may be rendered in this notebook.
    """
    kept = _raster_attachments(attachments)
    # an attachment that is not a raster image renders as an image the sanitiser drops
    # (nbconvert raises on a missing one, so it can't just be left out)
    names = attachments if isinstance(attachments, dict) else {}
    shown = {name: {"text/plain": ""} for name in names if isinstance(name, str)} | kept
    size = len(source.encode("utf-8"))
    rendered = None
    if size <= min(RENDER_CELL_LIMIT, budget[0]):
        budget[0] -= size
        try:
            rendered = render(source, shown)
        except Exception:  # e.g. a missing attachment: nbconvert (and so formgrader) raises on it
            rendered = None
    if rendered is not None:
        safe = sanitise(rendered)
        if safe == _newlines(rendered):
            return source, kept  # formgrader shows exactly what the sanitiser passes (a cell written before, too)
        block = _html_block(safe)
        if block is not None:
            return block, {}  # attachments are inlined as data: images now
    text = sanitise(f"<p><em>{html.escape(NOT_RENDERED)}</em></p><pre>{html.escape(source)}</pre>")
    return _html_block(text) or NOT_SHOWN, {}  # (plain words: Markdown renders them as one inert paragraph)


def _html_block(safe: str) -> str | None:
    """``safe`` (sanitised HTML) as a Markdown source that renders to exactly it, or None.

    One line in a ``<div>``: a Markdown HTML block ends at a blank line, so newlines are
    written as ``&#10;`` (the same characters to an HTML parser). Checked both ways: the
    renderer passes it through verbatim, and the sanitiser finds nothing in it to change.
    """
    block = f"<div>{safe.replace(chr(10), NEWLINE)}</div>"
    try:
        if render(block).rstrip("\n") != block:
            return None
    except Exception:
        return None
    return block if sanitise(block) == _newlines(block) else None


def _newlines(markup: str) -> str:
    """``markup`` with the newlines ``_html_block`` writes as references written out (as the sanitiser writes them)."""
    return markup.replace(NEWLINE, "\n")


# --- metadata ---------------------------------------------------------------------------


@cache
def _nbgrader_validator():
    import jsonschema

    schema = json.loads(resources.files("nbgrader").joinpath("nbgraderformat/v3.json").read_text("utf-8"))
    return jsonschema.Draft4Validator(schema)


def _cell_metadata(metadata: Any) -> dict:
    """Only what nbgrader needs: its own metadata (valid under its schema), deletable, editable."""
    metadata = metadata if isinstance(metadata, dict) else {}
    out = {k: metadata[k] for k in ("deletable", "editable") if isinstance(metadata.get(k), bool)}
    meta = metadata.get("nbgrader")
    if isinstance(meta, dict) and _nbgrader_validator().is_valid(meta):
        out["nbgrader"] = copy.deepcopy(meta)
    return out


def _plain(value: Any, depth: int = 2) -> Any:
    """Strings, numbers and booleans, and objects of them (``depth`` levels); None for anything else."""
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict) and depth > 0:
        return {k: v for k, v in ((k, _plain(v, depth - 1)) for k, v in value.items()) if v is not None}
    return None


def _notebook_metadata(metadata: Any) -> dict:
    metadata = metadata if isinstance(metadata, dict) else {}
    kept = {k: _plain(metadata.get(k)) for k in ("kernelspec", "language_info")}
    return {k: v for k, v in kept.items() if isinstance(v, dict)}
