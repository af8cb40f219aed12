"""Grade on a dask.distributed cluster: ``autograder grade ... --scheduler tls://HOST:8786`` or ``--dask-local N``.

Who does what:

    client (this process)                          each Dask worker process
    ---------------------                          ------------------------
    intake, fingerprints, resume (class_run.py)
    check every worker's course (client.run)  ->   recompute the course digest from its own files
    one task per submission to grade:              check the digest again (a worker that joined late)
      the notebook's bytes, the course path,  ->   write the bytes to its own temp file, grade it with
      the expected digest, the grading spec        its warm grader (kept per process), return results
    save results.json, gradebook, CSV, JSON,  <-   the results dict (or the GradingError's two messages)
    feedback: as for a local run

Only ``grading.grade_notebook`` runs on the workers, so the one gradebook writer, the
saved results and resuming are exactly those of a local run: class_run.grade_class takes a
pool (pools.py's ``LocalPool``, or ``DaskPool`` here) with ``submit(student, notebook)`` and
``as_completed(futures)``, and records each student once, when that student's future
completes.

Decisions:

- **Course files: the same path on every worker** (a shared file system, or the same
  checkout and venv at the same path on each machine). Nothing is shipped but the
  notebook: the intake's private copy lives only on the client. Each task carries the
  client's ``fingerprint.shared_digest`` (everything that decides a grade but the notebook:
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
- **What a worker keeps between tasks** is one ``WorkerState`` per worker process, Dask's
  per-worker plugin (registered by ``check_workers``): the sandbox modes it has probed, and
  its warm graders, keyed by course, assignment and preload modules, started on first use
  and closed with the worker (their servers also stop when the worker's pipe closes, e.g.
  when the nanny restarts a killed worker).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import WorkerPlugin

from autograder.course.assignments import Assignment, AssignmentError
from autograder.grader.spec import GradingSpec
from autograder.run.dask_security import client_security, local_cluster
from autograder.run.fingerprint import manifest, shared_digest
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import GradingError, grade_notebook
from autograder.run.options import BatchError, Options

ALLOWED_FAILURES = 3  # worker deaths a task survives on --dask-local (dask's default for a scheduler)
WAIT_FOR_WORKERS = 60  # seconds for the first worker to join an external scheduler
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
QUIET_LOGS = "DASK_LOGGING__DISTRIBUTED"  # dask's config from the environment: the distributed logger's level
SAME_COURSE = "put the same course on every worker (same commit, same venv); see docs/distributed.md"


class CourseMismatch(Exception):
    """A worker's course differs from the client's; the run stops (BatchError on the client)."""


@dataclass(frozen=True)
class Course:
    """The client's view of the course, sent with every task: where it is and what it hashes to."""

    root: str
    name: str
    spec: GradingSpec  # the run's grading spec, which every task grades by (it is in the digest)
    digest: str  # fingerprint.shared_digest(assignment, spec)
    files: dict[str, str]  # manifest(assignment)

    @classmethod
    def of(cls, assignment: Assignment, spec: GradingSpec) -> Course:
        digest = shared_digest(assignment, spec)
        return cls(str(assignment.root), assignment.name, spec, digest, manifest(assignment))


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
        if shared_digest(assignment, course.spec) == course.digest:
            return None
        return f"{where}: {_differences(manifest(assignment), course.files)}; {SAME_COURSE}"
    except (AssignmentError, OSError) as e:
        return f"worker {worker} cannot read the course at {course.root} ({e}); {SAME_COURSE}"


class WorkerState(WorkerPlugin):
    """What one Dask worker process keeps between tasks: the sandbox modes it has probed, and its warm graders.

    Dask's per-worker plugin: ``check_workers`` registers it (on every worker, and on each that joins
    later); ``idempotent``, so each worker keeps the first one for its life, as it keeps its processes.
    """

    name = "autograder-grading"
    idempotent = True

    def setup(self, worker: object) -> None:
        self.isolation: dict[str, str | None] = {}  # mode -> why this process can't provide it (probed once)
        # (course root, assignment, preload modules) -> its warm graders
        self.warm: dict[tuple[str, str, tuple[str, ...]], WarmGraders] = {}
        self.lock = threading.Lock()  # (tasks run on the worker's threads)

    def teardown(self, worker: object) -> None:
        for graders in self.warm.values():
            graders.close()

    def isolation_problem(self, mode: str, worker: str) -> str | None:
        """Why this worker can't sandbox in ``mode`` (the client's choice), or None; probed once per process."""
        with self.lock:
            if mode not in self.isolation:
                from autograder.sandbox.isolation import isolation_mode

                try:
                    isolation_mode(mode)
                    self.isolation[mode] = None
                except RuntimeError as e:
                    self.isolation[mode] = (
                        f"worker {worker} cannot run the sandbox this run uses ({mode}): {e}; allow unprivileged "
                        f"user namespaces on the workers (see docs/sandbox.md), or grade with --isolation process"
                    )
            return self.isolation[mode]

    def warm_graders(self, assignment: Assignment) -> WarmGraders:
        """This process's warm graders for ``assignment`` (started on first use)."""
        key = (str(assignment.root), assignment.name, tuple(assignment.grader_preload()))
        with self.lock:
            if key not in self.warm:
                self.warm[key] = WarmGraders(list(key[2]))
            return self.warm[key]


