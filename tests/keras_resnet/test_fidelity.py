"""Are the keras_resnet graders right? Reference full, stubs zero, mutants caught."""

from __future__ import annotations

import pytest

from tests.support import assert_catalogue, assert_mutant_caught, assert_release_earns_zero, lost_points

from .conftest import ASSIGNMENT, DEPENDENTS
from .variants import CORRECT, MUTANTS

FUNCTIONS = ASSIGNMENT.graded_ids()


def test_reference_earns_full_marks(graded):
    """Does the source notebook's own solution earn every point, with no errors?"""
    r = graded["perfect"]
    lost = lost_points(r)
    assert r["score"] == r["max_score"] == 100, lost
    assert r["errors"] == []


def test_untouched_release_earns_zero_with_not_implemented_messages(graded):
    """Does the release score 0, every test saying 'not implemented' (no crash)?"""
    assert_release_earns_zero(graded["release"])


def test_points_match_the_notebook_and_every_part_is_graded(graded):
    """Do the graders' points per part equal the notebook's test-cell points?"""
    r = graded["perfect"]
    assert list(r["functions"]) == FUNCTIONS
    assert {f: v["max_score"] for f, v in r["functions"].items()} == ASSIGNMENT.points()
    assert sum(ASSIGNMENT.points().values()) == 100
    for f, v in r["functions"].items():
        assert len(v["tests"]) >= 5, f"{f} has too few tests for partial credit"


def test_catalogue_is_big_enough():
    """At least 15 mutants over every graded part, and 3 correct variants."""
    assert_catalogue(MUTANTS, CORRECT, FUNCTIONS, min_mutants=15, min_correct=3)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_on_its_own_part_only(graded, mutant):
    """Does each realistic bug cost points where it lives, and not in the parts built on it?"""
    r = graded[f"mutant-{mutant.name}"]
    assert_mutant_caught(r, mutant)
    graded_parts = {f for f, v in r["functions"].items() if v["max_score"] > 0}
    assert graded_parts == {mutant.function, *DEPENDENTS.get(mutant.function, [])}


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_differently_written_correct_answer_earns_full_marks(graded, variant):
    """Is a correct answer written another way (helpers, other layer names, other order...) accepted?"""
    r = graded[f"correct-{variant.name}"]
    lost = lost_points(r)
    assert lost == {} and r["errors"] == [], lost
