"""What a class run was asked to do (``Options``), and the error that stops a whole run (``BatchError``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader.spec import GradingSpec
from autograder.outputs.late import LatePolicy
from autograder.outputs.manual import ManualGrades
from autograder.run import times


class BatchError(Exception):
    """A problem with the whole run (missing folder, unknown assignment)."""


@dataclass
class Options:
    """The choices of one class run (the command line's, or a script's): parallelism, limits, times, late work."""

    workers: int | str = 1  # or "auto": min(cores, memory / sandbox limit), see pools.auto_workers
    # how every submission is graded: limits, isolation, tolerances, stand-ins (grader/spec.py), made once
    # from assignment.toml and the command line (cli.grading_spec); None: the declaration's, the best
    # sandbox available (made once, by class_run.grade_class). In the fingerprint
    spec: GradingSpec | None = None
    force: bool = False
    warm: bool = True  # fork grader processes from a warm grader (False: start each one cold)
    # grade on Dask (distributed.py): a scheduler's address (tls://HOST:8786), or "local:N" for a
    # LocalCluster of N worker processes; None: this machine's threads (``workers``). Not in the fingerprint
    dask: str | None = None
    # a tls:// scheduler's credentials (dask_security.client_security): the course's CA, this client's
    # certificate and key; None: Dask's config. insecure_scheduler: allow a tcp:// one (anyone reaching it runs code)
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure_scheduler: bool = False
    # the late policy and its due date (pipeline.grade); applied to finished results, never in the fingerprint
    late: LatePolicy | None = None
    # the manually graded cells and their scores from the gradebook (pipeline.grade); added to
    # finished results before the late policy, never in the fingerprint
    manual: ManualGrades | None = None
    # where submission times come from (times.py: --submission-times, --trust-student-timestamps,
    # --released); never in the fingerprint
    times: times.Sources = field(default_factory=times.Sources)
