"""Are the conv_net graders right? Reference full, stubs zero, mutants caught, variants accepted."""

from __future__ import annotations

import pytest

from tests.support import assert_catalogue, assert_mutant_caught, assert_release_earns_zero, lost_points

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
    assert_release_earns_zero(graded["release"])


def test_points_match_the_notebook_and_the_brief(graded):
    """Do the graders' points per answer equal the notebook's test-cell points (20/20/15/15/30)?"""
    r = graded["perfect"]
    assert list(r["functions"]) == FUNCTIONS == list(POINTS)
    assert {f: v["max_score"] for f, v in r["functions"].items()} == ASSIGNMENT.points() == POINTS
    for f, v in r["functions"].items():
        assert len(v["tests"]) >= 5, f"{f} has too few tests for partial credit"


def test_catalogue_is_big_enough():
    """At least 22 mutants over every answer, and 5 correct variants."""
    assert_catalogue(MUTANTS, CORRECT, FUNCTIONS, min_mutants=22, min_correct=5)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_on_its_own_function_only(graded, mutant):
    """Does each realistic bug cost points where it lives, and nowhere else?"""
    r = graded[f"mutant-{mutant.name}"]
    assert_mutant_caught(r, mutant)
    assert r["errors"] == [], f"{mutant.name} should be a wrong answer, not a broken notebook: {r['errors']}"


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_differently_written_correct_answer_earns_full_marks(graded, variant):
    """Is a correct answer written another way (vectorised, other loop order...) accepted?"""
    r = graded[f"correct-{variant.name}"]
    lost = lost_points(r)
    assert lost == {} and r["errors"] == [], lost


def test_grading_one_submission_takes_seconds(graded):
    """Does grading the reference stay well under a minute on two cores (with two in parallel)?"""
    assert graded["perfect"]["seconds"] < 60, graded["perfect"]["seconds"]
