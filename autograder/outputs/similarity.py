"""Pairs of unusually similar answers, per graded function, with copydetect.

What is compared, and why:

    each student's code for a function: what the name was bound to when the graders called
         it (definitions.py: its definition in force, wherever it is, and the student's own
         functions it calls), not merely its answer cell
      -> at most ``Bounds.compare_bytes`` of it (more is noted in ``Comparison.skipped``,
         not compared; the others still are)
      -> normalised: parsed and printed back (``ast.unparse``), without docstrings or any
         other bare string statement, so comments, blank lines, formatting and a rewritten
         docstring change nothing (an answer that doesn't parse is compared as written;
         copydetect's tokenizer still drops its comments)
      -> fingerprinted by copydetect (``CodeFingerprint``): tokens with every name replaced
         by one letter (so renamed variables change nothing), k-grams of ``NOISE`` tokens,
         minus every k-gram of the release's starter code for that cell (copydetect's
         boilerplate), so the untouched release is empty and matches nothing
      -> compared with every other student's (``compare_files``): the share of each
         answer's fingerprinted tokens that the other also has.

A pair's ``similarity`` is the larger of its two shares (copydetect's own report flags a
pair when either file is mostly the other's: a copy with code added is still a copy).
A pair is listed when it reaches the threshold (``DEFAULT_THRESHOLD``, or the
instructor's ``[report] similarity`` in assignment.toml, or ``--similarity``). Answers
with fewer than ``MIN_TOKENS`` fingerprinted tokens are not compared: a one-line
``np.pad`` call can only be written a few ways, and flagging every student who wrote it
would hide the pairs that matter.

Measured on cnn_step_by_step (the reference and the catalogue's differently written
correct answers, tests/outputs/test_similarity.py): independent correct answers share at most
about 55%; a copy with renamed variables, new comments and a new docstring shares 100%.

Bounded (``bounds.Bounds``): answers over ``compare_bytes`` are left out, each with a note;
students with identical code (after normalising) are fingerprinted and compared once; and
the whole comparison stops at a deadline (``Bounds.similarity_seconds``, shared with
locating the code), saying so (``Comparison.stopped``), rather than run on.

Nothing here runs student code: it is parsed (``ast``) and tokenized (pygments) only.
"""

from __future__ import annotations

import ast
import io
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from copydetect import CodeFingerprint, compare_files

from autograder.course.assignments import strip_magics
from autograder.outputs.bounds import BOUNDS, Bounds

DEFAULT_THRESHOLD = 0.8  # a share of the fingerprinted tokens, 0 to 1
NOISE = 25  # tokens per k-gram: copydetect's default noise threshold
MIN_TOKENS = 40  # answers with fewer fingerprinted tokens (after the starter code is removed) are too short to judge


@dataclass(frozen=True)
class Pair:
    """Two students' answers for one function that reach the threshold."""

    function: str
    first: str  # student ids, in sorted order
    second: str
    similarity: float  # max(shares): what the threshold is compared with
    shares: tuple[float, float]  # of first's tokens found in second's, and of second's in first's


