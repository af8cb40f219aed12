"""Grade on a dask.distributed cluster: ``autograder grade ... --scheduler tls://HOST:8786`` or ``--dask-local N``.

Who does what:

    client (this process)                          each Dask worker process
    ---------------------                          ------------------------
    intake, fingerprints, resume (batch.py)
    check every worker's course (client.run)  ->   recompute the course digest from its own files
    one task per submission to grade:              check the digest again (a worker that joined late)
      the notebook's bytes, the course path,  ->   write the bytes to its own temp file, grade it with
      the expected digest, the plugin options      its warm grader (kept per process), return results
    save results.json, gradebook, CSV, JSON,  <-   the results dict (or the GradingError's two messages)
    feedback: as for a local run

Only ``grading.grade_notebook`` runs on the workers, so the one gradebook writer, the
saved results and resuming are exactly those of a local run: batch.grade_class takes a
pool (``LocalPool`` there, ``DaskPool`` here) with ``submit(student, notebook)`` and
``as_completed(futures)``, and records each student once, when that student's future
completes.

Decisions:

- **Course files: the same path on every worker** (a shared file system, or the same
  checkout and venv at the same path on each machine). Nothing is shipped but the
  notebook: the intake's private copy lives only on the client. Each task carries the
  client's ``batch.shared_digest`` (everything that decides a grade but the notebook:
  graders, grading package, reference, release, requirements, limits, Python) and a
  per-file manifest of it; the worker recomputes both from its own files and refuses a
  mismatch, naming the files that differ. The run checks all workers before grading
  (``check_workers``: a BatchError, nothing graded) and every task checks again, so a
  worker that joins later with another copy stops the run too (the students graded by
  then are saved; the next run resumes).
- **Isolation** is decided on the client (``--isolation``, probed once) and is part of
  the fingerprint; each worker process checks once that it can provide that mode.
- **Worker faults.** A task only reads its arguments and the worker's course and writes
  a temp folder it removes, so running it again is safe. A worker that dies mid-task
  has its tasks rescheduled by the scheduler (``distributed.scheduler.allowed-failures``,
  ``ALLOWED_FAILURES`` for ``--dask-local``); a task whose workers died that many times
  ends as that student's 0 (KilledWorker, not saved). Exceptions are not retried (a
  course mismatch or a bug would only repeat). A submission that brings its grader
  process down is a GradingError, returned as data (it does not pickle), raised again on
  the client: the student's 0 with a message, as locally; the Dask worker lives on.
- **Who can connect**: only holders of the run's (``--dask-local``) or the course's TLS
  credentials, both ways; no HTTP endpoint on the local cluster (dask_security.py).
- **Warm graders per worker process**, keyed by course, assignment and preload modules,
  started on first use and closed when the process exits (their servers also stop when
  the worker's pipe closes, e.g. when the nanny restarts a killed worker).
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import hashlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from autograder.course.assignments import Assignment, AssignmentError
from autograder.run import batch
from autograder.run.dask_security import client_security, local_cluster
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import GradingError, grade_notebook

ALLOWED_FAILURES = 3  # worker deaths a task survives on --dask-local (dask's default for a scheduler)
WAIT_FOR_WORKERS = 60  # seconds for the first worker to join an external scheduler
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
QUIET_LOGS = "DASK_LOGGING__DISTRIBUTED"  # dask's config from the environment: the distributed logger's level
SAME_COURSE = "put the same course on every worker (same commit, same venv); see docs/distributed.md"


class CourseMismatch(Exception):
    """A worker's course differs from the client's; the run stops (batch.BatchError on the client)."""


def manifest(assignment: Assignment) -> dict[str, str]:
    """What ``batch.shared_digest`` hashes, file by file: "label/relative path" -> sha256, and the Python."""
    files = {"python": sys.version}
    for label, (folder, paths) in batch.shared_inputs(assignment).items():
        for path in paths:
            files[f"{label}/{path.relative_to(folder).as_posix()}"] = hashlib.sha256(
                batch._decisive_bytes(path)
            ).hexdigest()
    return files


@dataclass(frozen=True)
class Course:
    """The client's view of the course, sent with every task: where it is and what it hashes to."""

    root: str
    name: str
    options: batch.Options  # the run's options (their limits are in the digest)
    digest: str  # batch.shared_digest(assignment, options)
    files: dict[str, str]  # manifest(assignment)

    @classmethod
    def of(cls, assignment: Assignment, options: batch.Options) -> Course:
        options = replace(options, late=None)  # the late policy is applied on the client, after grading
        digest = batch.shared_digest(assignment, options)
        return cls(str(assignment.root), assignment.name, options, digest, manifest(assignment))


