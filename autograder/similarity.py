"""Pairs of unusually similar answer cells, per graded function, with copydetect.

What is compared, and why:

    each student's answer cell for a function  (the cell the grader ran: the last one with its grade_id)
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
correct answers, tests/test_similarity.py): independent correct answers share at most
about 55%; a copy with renamed variables, new comments and a new docstring shares 100%.

Nothing here runs student code: it is parsed (``ast``) and tokenized (pygments) only.
"""

from __future__ import annotations

import ast
import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from copydetect import CodeFingerprint, compare_files

from .assignments import strip_magics

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


def _fingerprint(source: str, boilerplate: np.ndarray) -> CodeFingerprint:
    # window 1 (every k-gram) as copydetect's defaults give (guarantee = noise threshold)
    return CodeFingerprint("answer.py", NOISE, 1, boilerplate, language="python", fp=io.StringIO(normalise(source)))


def boilerplate_of(starter: str) -> np.ndarray:
    """Every k-gram hash of the starter code, as copydetect collects boilerplate."""
    return np.unique(np.array(sorted(_fingerprint(starter, np.array([])).hashes), dtype=np.int64))


def similar_pairs(
    answers: Mapping[str, Mapping[str, str]],
    starter: Mapping[str, str],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Pair]:
    """Every pair of students whose answers for one function reach ``threshold``.

    ``answers``: student -> grade_id -> answer-cell source; ``starter``: grade_id -> the
    release's answer cell. Only the functions in ``starter`` are compared. Sorted by
    function (in ``starter``'s order), then most similar first.
    """
    pairs: list[Pair] = []
    for function, starter_source in starter.items():
        boilerplate = boilerplate_of(starter_source)
        prints = {}
        for student in sorted(answers):
            source = answers[student].get(function)
            if source is None:
                continue
            fingerprint = _fingerprint(source, boilerplate)
            if fingerprint.token_coverage >= MIN_TOKENS:
                prints[student] = fingerprint
        found = []
        for a, b in itertools.combinations(prints, 2):
            if not prints[a].hashes & prints[b].hashes:
                continue  # nothing in common (most pairs, in a large class): skip the slices
            _, (share_a, share_b), _ = compare_files(prints[a], prints[b])
            shares = (round(float(share_a), 4), round(float(share_b), 4))
            if max(shares) >= threshold:
                found.append(Pair(function, a, b, max(shares), shares))
        pairs.extend(sorted(found, key=lambda p: (-p.similarity, p.first, p.second)))
    return pairs