def _this_worker(dask_worker=None):
    if dask_worker is None:
        from distributed import get_worker

        dask_worker = get_worker()
    return dask_worker


def check_this_worker(course: Course, dask_worker=None) -> str | None:
    """Run on every worker by ``check_workers`` (client.run): why it can't grade this run (its course, or
    the sandbox the client chose: ``course.spec.isolation``), or None."""
    dask_worker = _this_worker(dask_worker)
    state: WorkerState = dask_worker.plugins[WorkerState.name]
    address = dask_worker.address
    return course_problem(course, address) or state.isolation_problem(course.spec.isolation, address)


def grade_on_worker(course: Course, student: str, notebook: bytes, warm: bool) -> tuple:
    """One submission, on a Dask worker, by the run's spec (``course.spec``): ("results", dict) or
    ("grading error", detail, student message).

    Raises CourseMismatch when this worker's course differs from the client's.
    """
    dask_worker = _this_worker()
    worker = dask_worker.address
    problem = check_this_worker(course, dask_worker)
    if problem:
        raise CourseMismatch(problem)
    assignment = Assignment(course.name, root=Path(course.root))
    grader = dask_worker.plugins[WorkerState.name].warm_graders(assignment).for_this_thread() if warm else None
    with tempfile.TemporaryDirectory(prefix="autograder-dask-") as tmp:
        path = Path(tmp) / f"{course.name}.ipynb"
        path.write_bytes(notebook)
        try:
            return ("results", grade_notebook(assignment, path, student, warm=grader, spec=course.spec))
        except GradingError as e:
            return ("grading error", f"{e} (on worker {worker})", e.student_message)


class DaskPool:
    """class_run.grade_class's pool on a Dask cluster: ``target`` is a scheduler's address or ``local:N``."""

    def __init__(self, target: str, assignment: Assignment, options: Options, spec: GradingSpec):
        self.target = target
        self.course = Course.of(assignment, spec)
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
            check_workers(self.client, self.course)
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
            raise BatchError(
                f"could not reach the Dask scheduler at {self.target} ({type(e).__name__}: {e}); check the address "
                f"(tls://HOST:8786), that `dask scheduler` runs there, and that its certificate is signed by the CA "
                f"you gave (--tls-ca-file) and it accepts yours (docs/distributed.md)"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            raise BatchError(
                f"no Dask worker joined the scheduler at {self.target} within {WAIT_FOR_WORKERS} s; start some "
                f"(`dask worker {self.target} --nthreads 1` with the course's --tls-* options, or dask-jobqueue: "
                f"docs/distributed.md), then grade again"
            ) from None

    def submit(self, student: str, notebook: Path) -> cf.Future:
        if self.client is None:
            self.start()
        future = self.client.submit(
            grade_on_worker, self.course, student, notebook.read_bytes(), self.warm,
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
                raise BatchError(str(e)) from None
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


def check_workers(client, course: Course) -> None:
    """BatchError, before anything is graded, if any worker's course (or sandbox) differs from the client's.

    Registers each worker's ``WorkerState`` first (a worker that already has one keeps it).
    """
    client.register_plugin(WorkerState())
    problems = {w: p for w, p in client.run(check_this_worker, course).items() if p}
    if problems:
        shown = "\n".join(problems[w] for w in sorted(problems)[:5])
        more = f"\n(and {len(problems) - 5} more workers)" if len(problems) > 5 else ""
        raise BatchError(
            f"{len(problems)} of {len(client.scheduler_info()['workers'])} Dask workers cannot grade this run; "
            f"nothing was graded:\n{shown}{more}"
        )