def _differences(mine: dict[str, str], theirs: dict[str, str]) -> str:
    if mine.get("python") != theirs.get("python"):
        here, client = (str(m.get("python", "?")).split()[0] for m in (mine, theirs))
        return f"Python differs ({here} here, {client} on the client)"
    names = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    if not names:
        return "the digest differs (the same files: another version of the grading package?)"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{shown} differ"


def course_problem(course: Course, worker: str) -> str | None:
    """Why this process's copy of the course differs from ``course`` (the client's), or None."""
    where = f"worker {worker} has a different copy of the course at {course.root}"
    try:
        assignment = Assignment(course.name, root=Path(course.root))
        if batch.shared_digest(assignment, course.options) == course.digest:
            return None
        return f"{where}: {_differences(manifest(assignment), course.files)}; {SAME_COURSE}"
    except (AssignmentError, OSError) as e:
        return f"worker {worker} cannot read the course at {course.root} ({e}); {SAME_COURSE}"


_isolation_checked: dict[str, str | None] = {}  # mode -> why this process can't provide it (once per process)


def isolation_problem(mode: str, worker: str) -> str | None:
    """Why this worker can't sandbox in ``mode`` (the client's choice), or None; probed once per process."""
    if mode not in _isolation_checked:
        from autograder.sandbox.isolation import isolation_mode

        try:
            isolation_mode(mode)
            _isolation_checked[mode] = None
        except RuntimeError as e:
            _isolation_checked[mode] = (
                f"worker {worker} cannot run the sandbox this run uses ({mode}): {e}; allow unprivileged user "
                f"namespaces on the workers (see docs/sandbox.md), or grade with --isolation process"
            )
    return _isolation_checked[mode]


def _worker_address(dask_worker=None) -> str:
    if dask_worker is None:
        from distributed import get_worker

        dask_worker = get_worker()
    return dask_worker.address


def check_this_worker(course: Course, isolation: str, dask_worker=None) -> str | None:
    """Run on every worker by ``check_workers`` (client.run): why it can't grade this run, or None."""
    worker = _worker_address(dask_worker)
    return course_problem(course, worker) or isolation_problem(isolation, worker)


# Per worker process: (course root, assignment, preload modules) -> its warm graders.
_warm: dict[tuple[str, str, tuple[str, ...]], WarmGraders] = {}
_warm_lock = threading.Lock()


def _warm_graders(assignment: Assignment) -> WarmGraders:
    key = (str(assignment.root), assignment.name, tuple(assignment.grader_preload()))
    with _warm_lock:
        if key not in _warm:
            if not _warm:
                atexit.register(lambda: [g.close() for g in _warm.values()])
            _warm[key] = WarmGraders(list(key[2]))
        return _warm[key]


def grade_on_worker(course: Course, student: str, notebook: bytes, plugin_options: dict, warm: bool) -> tuple:
    """One submission, on a Dask worker: ("results", dict) or ("grading error", detail, student message).

    Raises CourseMismatch when this worker's course differs from the client's.
    """
    worker = _worker_address()
    problem = check_this_worker(course, plugin_options["isolation"], None)
    if problem:
        raise CourseMismatch(problem)
    assignment = Assignment(course.name, root=Path(course.root))
    grader = _warm_graders(assignment).for_this_thread() if warm else None
    with tempfile.TemporaryDirectory(prefix="autograder-dask-") as tmp:
        path = Path(tmp) / f"{course.name}.ipynb"
        path.write_bytes(notebook)
        try:
            return ("results", grade_notebook(assignment, path, student, warm=grader, **plugin_options))
        except GradingError as e:
            return ("grading error", f"{e} (on worker {worker})", e.student_message)


