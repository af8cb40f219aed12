"""The sandbox against cnn_step_by_step's attacks, beyond what the fidelity suite asks of every attack.

The attacks are in its catalogue (autograder/graders/cnn_step_by_step/catalogue.py) and
are graded once with it (tests/fidelity.py); tests/authoring/test_fidelity.py checks that each
gains nothing and is explained. These check what particular attacks were after.
"""

from __future__ import annotations

from tests.fidelity import TIME_EXPLANATIONS, grader_file

NAME = "cnn_step_by_step"


def test_hidden_grader_source_never_reaches_feedback(graded_class):
    """Even when a submission tries to smuggle a grader file out through an error message."""
    graded = graded_class(NAME)
    grader = grader_file(graded.assignment).read_text()
    distinctive = [line.strip() for line in grader.splitlines() if len(line.strip()) > 30]
    r = graded.results["attack-reads_hidden_tests"]
    text = str(r) + (graded.feedback / "attack-reads_hidden_tests" / NAME / f"{NAME}.html").read_text()
    assert distinctive and not [line for line in distinctive if line in text]


def test_sleeping_under_every_time_out_costs_at_most_the_budget(graded_class):
    """Does a submission that sleeps just under each time-out add at most its budget?"""
    graded = graded_class(NAME)
    r = graded.results["attack-sleeps_just_under_every_time_out"]
    limits = graded.assignment.limits()
    # each wait is cut to what is left of the budget, so it is overrun only by stopping the last
    # call (well under a call's time-out, however busy the machine). The whole grading's wall time
    # adds the grader's own costs, which grow with the load: bench/worst_case.py measures those.
    assert r.extra["student_seconds"] <= limits.budget_seconds + limits.call_timeout, r.extra["student_seconds"]
    messages = [t.message for f in r.functions.values() for t in f.tests]
    # (whether a call ends at the budget or at its own time-out depends on the machine's load)
    assert sum(any(e in m for e in TIME_EXPLANATIONS) for m in messages) > len(messages) / 2, messages


def test_a_worker_that_stops_reading_does_not_hold_the_grader(graded_class):
    """Is a worker that never reads the grader's reply stopped at the call's deadline?"""
    graded = graded_class(NAME)
    r = graded.results["attack-stops_reading_the_graders_replies"]
    # before: held until the 900 s grading time-out, which leaves no result at all (the batch reports it failed)
    messages = [t.message for t in r.functions["pool_backward"].tests]
    assert any(e in m for m in messages for e in TIME_EXPLANATIONS), messages
    limits = graded.assignment.limits()
    assert r.extra["student_seconds"] <= limits.budget_seconds + limits.call_timeout, r.extra["student_seconds"]
