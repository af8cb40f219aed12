"""Similar answer cells (autograder/outputs/similarity.py) and the ``[report]`` table that sets the threshold.

Is a lightly disguised copy flagged? Are independently written correct answers (the
reference and the catalogue's differently written ones) not? Does the threshold decide?
Is the untouched release never flagged? No grading here: answers are compared as text.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.declaration import validate_declaration
from autograder.course.notebook import cell_role, grade_id_of, read_notebook
from autograder.graders.cnn_step_by_step.catalogue import CORRECT
from autograder.outputs import similarity
from autograder.outputs.bounds import Bounds
from autograder.run import fingerprint
from tests.support import reference_answers

A = Assignment("cnn_step_by_step")
STARTER = {grade_id_of(c): c["source"] for c in read_notebook(A.release_notebook)["cells"] if cell_role(c) == "answer"}
REFERENCE = reference_answers(A)

# The reference's conv_forward, lightly disguised: every variable renamed, comments and blank
# lines added, a new docstring, and the shape unpacking split differently across lines.
DISGUISED = '''def conv_forward(prev, weights, bias, settings):
    """My convolution. Slides the filters, written from scratch by me."""
    # read the shapes

    (count, rows_in, cols_in, chans_in) = prev.shape
    (size, size, chans_in, filters) = weights.shape   # filter size, filters
    step = settings["stride"]
    border = settings["pad"]

    # output size
    rows = (rows_in - size + 2 * border) // step + 1
    cols = (cols_in - size + 2 * border) // step + 1
    out = np.zeros((count, rows, cols, filters))

    padded = zero_pad(prev, border)
    for n in range(count):
        image = padded[n]  # one example
        for r in range(rows):
            top = r * step
            bottom = top + size
            for q in range(cols):
                left = q * step
                right = left + size
                window = image[top:bottom, left:right, :]
                for k in range(filters):
                    # one filter at a time
                    out[n, r, q, k] = conv_single_step(window, weights[:, :, :, k], bias[:, :, :, k])

    cache = (prev, weights, bias, settings)
    return out, cache
'''

# Half the reference's conv_forward kept, the loop rewritten with np.tensordot: between the
# thresholds below.
HALF_REWRITTEN = """def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]

    n_H = (n_H_prev - f + 2 * pad) // stride + 1
    n_W = (n_W_prev - f + 2 * pad) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))

    A_prev_pad = zero_pad(A_prev, pad)
    for h in range(n_H):
        for w in range(n_W):
            patch = A_prev_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            Z[:, h, w, :] = np.tensordot(patch, W, axes=([1, 2, 3], [0, 1, 2])) + b.reshape(-1)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
"""


def pairs(answers: dict, threshold: float = similarity.DEFAULT_THRESHOLD) -> dict:
    return {(p.function, p.first, p.second): p for p in similarity.similar_pairs(answers, STARTER, threshold)}


def test_a_lightly_disguised_copy_is_flagged():
    """Do renamed variables, new comments, blank lines and another docstring hide nothing?"""
    found = pairs({"ada": REFERENCE, "ben": {"conv_forward": DISGUISED}})
    assert set(found) == {("conv_forward", "ada", "ben")}
    assert found["conv_forward", "ada", "ben"].similarity > 0.95


def test_independent_correct_answers_are_not_flagged():
    """Are the reference and the catalogue's differently written correct answers (loops,
    tensordot, einsum, sliding windows), each one student's, never a pair at the default?"""
    answers = {"reference": dict(REFERENCE)}
    for variant in CORRECT:
        answers.setdefault(variant.name, {})[variant.function] = variant.source
    functions = {v.function for v in CORRECT}
    assert len(functions) >= 6 and len(answers) >= 15  # enough genuinely different answers to mean something
    assert pairs(answers) == {}
    # the most alike of them still share well under the threshold
    top = max(p.similarity for p in similarity.similar_pairs(answers, STARTER, 0.01))
    assert 0.2 < top < similarity.DEFAULT_THRESHOLD


