"""Are the conv_net graders right? Reference full, stubs zero, mutants caught, variants accepted."""

from __future__ import annotations

import pytest

from .conftest import ASSIGNMENT
from .variants import CORRECT, MUTANTS

FUNCTIONS = ASSIGNMENT.graded_ids()
POINTS = {
    "conv_forward_naive": 20,
    "conv_backward_naive": 20,
    "max_pool_forward_naive": 15,
    "max_pool_backward_naive": 15,
    "ThreeLayerConvNet": 30,
}


def test_reference_earns_full_marks(graded):
    """Does the source notebook's own solution earn every point, with no errors?"""
    r = graded["perfect"]
    assert r["score"] == r["max_score"] == 100, {f: v["score"] for f, v in r["functions"].items()}
    assert r["errors"] == []


def test_untouched_release_earns_zero_with_not_implemented_messages(graded):
    """Does the release score 0, every test saying 'not implemented' (no crash)?"""
    r = graded["release"]
    assert r["score"] == 0 and r["max_score"] == 100
    messages = [t["message"] for f in r["functions"].values() for t in f["tests"]]
    assert messages and all("not implemented yet" in m for m in messages), set(messages)


def test_points_match_the_notebook_and_the_brief(graded):
    """Do the graders' points per answer equal the notebook's test-cell points (20/20/15/15/30)?"""
    r = graded["perfect"]
    assert list(r["functions"]) == FUNCTIONS == list(POINTS)
    assert {f: v["max_score"] for f, v in r["functions"].items()} == ASSIGNMENT.points() == POINTS
    for f, v in r["functions"].items():
        assert len(v["tests"]) >= 5, f"{f} has too few tests for partial credit"


def test_catalogue_is_big_enough():
    """At least 22 mutants over every answer, and 5 correct variants."""
    assert len(MUTANTS) >= 22 and len(CORRECT) >= 5
    assert {m.function for m in MUTANTS} == set(FUNCTIONS)
    assert len({m.name for m in MUTANTS + CORRECT}) == len(MUTANTS) + len(CORRECT)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_on_its_own_function_only(graded, mutant):
    """Does each realistic bug cost points where it lives, and nowhere else?"""
    r = graded[f"mutant-{mutant.name}"]
    own = r["functions"][mutant.function]
    assert own["score"] < own["max_score"], f"{mutant.name} ({mutant.why}) was not caught"
    others = {f: v["score"] for f, v in r["functions"].items() if f != mutant.function and v["score"] < v["max_score"]}
    assert others == {}, f"{mutant.name} also cost points in {others}"
    failed = [t["message"] for t in own["tests"] if not t["passed"]]
    assert all(m and "grader could not check" not in m for m in failed), failed
    assert r["errors"] == [], f"{mutant.name} should be a wrong answer, not a broken notebook: {r['errors']}"


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_differently_written_correct_answer_earns_full_marks(graded, variant):
    """Is a correct answer written another way (vectorised, other loop order...) accepted?"""
    r = graded[f"correct-{variant.name}"]
    lost = {
        f: [t["message"] for t in v["tests"] if not t["passed"]]
        for f, v in r["functions"].items()
        if v["score"] < v["max_score"]
    }
    assert lost == {} and r["errors"] == [], lost


def test_grading_one_submission_takes_seconds(graded):
    """Does grading the reference stay well under a minute on two cores (with two in parallel)?"""
    assert graded["perfect"]["seconds"] < 60, graded["perfect"]["seconds"]
