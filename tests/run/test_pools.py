"""Where submissions are graded (run/pools.py): how many at once, and which pool."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run import pools
from autograder.run.options import Options
from autograder.run.pools import LocalPool, auto_workers, available_memory, grading_pool

GiB = 2**30
A = Assignment("cnn_step_by_step")


@pytest.mark.parametrize(
    "cores, memory, limit, expected",
    [
        (2, 24 * GiB, 2 * GiB, 2),  # this machine: the cores decide
        (64, 24 * GiB, 2 * GiB, 12),  # a big machine: the memory decides
        (8, 3 * GiB, 4 * GiB, 1),  # less memory than one sandbox may use: still one
        (4, 0, 2 * GiB, 4),  # memory unknown: the cores
        (4, 9 * GiB, 0, 4),  # no limit given: the cores
    ],
)
def test_auto_takes_the_smaller_of_cores_and_sandboxes_that_fit(cores, memory, limit, expected):
    """Is auto min(cores, available memory / sandbox limit), at least 1, with the reason?"""
    workers, why = auto_workers(limit, cores=cores, memory=memory)
    assert workers == expected and f"{cores} cores" in why
    if memory and limit:
        assert f"{limit / GiB:g} GiB per sandbox" in why and f"{memory / GiB:.1f} GiB available" in why


def test_auto_on_this_machine_is_at_least_one_and_at_most_its_cores():
    """Does auto read this machine's cores and memory?"""
    workers, why = auto_workers(2 * GiB)
    assert 1 <= workers <= len(os.sched_getaffinity(0)) and "GiB available" in why
    assert available_memory() > 0  # (/proc/meminfo's MemAvailable)


def test_a_local_pool_grades_each_submission_in_its_threads_with_the_runs_spec(monkeypatch):
    """Does LocalPool grade every submission on its own threads, handing grade_notebook the run's spec as is?"""
    spec = GradingSpec.of(A, "process")
    calls: list[tuple] = []

    def grade_notebook(assignment, notebook, student, warm=None, spec=None):
        calls.append((assignment.name, notebook, student, warm, spec, threading.current_thread().name))
        return {"student": student}

    monkeypatch.setattr(pools, "grade_notebook", grade_notebook)
    with LocalPool(A, 2, warm=False, spec=spec) as pool:
        futures = {pool.submit(s, Path(f"/private/{s}.ipynb")): s for s in ("ada", "ben", "cy")}
        done = {futures[f]: f.result() for f in pool.as_completed(futures)}
    assert done == {s: {"student": s} for s in ("ada", "ben", "cy")}
    assert sorted((c[2], c[1], c[3]) for c in calls) == [(s, Path(f"/private/{s}.ipynb"), None) for s in
                                                         ("ada", "ben", "cy")]  # fmt: skip
    assert all(c[4] is spec for c in calls)  # the very object: never rebuilt on the way
    assert all(c[5] != threading.current_thread().name for c in calls)


def test_the_pool_is_local_unless_dask_is_asked_for(monkeypatch):
    """Does ``--workers auto`` become a number from the spec's memory limit, and ``--dask-local`` a DaskPool
    (that connects to nothing until the first submission)?"""
    spec = GradingSpec.of(A, "process")
    seen = []
    monkeypatch.setattr(pools, "auto_workers", lambda limit: (seen.append(limit), (3, "why"))[1])
    pool = grading_pool(A, Options(workers="auto", warm=False), spec)
    with pool:
        assert isinstance(pool, LocalPool) and pool.threads._max_workers == 3
    assert seen == [spec.limits.memory_bytes]
    from autograder.run.distributed import DaskPool

    pool = grading_pool(A, Options(dask="local:2"), spec)
    with pool:
        assert isinstance(pool, DaskPool) and pool.client is None and pool.course.spec is spec