def test_the_threshold_decides():
    """Is a half-rewritten copy flagged at 0.5 but not at the default 0.8, and the disguised copy at both?"""
    answers = {"ada": REFERENCE, "ben": {"conv_forward": DISGUISED}, "cy": {"conv_forward": HALF_REWRITTEN}}
    low, default = pairs(answers, 0.5), pairs(answers)
    assert ("conv_forward", "ada", "cy") in low and ("conv_forward", "ada", "cy") not in default
    assert ("conv_forward", "ada", "ben") in low and ("conv_forward", "ada", "ben") in default
    assert 0.5 <= low["conv_forward", "ada", "cy"].similarity < 0.8


def test_the_untouched_release_is_never_flagged():
    """Are two untouched releases (and a release against a full answer) never similar, at any threshold?"""
    assert pairs({"ada": STARTER, "ben": STARTER, "cy": REFERENCE}, threshold=0.01) == {}
    for function, source in STARTER.items():
        fingerprint = similarity._fingerprint(source, similarity.boilerplate_of(source))
        assert fingerprint.token_coverage == 0, function  # all of it is boilerplate


def test_docstrings_and_comments_are_removed_before_comparing():
    source = 'def f(x):\n    """Doc."""\n    # a comment\n\n    y = x + 1  # why\n    "a bare string"\n    return y\n'
    assert similarity.normalise(source) == "def f(x):\n    y = x + 1\n    return y"
    assert similarity.normalise("def f(:\n  # broken") == "def f(:\n  # broken"  # compared as written


def test_short_answers_are_not_compared():
    """Is a one-line answer, identical in two notebooks, too short to be a pair?"""
    answers = {s: {"create_mask_from_window": "def create_mask_from_window(x):\n    return x == np.max(x)\n"}
               for s in ("ada", "ben")}  # fmt: skip
    assert pairs(answers, threshold=0.01) == {}


def test_pairs_are_per_function_and_sorted():
    answers = {"ada": REFERENCE, "ben": REFERENCE, "cy": {"conv_forward": DISGUISED}}
    found = similarity.similar_pairs(answers, STARTER)
    assert [p.function for p in found] == sorted((p.function for p in found), key=list(STARTER).index)
    forward = [(p.first, p.second) for p in found if p.function == "conv_forward"]
    assert sorted(forward) == sorted(itertools.combinations(["ada", "ben", "cy"], 2))


def test_a_class_that_copied_one_answer_lists_the_most_similar_pairs_and_counts_the_rest():
    """Twelve students with the reference's answers are 66 pairs per function: with a cap of
    5, does the page list 5 per function and say how many more there are?"""
    from autograder.outputs import class_report, report_context, report_data

    answers = {f"s{i:02d}": dict(REFERENCE) for i in range(12)}
    pairs = similarity.similar_pairs(answers, STARTER)
    functions = sorted({p.function for p in pairs})
    assert functions and all(sum(p.function == f for p in pairs) == 66 for f in functions)
    report = report_data.ClassReport(A, {}, pairs=pairs, answers=answers, bounds=Bounds(pairs_listed=5))
    page = report_context.context(report)
    assert [sum(p.function == f for p in page["pairs"]) for f in functions] == [5] * len(functions)
    assert page["unlisted"] == [(f, 61) for f in functions]
    assert "… and 61 more pairs for <code>" in class_report.render(report)


# --- bounded ----------------------------------------------------------------------------------


def test_code_over_the_cap_is_noted_and_the_others_still_compared():
    """A copy padded with 70 KB of comments is left out, with its size; is the other pair still found?"""
    huge = REFERENCE["conv_forward"].replace("\n", "\n    # " + "x" * 70_000 + "\n", 1)
    done = similarity.compare({"ada": REFERENCE, "ben": {"conv_forward": DISGUISED}, "cy": {"conv_forward": huge}},
                              STARTER)  # fmt: skip
    assert {(p.function, p.first, p.second) for p in done.pairs} == {("conv_forward", "ada", "ben")}
    assert done.skipped == {
        ("cy", "conv_forward"): f"too large to compare: {len(huge.encode()):,} bytes of code (the limit is 65,536)"
    }
    assert done.stopped == ""