class DaskPool:
    """batch.grade_class's pool on a Dask cluster: ``target`` is a scheduler's address or ``local:N``."""

    def __init__(self, target: str, assignment: Assignment, options: batch.Options, plugin_options: dict):
        self.target = target
        self.course = Course.of(assignment, options)
        self.plugin_options = plugin_options
        self.warm = options.warm
        self.security = None  # the external scheduler's credentials (dask_security.client_security)
        if not target.startswith("local:"):
            self.security = client_security(
                target, options.tls_ca_file, options.tls_cert, options.tls_key, options.insecure_scheduler
            )
        self.cluster = None
        self.client = None
        self.quieted: tuple | None = None  # QUIET_LOGS and the logger's level before the LocalCluster
        self.pending: dict[object, tuple[cf.Future, object]] = {}  # dask future -> (ours, dask future)

    def __enter__(self) -> DaskPool:
        return self  # connects on the first submit: a run with nothing to grade starts no cluster

    def start(self) -> None:
        """Connect (or start the LocalCluster), then check every worker before anything is graded."""
        try:
            self.connect()
            check_workers(self.client, self.course, self.plugin_options["isolation"])
        except BaseException:
            self.close()
            raise

    def connect(self) -> None:
        import dask
        from distributed import Client

        if self.target.startswith("local:"):
            # The cluster's routine messages (workers joining, leaving) are noise on the terminal of one run;
            # its worker processes (and those the nanny restarts) read the level from the environment.
            self.quieted = os.environ.get(QUIET_LOGS), logging.getLogger("distributed").level
            os.environ[QUIET_LOGS] = "error"
            logging.getLogger("distributed").setLevel(logging.ERROR)  # the scheduler, in this process
            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                # mutual TLS with credentials made for this run, no HTTP: only this run's processes can connect
                self.cluster = local_cluster(int(self.target.removeprefix("local:")))
            self.client = Client(self.cluster)  # (with the cluster's credentials)
            return
        try:
            self.client = Client(self.target, timeout=CONNECT_TIMEOUT, security=self.security)
        except (OSError, TimeoutError, ValueError) as e:
            raise batch.BatchError(
                f"could not reach the Dask scheduler at {self.target} ({type(e).__name__}: {e}); check the address "
                f"(tls://HOST:8786), that `dask scheduler` runs there, and that its certificate is signed by the CA "
                f"you gave (--tls-ca-file) and it accepts yours (docs/distributed.md)"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            raise batch.BatchError(
                f"no Dask worker joined the scheduler at {self.target} within {WAIT_FOR_WORKERS} s; start some "
                f"(`dask worker {self.target} --nthreads 1` with the course's --tls-* options, or dask-jobqueue: "
                f"docs/distributed.md), then grade again"
            ) from None

    def submit(self, student: str, notebook: Path) -> cf.Future:
        if self.client is None:
            self.start()
        future = self.client.submit(
            grade_on_worker, self.course, student, notebook.read_bytes(), self.plugin_options, self.warm,
            pure=False,  # unique keys: the same notebook graded again (--force) is graded again
        )  # fmt: skip
        ours: cf.Future = cf.Future()
        self.pending[future] = (ours, future)
        return ours

    def as_completed(self, futures: Iterable[cf.Future]) -> Iterator[cf.Future]:
        """Ours, each once, as its task finishes (wherever and however often it ran)."""
        from distributed import as_completed

        wanted = set(futures)
        theirs = [f for f, (ours, _) in self.pending.items() if ours in wanted]
        # (on this pool's own client's loop: without ``loop`` it takes the default client's, which
        # in a process that holds another Client is that one, and waiting fails "bound to a different event loop")
        if not theirs:  # (nothing sent: a run where everyone was reused connects to no cluster)
            return
        for future in as_completed(theirs, loop=self.client.loop):
            ours, _ = self.pending.pop(future)
            try:
                outcome = future.result()
            except CourseMismatch as e:
                raise batch.BatchError(str(e)) from None
            except Exception as e:  # KilledWorker, a lost scheduler: this student's failure
                ours.set_exception(e)
            else:
                if outcome[0] == "results":
                    ours.set_result(outcome[1])
                else:
                    ours.set_exception(GradingError(outcome[1], outcome[2]))
            yield ours

    def close(self) -> None:
        for closeable in (self.client, self.cluster):
            if closeable is not None:
                closeable.close()
        self.client = self.cluster = None
        if self.quieted is not None:
            env, level = self.quieted
            os.environ.pop(QUIET_LOGS) if env is None else os.environ.__setitem__(QUIET_LOGS, env)
            logging.getLogger("distributed").setLevel(level)
            self.quieted = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_workers(client, course: Course, isolation: str) -> None:
    """BatchError, before anything is graded, if any worker's course (or sandbox) differs from the client's."""
    problems = {w: p for w, p in client.run(check_this_worker, course, isolation).items() if p}
    if problems:
        shown = "\n".join(problems[w] for w in sorted(problems)[:5])
        more = f"\n(and {len(problems) - 5} more workers)" if len(problems) > 5 else ""
        raise batch.BatchError(
            f"{len(problems)} of {len(client.scheduler_info()['workers'])} Dask workers cannot grade this run; "
            f"nothing was graded:\n{shown}{more}"
        )
