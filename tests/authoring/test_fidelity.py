"""Are every assignment's graders right? One suite, fed by each assignment's catalogue.

For every assignment in the course: the reference earns full marks, the untouched
release zero (every test saying "not implemented"), printing and warning cost nothing,
the points agree everywhere they are written, every mutant loses points on the
function where its bug lives and nowhere else, every differently written correct
answer earns full marks, and every attack gains nothing and is explained. A new
assignment gets all of this by writing its catalogue (see docs/authoring.md).

Each catalogue is graded once per session (``graded_class``, tests/fidelity.py), and every
test here reads that grading. What they assert holds on a busy machine as on an idle one:
an attack on time may be explained by any honest explanation of running out of time.
"""

from __future__ import annotations

import time

import pytest

from autograder.authoring.catalogue import SURVIVOR_TOKEN, load
from autograder.course.assignments import Assignment, available
from tests.fidelity import explanations
from tests.sandbox.test_sandbox import host_processes_with
from tests.support import REPO

NAMES = available(REPO)
CATALOGUES = {name: load(Assignment(name, root=REPO)) for name in NAMES}
MUTANTS = [(n, m) for n in NAMES for m in CATALOGUES[n].mutants]
CORRECT = [(n, v) for n in NAMES for v in CATALOGUES[n].correct]
ATTACKS = [(n, a) for n in NAMES for a in CATALOGUES[n].attacks]


def case_id(case: tuple) -> str:
    return f"{case[0]}-{case[1].name}"


@pytest.mark.parametrize("name", NAMES)
def test_reference_earns_full_marks(graded_class, name):
    """Does the source notebook's own solution earn every point, with no errors?"""
    r = graded_class(name).results["perfect"]
    assert r.score == r.max_score == sum(Assignment(name, root=REPO).points().values()), r.lost_points()
    assert r.errors == ()


@pytest.mark.parametrize("name", NAMES)
def test_untouched_release_earns_zero_with_not_implemented_messages(graded_class, name):
    """Does the release score 0 of the full maximum, every test saying 'not implemented' (no crash)?"""
    r = graded_class(name).results["release"]
    assert r.score == 0 and r.max_score == graded_class(name).results["perfect"].max_score
    messages = [t.message for f in r.functions.values() for t in f.tests]
    assert messages and all("not implemented yet" in m for m in messages), set(messages)


@pytest.mark.parametrize("name", NAMES)
def test_printing_and_warnings_cost_nothing(graded_class, name):
    """Does a correct student who prints, writes to stderr and warns on every call lose nothing?"""
    r = graded_class(name).results["noisy"]
    assert r.lost_points() == {} and r.errors == ()


@pytest.mark.parametrize("name", NAMES)
def test_points_are_declared_once_and_agree_everywhere(graded_class, name):
    """Do assignment.toml, nbgrader's metadata, the points table and the graders agree on every function?"""
    assignment = Assignment(name, root=REPO)
    declared = assignment.check_points()  # toml, metadata and table; raises on a disagreement
    r = graded_class(name).results["perfect"]
    assert list(r.functions) == assignment.graded_ids() == list(declared)
    assert {f: v.max_score for f, v in r.functions.items()} == declared
    for f, v in r.functions.items():
        assert len(v.tests) >= assignment.fidelity()["min_tests"], f"{f} has too few tests for partial credit"


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_is_big_enough(name):
    """Enough mutants and correct variants for [fidelity], mutants on every function, names unique."""
    catalogue, fidelity = CATALOGUES[name], Assignment(name, root=REPO).fidelity()
    assert len(catalogue.mutants) >= fidelity["min_mutants"] and len(catalogue.correct) >= fidelity["min_correct"]
    assert {m.function for m in catalogue.mutants} == set(Assignment(name, root=REPO).graded_ids())
    names = [v.name for v in catalogue.mutants + catalogue.correct] + [a.name for a in catalogue.attacks]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", MUTANTS, ids=case_id)
def test_mutant_loses_points_on_its_own_function_only(graded_class, case):
    """Does each realistic bug cost points where it lives, with real messages, and nowhere else?"""
    name, mutant = case
    r = graded_class(name).results[f"mutant-{mutant.name}"]
    own = r.functions[mutant.function]
    assert own.lost, f"{mutant.name} ({mutant.why}) was not caught"
    others = {f: v.score for f, v in r.functions.items() if f != mutant.function and v.lost}
    assert others == {}, f"{mutant.name} also cost points in {others}"
    failed = [t.message for t in own.tests if not t.passed]
    assert all(m and "grader could not check" not in m for m in failed), failed
    assert r.errors == (), f"{mutant.name} should be a wrong answer, not a broken notebook: {r.errors}"


@pytest.mark.parametrize("case", CORRECT, ids=case_id)
def test_differently_written_correct_answer_earns_full_marks(graded_class, case):
    """Is a correct answer written another way (vectorised, other loop order, helpers...) accepted?"""
    name, variant = case
    r = graded_class(name).results[f"correct-{variant.name}"]
    assert r.lost_points() == {} and r.errors == (), r.lost_points()


@pytest.mark.parametrize("case", ATTACKS, ids=case_id)
def test_attack_gains_nothing_and_is_explained(graded_class, case):
    """Does each attack score no more than honest code would, stop nothing else, and say why?"""
    name, attack = case
    graded = graded_class(name)
    r, perfect = graded.results[f"attack-{attack.name}"], graded.results["perfect"]
    if attack.function:
        assert r.functions[attack.function].score == 0
        assert r.score <= perfect.score - perfect.functions[attack.function].max_score
        text = " ".join(t.message for t in r.functions[attack.function].tests)
    else:
        text = " ".join(r.errors)
    if attack.spares_others:
        lost = {f: v.score for f, v in r.functions.items() if f != attack.function and v.lost}
        assert lost == {}, f"{attack.name} stopped grading of other functions: {lost}"
    assert any(reason in text for reason in explanations(attack)), text


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUES[n].attacks])
def test_no_attack_outlives_grading_or_reaches_the_host(graded_class, listener, name):
    """Are the attacks' children gone once grading ends, and did nothing reach the host's loopback?"""
    graded_class(name)
    deadline = time.monotonic() + 30  # (a busy machine reaps them later)
    while host_processes_with(SURVIVOR_TOKEN) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(SURVIVOR_TOKEN) == []
    assert listener.connections == 0
