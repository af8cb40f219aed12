"""Does a hostile submission gain nothing, stop nothing, and get a clear reason?"""

from __future__ import annotations

import time

import pytest

from tests.sandbox.test_sandbox import host_processes_with

from .conftest import ASSIGNMENT
from .hostile import ATTACKS, TOKEN


def feedback_text(graded_result: dict, function: str | None) -> str:
    if function is None:
        return " ".join(graded_result["errors"])
    return " ".join(t["message"] for t in graded_result["functions"][function]["tests"])


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_gains_nothing_and_is_explained(graded, attack):
    """Does each attack score no more than honest code would, with a clear reason?"""
    r = graded[f"attack-{attack.name}"]
    perfect = graded["perfect"]
    if attack.function:
        assert r["functions"][attack.function]["score"] == 0
        assert r["score"] <= perfect["score"] - perfect["functions"][attack.function]["max_score"]
    if attack.spares_others:
        lost = {
            f: v["score"] for f, v in r["functions"].items() if f != attack.function and v["score"] < v["max_score"]
        }
        assert lost == {}, f"{attack.name} stopped grading of other functions: {lost}"
    assert attack.reason in feedback_text(r, attack.function), feedback_text(r, attack.function)


def test_no_process_outlives_grading(graded):
    """Are the attacks' long-lived children gone once grading ends?"""
    deadline = time.monotonic() + 5
    while host_processes_with(TOKEN) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(TOKEN) == []


def test_nothing_reached_the_hosts_loopback(graded, listener):
    """Did any submission manage to connect to a server on the host's 127.0.0.1?"""
    assert listener.connections == 0


def test_hidden_grader_source_never_reaches_feedback(graded, feedback_dir):
    """Even when a submission tries to smuggle a grader file out through an error message."""
    grader = (ASSIGNMENT.graders_dir / "test_distribute_value.py").read_text()
    distinctive = [line.strip() for line in grader.splitlines() if len(line.strip()) > 30]
    r = graded["attack-reads_hidden_tests"]
    text = (
        str(r) + (feedback_dir / "attack-reads_hidden_tests" / ASSIGNMENT.name / f"{ASSIGNMENT.name}.html").read_text()
    )
    assert distinctive and not [line for line in distinctive if line in text]


def test_sleeping_under_every_time_out_costs_at_most_the_budget(graded):
    """Does a submission that sleeps just under each time-out add at most its budget?"""
    r = graded["attack-sleeps_just_under_every_time_out"]
    budget = ASSIGNMENT.limits().budget_seconds
    # the worst case stated in docs/sandbox.md: the budget, plus the grader's fixed costs
    assert r["student_seconds"] <= budget + 1.0, r["student_seconds"]
    assert r["seconds"] <= budget + 15, r["seconds"]
    messages = [t["message"] for f in r["functions"].values() for t in f["tests"]]
    assert sum("time budget" in m for m in messages) > len(messages) / 2, messages


def test_a_worker_that_stops_reading_does_not_hold_the_grader(graded):
    """Is a worker that never reads the grader's reply stopped at the call's deadline?"""
    r = graded["attack-stops_reading_the_graders_replies"]
    assert r["seconds"] < 60, r["seconds"]  # before: held until the 900 s grading time-out
