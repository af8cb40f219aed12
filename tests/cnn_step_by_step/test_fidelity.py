"""Are the cnn_step_by_step graders right? Reference full, stubs zero, mutants caught."""

from __future__ import annotations

import pytest

from tests.support import assert_catalogue, assert_mutant_caught, assert_release_earns_zero, lost_points

from .conftest import ASSIGNMENT
from .variants import CORRECT, MUTANTS

FUNCTIONS = ASSIGNMENT.graded_ids()


def test_reference_earns_full_marks(graded):
    """Does the source notebook's own solution earn every point, with no errors?"""
    r = graded["perfect"]
    assert r["score"] == r["max_score"] == 100, {f: v["score"] for f, v in r["functions"].items()}
    assert r["errors"] == []


def test_untouched_release_earns_zero_with_not_implemented_messages(graded):
    """Does the release score 0, every test saying 'not implemented' (no crash)?"""
    assert_release_earns_zero(graded["release"])


def test_warnings_and_printing_cost_nothing(graded):
    """A correct student who prints, writes to stderr and warns on every call loses nothing."""
    r = graded["noisy"]
    assert r["score"] == 100 and r["errors"] == []


def test_points_match_the_notebook_and_every_function_is_graded(graded):
    """Do the graders' points per function equal the notebook's test-cell points?"""
    r = graded["perfect"]
    assert list(r["functions"]) == FUNCTIONS
    assert {f: v["max_score"] for f, v in r["functions"].items()} == ASSIGNMENT.points()
    for f, v in r["functions"].items():
        assert len(v["tests"]) >= 3, f"{f} has too few tests for partial credit"


def test_catalogue_is_big_enough():
    """At least 25 mutants and 5 correct variants, over every graded function."""
    assert_catalogue(MUTANTS, CORRECT, FUNCTIONS, min_mutants=25, min_correct=5)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_on_its_own_function_only(graded, mutant):
    """Does each realistic bug cost points where it lives, and nowhere else?"""
    r = graded[f"mutant-{mutant.name}"]
    assert_mutant_caught(r, mutant)


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_differently_written_correct_answer_earns_full_marks(graded, variant):
    """Is a correct answer written another way (vectorised, other loop order...) accepted?"""
    r = graded[f"correct-{variant.name}"]
    lost = lost_points(r)
    assert lost == {} and r["errors"] == [], lost
