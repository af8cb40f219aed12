"""Where submissions are graded: this machine's threads (``LocalPool``, as many as ``auto_workers`` says
fit) or a Dask cluster (``distributed.DaskPool``), behind one interface.

A pool has ``submit(student, notebook)`` (a concurrent.futures.Future of the results dict)
and ``as_completed(futures)``, and is a context manager; ``class_run.grade_class`` takes either.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import grade_notebook
from autograder.run.options import Options


class Pool(Protocol):
    """What ``class_run.grade_class`` needs of a pool."""

    def submit(self, student: str, notebook: Path) -> cf.Future: ...

    def as_completed(self, futures: Iterable[cf.Future]) -> Iterator[cf.Future]: ...

    def __enter__(self) -> Pool: ...

    def __exit__(self, *exc: object) -> None: ...


def available_memory() -> int:
    """Bytes of memory available now (/proc/meminfo's MemAvailable), or 0 if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def auto_workers(memory_per_sandbox: int, cores: int | None = None, memory: int | None = None) -> tuple[int, str]:
    """``--workers auto``: one submission per core, as many as memory holds sandboxes; and why.

    A grading keeps about one core busy (TensorFlow is pinned to one thread per pool), and
    each sandbox may use up to its memory limit, so: min(cores, available memory / limit),
    at least 1.
    """
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    memory = memory if memory is not None else available_memory()
    by_memory = memory // memory_per_sandbox if memory and memory_per_sandbox else cores
    workers = max(1, min(cores, by_memory))
    reason = f"{cores} cores"
    if memory and memory_per_sandbox:
        reason += f", {memory / 2**30:.1f} GiB available / {memory_per_sandbox / 2**30:g} GiB per sandbox"
    return workers, reason


class LocalPool:
    """Grades in this process's threads, one submission per thread, each with its warm grader.

    A ``Pool``; distributed.DaskPool is the other one.
    """

    def __init__(self, assignment: Assignment, workers: int, warm: bool, spec: GradingSpec):
        self.assignment, self.warm, self.spec = assignment, warm, spec
        # One warm grader per worker thread (grader_server.py): pytest, NumPy and the
        # assignment's heavy modules are imported once, each submission's grader is a fork.
        self.graders = WarmGraders(assignment.grader_preload())
        self.threads = cf.ThreadPoolExecutor(max_workers=max(1, workers))

    def work(self, student: str, notebook: Path) -> dict:
        warm = self.graders.for_this_thread() if self.warm else None
        return grade_notebook(self.assignment, notebook, student, warm=warm, spec=self.spec)

    def submit(self, student: str, notebook: Path) -> cf.Future:
        return self.threads.submit(self.work, student, notebook)

    as_completed = staticmethod(cf.as_completed)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        with self.graders:
            self.threads.shutdown()


def grading_pool(assignment: Assignment, options: Options, spec: GradingSpec) -> Pool:
    """Where the submissions are graded, each by ``spec``: a distributed.DaskPool (``options.dask``) or a LocalPool."""
    if options.dask:
        from autograder.run.distributed import DaskPool  # imports dask only when asked for

        return DaskPool(options.dask, assignment, options, spec)
    workers = options.workers
    if workers == "auto":
        workers = auto_workers(spec.limits.memory_bytes)[0]
    return LocalPool(assignment, int(workers), options.warm, spec)