def test_the_deadline_stops_the_comparison_and_says_so():
    answers = {"ada": REFERENCE, "ben": REFERENCE}
    done = similarity.compare(answers, STARTER, deadline=time.monotonic() - 1)
    assert done.pairs == [] and done.stopped == "`zero_pad` and the functions after it were not compared"
    assert similarity.compare(answers, STARTER).stopped == ""  # (in time, the same answers are compared)


def test_identical_code_is_fingerprinted_once_and_never_compared_pairwise(monkeypatch):
    """Twelve students with the same answers (66 pairs per function): one fingerprint per function's
    code (and one of its starter), and no pairwise comparison at all: the same code is a 100% pair."""
    calls: Counter = Counter()
    compare_files, fingerprint = similarity.compare_files, similarity._fingerprint_text
    monkeypatch.setattr(similarity, "compare_files", lambda a, b: calls.update(["compare"]) or compare_files(a, b))
    monkeypatch.setattr(similarity, "_fingerprint_text", lambda t, b: calls.update(["print"]) or fingerprint(t, b))
    found = similarity.similar_pairs({f"s{i:02d}": dict(REFERENCE) for i in range(12)}, STARTER)
    functions = {p.function for p in found}
    assert len(found) == 66 * len(functions) and all(p.shares == (1.0, 1.0) for p in found)
    assert calls == {"print": 2 * len(STARTER)}


# --- [report] in assignment.toml ---------------------------------------------------------


@pytest.mark.parametrize(
    "table, message",
    [
        ({"similarity": 0}, r"report.similarity must be a fraction above 0 and at most 1 .* not 0$"),
        ({"similarity": 1.5}, r"report.similarity must be a fraction .* not 1.5"),
        ({"similarity": "high"}, r"report.similarity must be a fraction .* not the text 'high'"),
        ({"similarity": True}, r"report.similarity must be a fraction .* not the boolean true"),
        ({"threshold": 0.8}, r"unknown key report.threshold; \[report\] allows similarity"),
    ],
)
def test_report_table_is_checked(table, message):
    """Does each mistake in [report] name the file, the key and what is allowed?"""
    path = Path("/course/autograder/graders/x/assignment.toml")
    with pytest.raises(AssignmentError, match=message) as e:
        validate_declaration({"report": table}, path)
    assert str(e.value).startswith(f"{path}: ")


def test_report_must_be_a_table():
    with pytest.raises(AssignmentError, match=r"report must be a table \[report\]"):
        validate_declaration({"report": 0.8}, Path("assignment.toml"))


def test_a_report_table_is_accepted_and_read(tmp_path, monkeypatch):
    validate_declaration({"report": {"similarity": 1}}, Path("assignment.toml"))
    declared = validate_declaration({"report": {"similarity": 0.6}}, Path("assignment.toml"))
    monkeypatch.setattr(Assignment, "declared", lambda self: declared)
    assert A.report() == {"similarity": 0.6}


def test_report_table_does_not_force_re_grading(tmp_path):
    """Is assignment.toml with a [report] table the same to the fingerprint as without it?"""
    toml = A.declaration.read_text()
    plain, with_report = tmp_path / "a" / "assignment.toml", tmp_path / "b" / "assignment.toml"
    for path, text in ((plain, toml), (with_report, toml + "\n[report]\nsimilarity = 0.6  # stricter\n")):
        path.parent.mkdir()
        path.write_text(text)
    assert fingerprint.decisive_bytes(plain) == fingerprint.decisive_bytes(with_report)
    changed = tmp_path / "c" / "assignment.toml"
    changed.parent.mkdir()
    changed.write_text(toml.replace("call_timeout = 5", "call_timeout = 6"))
    assert fingerprint.decisive_bytes(changed) != fingerprint.decisive_bytes(plain)  # (the comparison can fail)