def normalise(source: str) -> str:
    """``source`` without comments, docstrings (any bare string statement), blank lines and
    formatting; as written if it doesn't parse."""
    try:
        tree = ast.parse(strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            kept = [s for s in body if not _is_bare_string(s)]
            node.body = kept or [ast.Pass()]
    try:
        return ast.unparse(tree)
    except (ValueError, RecursionError):
        return source


def _is_bare_string(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def too_large(source: str, bounds: Bounds = BOUNDS) -> str | None:
    """Why ``source`` is not compared, if it is over ``bounds.compare_bytes``; else None."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size <= bounds.compare_bytes:
        return None
    return f"too large to compare: {size:,} bytes of code (the limit is {bounds.compare_bytes:,})"


def _fingerprint(source: str, boilerplate: np.ndarray) -> CodeFingerprint:
    return _fingerprint_text(normalise(source), boilerplate)


def _fingerprint_text(text: str, boilerplate: np.ndarray) -> CodeFingerprint:
    """The fingerprint of code already normalised."""
    # window 1 (every k-gram) as copydetect's defaults give (guarantee = noise threshold)
    return CodeFingerprint("answer.py", NOISE, 1, boilerplate, language="python", fp=io.StringIO(text))


def boilerplate_of(starter: str) -> np.ndarray:
    """Every k-gram hash of the starter code, as copydetect collects boilerplate."""
    return np.unique(np.array(sorted(_fingerprint(starter, np.array([])).hashes), dtype=np.int64))


@dataclass
class Comparison:
    """The pairs found, and what was left out: too large to compare, or after the deadline."""

    pairs: list[Pair] = field(default_factory=list)
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)  # (student, function) -> why
    stopped: str = ""  # why the comparison stopped before the end ("" if it didn't)


def similar_pairs(
    answers: Mapping[str, Mapping[str, str]],
    starter: Mapping[str, str],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Pair]:
    """Every pair of students whose answers for one function reach ``threshold`` (``compare``'s pairs)."""
    return compare(answers, starter, threshold).pairs


def compare(
    answers: Mapping[str, Mapping[str, str]],
    starter: Mapping[str, str],
    threshold: float = DEFAULT_THRESHOLD,
    bounds: Bounds = BOUNDS,
    deadline: float | None = None,
) -> Comparison:
    """Every pair of students whose code for one function reaches ``threshold``, within ``bounds``.

    ``answers``: student -> grade_id -> the code to compare; ``starter``: grade_id -> the
    release's answer cell. Only the functions in ``starter`` are compared. Pairs are sorted
    by function (in ``starter``'s order), then most similar first. ``deadline``
    (``time.monotonic()``; default: ``bounds.similarity_seconds`` from now): past it, no more
    is compared, and ``stopped`` says where it stopped.
    """
    if deadline is None:
        deadline = time.monotonic() + bounds.similarity_seconds
    done = Comparison()
    for function, starter_source in starter.items():
        if time.monotonic() > deadline:
            done.stopped = f"`{function}` and the functions after it were not compared"
            break
        partly = f"`{function}` was compared only in part, and the functions after it not at all"
        boilerplate = boilerplate_of(starter_source)
        texts: dict[str, str] = {}  # student -> normalised code, for the answers compared
        prints: dict[str, CodeFingerprint] = {}  # normalised code -> its fingerprint (once per distinct code)
        for student in sorted(answers):
            source = answers[student].get(function)
            if source is None:
                continue
            if why := too_large(source, bounds):
                done.skipped[student, function] = why
                continue
            if time.monotonic() > deadline:
                done.stopped = partly
                break
            text = normalise(source)
            if text not in prints:
                prints[text] = _fingerprint_text(text, boilerplate)
            if prints[text].token_coverage >= MIN_TOKENS:
                texts[student] = text
        found = []
        shares_of: dict[tuple[str, str], tuple[float, float]] = {}  # per pair of distinct codes
        for a, b in itertools.combinations(texts, 2):
            if done.stopped or time.monotonic() > deadline:
                done.stopped = partly
                break
            ta, tb = texts[a], texts[b]
            if ta == tb:
                shares = (1.0, 1.0)  # the same code: all of each is in the other
            elif (ta, tb) in shares_of:
                shares = shares_of[ta, tb]
            elif not prints[ta].hashes & prints[tb].hashes:
                continue  # nothing in common (most pairs, in a large class): skip the slices
            else:
                _, (share_a, share_b), _ = compare_files(prints[ta], prints[tb])
                shares = shares_of[ta, tb] = (round(float(share_a), 4), round(float(share_b), 4))
            if max(shares) >= threshold:
                found.append(Pair(function, a, b, max(shares), shares))
        done.pairs.extend(sorted(found, key=lambda p: (-p.similarity, p.first, p.second)))
        if done.stopped:
            break
    return done
