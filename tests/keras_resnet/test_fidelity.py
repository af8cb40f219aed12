"""Are the keras_resnet graders right? Reference full, stubs zero, mutants caught."""

from __future__ import annotations

import pytest

from .conftest import ASSIGNMENT, DEPENDENTS
from .variants import CORRECT, MUTANTS

FUNCTIONS = ASSIGNMENT.graded_ids()


def test_reference_earns_full_marks(graded):
    """Does the source notebook's own solution earn every point, with no errors?"""
    r = graded["perfect"]
    lost = {
        f: [t["message"] for t in v["tests"] if not t["passed"]]
        for f, v in r["functions"].items()
        if v["score"] < v["max_score"]
    }
    assert r["score"] == r["max_score"] == 100, lost
    assert r["errors"] == []


def test_untouched_release_earns_zero_with_not_implemented_messages(graded):
    """Does the release score 0, every test saying 'not implemented' (no crash)?"""
    r = graded["release"]
    assert r["score"] == 0 and r["max_score"] == 100, {f: v["score"] for f, v in r["functions"].items()}
    messages = [t["message"] for f in r["functions"].values() for t in f["tests"]]
    assert messages and all("not implemented yet" in m for m in messages), set(messages)


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
    assert len(MUTANTS) >= 15 and len(CORRECT) >= 3
    assert {m.function for m in MUTANTS} == set(FUNCTIONS)
    assert len({m.name for m in MUTANTS + CORRECT}) == len(MUTANTS) + len(CORRECT)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_on_its_own_part_only(graded, mutant):
    """Does each realistic bug cost points where it lives, and not in the parts built on it?"""
    r = graded[f"mutant-{mutant.name}"]
    own = r["functions"][mutant.function]
    assert own["score"] < own["max_score"], f"{mutant.name} ({mutant.why}) was not caught"
    graded_parts = {f for f, v in r["functions"].items() if v["max_score"] > 0}
    assert graded_parts == {mutant.function, *DEPENDENTS.get(mutant.function, [])}
    others = {f: v["score"] for f, v in r["functions"].items() if f != mutant.function and v["score"] < v["max_score"]}
    assert others == {}, f"{mutant.name} also cost points in {others}"
    failed = [t["message"] for t in own["tests"] if not t["passed"]]
    assert all(m and "grader could not check" not in m for m in failed), failed


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_differently_written_correct_answer_earns_full_marks(graded, variant):
    """Is a correct answer written another way (helpers, other layer names, other order...) accepted?"""
    r = graded[f"correct-{variant.name}"]
    lost = {
        f: [t["message"] for t in v["tests"] if not t["passed"]]
        for f, v in r["functions"].items()
        if v["score"] < v["max_score"]
    }
    assert lost == {} and r["errors"] == [], lost
