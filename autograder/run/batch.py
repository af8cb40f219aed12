"""Grade a whole class: find submissions, grade them in parallel, keep every grade.

The order of work for each student, and why:

    0. take the notebook in                      (intake.py; refused by type before read by value,
                                                  and refused if it is another assignment's), and
                                                  note when the grader first saw it (times.py's ledger)
    1. grade its private copy in a fresh grader process (grading.py; sandboxed student code)
    2. save results.json atomically             (before anything else: this is the grade)
    3. write the gradebook rows                  (idempotent: update, never add twice; with the
                                                  submission time: times.resolve, from sources the
                                                  student can't write, else timestamp.txt's claim)
    4. write feedback and the autograded notebook (with nbgrader's timestamp.txt and
                                                  submission_secret.txt beside them, for release_feedback)

A student whose saved results match everything that decides a grade (the notebook, the
graders, the grading package, the reference and helper modules, the limits and the
pinned environment: the same fingerprint) is not graded again, so re-running after an interruption resumes where it
stopped and never double-counts. ``force=True`` re-grades everyone.

Whatever a student's submission does, it ends as that student's result: a refused file
or a grader process that failed scores 0 with the reason in ``errors`` (bad input), is
not saved (the next run looks again), and never stops the rest of the class.
"""

from __future__ import annotations

import concurrent.futures as cf
import difflib
import hashlib
import json
import logging
import os
import sys
import tempfile
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder.authoring.catalogue import FILE as CATALOGUE
from autograder.course.assignments import Assignment, AssignmentError, available
from autograder.course.notebook import NotebookError
from autograder.outputs.reports import atomic_write, write_student_outputs
from autograder.outputs.results import FunctionResult, LatePolicy, ManualGrades, StudentResult
from autograder.run import intake, times
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import NOT_SAVED, GradingError, collect_tests, grade_notebook
from autograder.sandbox.isolation import isolation_mode
from autograder.text import clean, clean_id

# The grading package (its code, the sandbox and its harness, the feedback template,
# the graders' pytest.ini): every file of it decides grades, so every file is in the
# fingerprint. A module constant, so a test can point it at a copy.
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # autograder/
log = logging.getLogger(__name__)


class BatchError(Exception):
    """A problem with the whole run (missing folder, unknown assignment)."""


@dataclass
class Options:
    workers: int | str = 1  # or "auto": min(cores, memory / sandbox limit), see auto_workers
    isolation: str = "auto"
    call_timeout: float | None = None
    cell_timeout: float | None = None
    memory_gib: float | None = None
    budget: float | None = None  # seconds for all of one submission's code (Limits.budget_seconds)
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

    def memory_bytes(self) -> int | None:
        return int(self.memory_gib * 2**30) if self.memory_gib else None

    def plugin_options(self) -> dict:
        return {
            "isolation": self.isolation,
            "call_timeout": self.call_timeout,
            "cell_timeout": self.cell_timeout,
            "memory_gib": self.memory_gib,
            "budget": self.budget,
        }


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


@dataclass
class Layout:
    """Where a batch reads and writes, nbgrader-style, next to ``submitted/``."""

    submitted: Path
    autograded: Path
    feedback: Path

    @classmethod
    def beside(cls, submitted: Path, feedback: Path | None = None) -> Layout:
        course = submitted.resolve().parent
        return cls(submitted.resolve(), course / "autograded", Path(feedback or course / "feedback").resolve())

    def results_file(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment / "results.json"


@dataclass
class Report:
    results: dict[str, StudentResult] = field(default_factory=dict)  # everyone's, refused too
    failed: dict[str, str] = field(default_factory=dict)  # student -> why their grader process failed
    reused: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # refused at intake (never graded)
    # without nbgrader's timestamp.txt and submission_secret.txt (not collected by `nbgrader
    # collect`): `nbgrader release_feedback` cannot hand their feedback back
    unstamped: list[str] = field(default_factory=list)


def discover(submitted: Path, assignment: str) -> dict[str, str]:
    """student id -> folder name, for every ``<student>/<assignment>`` in ``submitted``.

    Nothing is followed: a student folder that is a symbolic link is listed (intake
    refuses it) without looking where it points. A folder without the notebook is
    listed too (intake reports it), and so is one with ``<assignment>.ipynb`` but no
    ``<assignment>/`` folder (intake says where the notebook belongs). Ids are the folder
    names, with unprintable characters spelled out (``clean_id``) and made unique.
    """
    if not submitted.is_dir():
        raise BatchError(f"submissions folder {submitted} does not exist")
    found: dict[str, str] = {}
    with os.scandir(submitted) as entries:
        folders = sorted(entries, key=lambda e: e.name)
    for entry in folders:
        if entry.name.startswith("."):
            continue
        if not entry.is_symlink():
            if not entry.is_dir(follow_symlinks=False):
                continue  # a file beside the student folders
            # <assignment>/<assignment>.ipynb here is one student's folder passed as the class's (layout_problem)
            loose = () if entry.name == assignment else (f"{assignment}.ipynb",)
            if not any(_lexists(os.path.join(entry.path, n)) for n in (assignment, *loose)):
                continue  # this student has no folder for this assignment
        student, n = clean_id(entry.name), 1
        while student in found:
            n += 1
            student = f"{clean_id(entry.name)}~{n}"
        found[student] = entry.name
    return found


def _lexists(path: str) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def layout_problem(submitted: Path, assignment: str) -> str:
    """Why ``discover`` found no submission in ``submitted``, for the usual mistakes.

    Says what was found, what was expected (an example path) and what to do. Only
    names are read (nothing is opened or followed); they are the students', so cleaned.
    """
    a, nb = assignment, f"{assignment}.ipynb"
    entries = {}
    with os.scandir(submitted) as it:
        for entry in it:
            if not entry.name.startswith("."):
                entries[entry.name] = entry.is_dir(follow_symlinks=False)
    folders = sorted(n for n, is_dir in entries.items() if is_dir)
    notebooks = sorted(n for n, is_dir in entries.items() if not is_dir and n.endswith(".ipynb"))
    expected = f"expected {submitted}/<student>/{a}/{nb}"
    fix = "see “Submissions in the wrong layout” in docs/instructors.md for a command that moves them"
    if a in folders:
        inner = submitted / a
        if _lexists(str(inner / nb)):
            return (
                f"{submitted} looks like one student's folder: it holds {a}/{nb}, and no student folders. "
                f"E{expected[1:]}: pass the folder that holds every student's folder (nbgrader's "
                f"submitted/), e.g. autograder grade {a} {submitted.parent}"
            )
        with os.scandir(inner) as it:
            students = sorted(clean_id(e.name) for e in it if e.is_dir(follow_symlinks=False))
        if students:
            s = students[0]
            return (
                f"the levels of {submitted} are swapped: found {a}/{s}/ ({len(students)} student folders inside "
                f"the assignment's folder), {expected}, e.g. {submitted}/{s}/{a}/{nb}. Move each {a}/<student>/ "
                f"to <student>/{a}/ ({fix}), then grade again."
            )
    if notebooks:
        stem = clean_id(notebooks[0].removesuffix(".ipynb"))
        shown = ", ".join(clean_id(n) for n in notebooks[:3]) + (", …" if len(notebooks) > 3 else "")
        return (
            f"found {len(notebooks)} notebooks directly in {submitted} ({shown}) and no student folders; "
            f"{expected}, e.g. {submitted}/{stem}/{a}/{nb}. Put each notebook in its student's folder "
            f"({fix}), then grade again."
        )
    if "submitted" in folders:
        return (
            f"{submitted} looks like the course folder (it holds submitted/); {expected}: grade "
            f"{submitted / 'submitted'}"
        )
    shown = ", ".join(clean_id(n) for n in folders[:5]) + (", …" if len(folders) > 5 else "")
    what = f"none of its {len(folders)} folders ({shown}) has a {a}/ folder" if folders else "it is empty"
    return (
        f"no submissions of {a} in {submitted}: {what}; {expected}, e.g. {submitted}/ada/{a}/{nb}. "
        f"Collect them first (nbgrader collect {a}), or pass the folder that holds them."
    )


def select(found: dict[str, str], names: Collection[str], submitted: Path, assignment: str) -> dict[str, str]:
    """The students of ``found`` named in ``names`` (``--student``); BatchError for a name without a submission."""
    unknown = [n for n in names if n not in found]
    if unknown:
        name = clean_id(unknown[0])
        near = difflib.get_close_matches(name, list(found), n=3, cutoff=0.6)
        hint = (
            f"Did you mean {' or '.join(near)}?"
            if near
            else f"Students with a submission: {', '.join(list(found)[:10])}{', …' if len(found) > 10 else ''}."
        )
        example = f"{submitted}/{name}/{assignment}/{assignment}.ipynb"
        raise BatchError(
            f"--student {name}: no submission of {assignment} for {name} in {submitted} (expected {example}). "
            f"{hint} Check the name, or collect the submission first (nbgrader collect {assignment})."
        )
    return {s: f for s, f in found.items() if s in names}


def other_assignment(assignment: Assignment, grade_ids: Collection[str]) -> tuple[str, list[str]] | None:
    """For a notebook with none of ``assignment``'s answer cells: the course's assignment
    whose answer cells it has most of, and those; None if it has none of anyone's."""
    best: tuple[str, list[str]] | None = None
    for other in available(assignment.root):
        if other == assignment.name:
            continue
        try:
            ids = Assignment(other, root=assignment.root).graded_ids()
        except (AssignmentError, NotebookError, OSError, KeyError):
            continue  # an assignment still being written
        found = [g for g in ids if g in grade_ids]
        if found and (best is None or len(found) > len(best[1])):
            best = (other, found)
    return best


def wrong_assignment(assignment: Assignment, graded: list[str], student: str, taken: intake.Taken) -> str | None:
    """Why this notebook is refused if it is another assignment's (its grade_ids say so), else None."""
    if set(graded) & taken.grade_ids:
        return None
    match = other_assignment(assignment, taken.grade_ids)
    if match is None:
        return None  # not anyone's: grading says which answer cells are missing
    other, found = match
    a, where = assignment.name, f"{student}/{assignment.name}/{assignment.name}.ipynb"
    cells = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
    return (
        f"{where} looks like the {other} notebook, not {a}: it has {other}'s answer cells ({cells}) "
        f"and none of {a}'s (such as {graded[0]}). Submit your {a} notebook (from release/{a}/{a}.ipynb) as {where}."
    )


_CACHES = {"__pycache__", ".ipynb_checkpoints"}  # written by Python and Jupyter, never read by grading


def _tree(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted; never ``.pyc`` or what is under a cache folder."""
    files = (p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc")
    return sorted(p for p in files if not _CACHES.intersection(p.relative_to(folder).parts))


# Files of the package that only read finished results (the class report, its similarity
# check and the LMS exports): they can't change a grade, so editing them grades no one again.
READS_RESULTS_ONLY = (
    "outputs/class_report.py",
    "outputs/similarity.py",
    "outputs/exports.py",
    "outputs/templates/class_report.html.j2",
)


def package_files() -> list[Path]:
    """The grading package's files: all but the assignments' own graders (each is hashed alone)
    and the modules that only read results (``READS_RESULTS_ONLY``)."""
    graders = PACKAGE_DIR / "graders"
    readers = {PACKAGE_DIR / name for name in READS_RESULTS_ONLY}
    files = [p for p in _tree(PACKAGE_DIR) if p.parent == graders or graders not in p.parents]
    return [p for p in files if p not in readers]


# Tables of assignment.toml that never decide a raw grade: the late policy is applied to
# each saved grade when a run finishes, and [report] only shapes the class report, so
# changing either must not grade anyone again.
NOT_DECISIVE = ("late", "report")


def _decisive_bytes(path: Path) -> bytes:
    """A file's bytes as the fingerprint sees them. assignment.toml is read as its tables
    without ``NOT_DECISIVE`` (so neither the late policy nor a comment re-grades anyone)."""
    data = path.read_bytes()
    if path.name == "assignment.toml":
        try:
            conf = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return data  # unreadable: grading stops on it anyway
        kept = {k: v for k, v in conf.items() if k not in NOT_DECISIVE}
        return b"assignment.toml tables\0" + json.dumps(kept, sort_keys=True, default=str).encode()
    return data


def shared_inputs(assignment: Assignment) -> dict[str, tuple[Path, list[Path]]]:
    """What decides every student's grade alike: label -> (folder, its files)."""
    source, release = assignment.source_notebook.parent, assignment.release_dir
    requirements = assignment.root / "requirements.txt"
    return {
        # tests, conftest, toml, data; not catalogue.py, which tests the graders and decides no grade
        "graders": (assignment.graders_dir, [p for p in _tree(assignment.graders_dir) if p.name != CATALOGUE]),
        "package": (PACKAGE_DIR, package_files()),  # the grading code, the sandbox and its harness
        "source": (source, _tree(source)),  # the reference notebook and its helper modules
        "release": (release, _tree(release)),  # what the sandbox runs beside the student's cells
        "requirements": (assignment.root, [requirements] if requirements.exists() else []),  # pinned packages
    }


def shared_digest(assignment: Assignment, options: Options) -> str:
    """A hash of every input but the notebook: sorted relative paths and their contents.

    Computed once per batch (``grade_class``) and combined with each notebook's digest.
    """
    h = hashlib.sha256(b"autograder fingerprint 2\0")
    for label, (folder, files) in shared_inputs(assignment).items():
        h.update(f"{label} {len(files)}\0".encode())  # a missing folder or file: 0 files
        for path in files:
            data = _decisive_bytes(path)
            h.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
            h.update(data)
    h.update(json.dumps(options.plugin_options(), sort_keys=True).encode())  # command-line limits
    h.update(sys.version.encode())  # the interpreter (requirements.txt pins the packages)
    return h.hexdigest()


def fingerprint(assignment: Assignment, digest: str, options: Options, shared: str | None = None) -> str:
    """Changes whenever the grade could: the notebook or anything in ``shared_digest``.

    ``shared`` is ``shared_digest(assignment, options)``, computed once for a whole class.
    """
    shared = shared or shared_digest(assignment, options)
    return hashlib.sha256(f"notebook {digest}\0shared {shared}".encode()).hexdigest()


def load_saved(path: Path, expected: str, student: str, assignment: str) -> StudentResult | None:
    """Saved results if they match ``expected``; None if missing, stale or unreadable.

    Results an older run saved with text that needs cleaning are saved again, clean.
    """
    try:
        saved = json.loads(path.read_bytes())
        if not isinstance(saved, dict) or saved.get("fingerprint") != expected:
            return None
        result = StudentResult.parse(saved.get("result"), student, assignment)
    except (OSError, ValueError, RecursionError):
        return None
    if result.record() != saved["result"]:
        save(path, expected, result)
    return result


def save(path: Path, fingerprint_: str, result: StudentResult) -> None:
    atomic_write(path, json.dumps({"fingerprint": fingerprint_, "result": result.record()}, indent=1))


def skeleton_of(assignment: Assignment, results: dict[str, StudentResult]) -> dict[str, FunctionResult]:
    """Every function and test with its points: from any result, or by collecting the tests."""
    for r in results.values():
        if r.functions and all(f.tests for f in r.functions.values()):
            return dict(r.functions)
    try:
        return StudentResult.parse(collect_tests(assignment), "", assignment.name).functions
    except (GradingError, ValueError) as e:
        log.warning("could not list the tests of %s (%s); refused submissions get 0 of 0", assignment.name, clean(e))
        return {gid: FunctionResult(0.0, 0.0) for gid in assignment.graded_ids()}


class LocalPool:
    """Grades in this process's threads, one submission per thread, each with its warm grader.

    A pool for ``grade_class`` has ``submit(student, notebook)`` (a concurrent.futures.Future
    of the results dict) and ``as_completed(futures)``; distributed.DaskPool is the other one.
    """

    def __init__(self, assignment: Assignment, workers: int, warm: bool, plugin_options: dict):
        self.assignment, self.warm, self.plugin_options = assignment, warm, plugin_options
        # One warm grader per worker thread (grader_server.py): pytest, NumPy and the
        # assignment's heavy modules are imported once, each submission's grader is a fork.
        self.graders = WarmGraders(assignment.grader_preload())
        self.threads = cf.ThreadPoolExecutor(max_workers=max(1, workers))

    def work(self, student: str, notebook: Path) -> dict:
        warm = self.graders.for_this_thread() if self.warm else None
        return grade_notebook(self.assignment, notebook, student, warm=warm, **self.plugin_options)

    def submit(self, student: str, notebook: Path) -> cf.Future:
        return self.threads.submit(self.work, student, notebook)

    as_completed = staticmethod(cf.as_completed)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        with self.graders:
            self.threads.shutdown()


def grading_pool(assignment: Assignment, options: Options, plugin_options: dict):
    """Where the submissions are graded: a distributed.DaskPool (``options.dask``) or a LocalPool."""
    if options.dask:
        from autograder.run.distributed import DaskPool  # imports dask only when asked for

        return DaskPool(options.dask, assignment, options, plugin_options)
    workers = options.workers
    if workers == "auto":
        workers = auto_workers(assignment.limits(memory_bytes=options.memory_bytes()).memory_bytes)[0]
    return LocalPool(assignment, int(workers), options.warm, plugin_options)


def grade_class(
    assignment: Assignment,
    layout: Layout,
    options: Options,
    on_result: Callable[[str, StudentResult], None] | None = None,
    on_progress: Callable[[str, StudentResult], None] | None = None,
    students: Collection[str] | None = None,
) -> Report:
    """Grade every submission (or only ``students``, by id); ``on_result`` and then ``on_progress`` run in
    this thread once per student, after the save."""
    name = assignment.name
    found = discover(layout.submitted, name)
    if students is not None:
        found = select(found, students, layout.submitted, name)
    graded = assignment.graded_ids()
    report = Report()
    unscored: dict[str, str] = {}  # student -> why (refused, or the grader process failed)
    todo: dict[str, tuple[Path, str]] = {}
    stamps: dict[str, intake.ExchangeFiles] = {}
    notes: dict[str, tuple[str, ...]] = {}  # student -> notes from intake (never saved: they are this run's)

    seen: dict[str, times.Seen] = {}  # student -> when the grader first saw this notebook (its ledger)

    def finish(student: str, result: StudentResult, notebook: Path | None) -> None:
        stamp = stamps[student]
        extra = (*notes.get(student, ()), *stamp.notes)
        due = options.late.due if options.late is not None else None
        time = times.resolve(student, stamp.timestamp, stamp.timestamp_problem, seen.get(student), options.times, due)
        result = replace(result, errors=(*result.errors, *extra), timestamp=time.when, time=time)
        # The late policy (pipeline.grade sets it for the run) turns the raw grade, saved
        # as graded, into the final one; the gradebook (on_result) still gets raw scores per cell.
        if options.manual is not None:  # written answers: the points given in formgrader, or pending
            result = options.manual.apply(result)
        if options.late is not None:
            result = options.late.apply(result)
        report.results[student] = result
        try:
            write_student_outputs(result, notebook, layout.autograded, layout.feedback, stamp.files)
        except Exception as e:  # a bug of ours; the rest of the class still gets graded
            report.failed[student] = f"writing the feedback of {student} failed: {type(e).__name__}: {e}"
        if notebook is not None:
            notebook.unlink(missing_ok=True)  # the private copy has served; keep the scratch folder small
        if on_result:
            on_result(student, result)
        if on_progress:
            on_progress(student, result)

    shared = shared_digest(assignment, options)  # once: the same for every student
    with tempfile.TemporaryDirectory(prefix="autograder-intake-") as private:
        for i, (student, folder) in enumerate(found.items()):
            stamps[student] = stamp = intake.exchange_files(layout.submitted, folder, name)
            if not set(intake.EXCHANGE_FILES) <= set(stamp.files):
                report.unstamped.append(student)
            try:
                taken = intake.take(layout.submitted, folder, name, Path(private) / str(i))
            except intake.Refused as e:
                unscored[student] = str(e)
                report.refused.append(student)
                continue
            notes[student] = taken.notes
            # the grader's own record of when it first saw this notebook: a time the student can't write
            ledger = layout.autograded / student / name / times.LEDGER
            seen[student] = times.record_sighting(ledger, taken.digest, times.now())
            problem = wrong_assignment(assignment, graded, student, taken)
            if problem:
                unscored[student] = problem
                report.refused.append(student)
                taken.notebook.unlink(missing_ok=True)
                continue
            fp = fingerprint(assignment, taken.digest, options, shared)
            saved = None if options.force else load_saved(layout.results_file(student, name), fp, student, name)
            if saved is not None:
                report.reused.append(student)
                finish(student, saved, taken.notebook)
            else:
                todo[student] = (taken.notebook, fp)

        # Check once here whether the namespace sandbox works, not in every grader
        # process (a probe starts a whole sandbox: about 0.1 s per submission).
        isolation = isolation_mode(options.isolation) if todo else options.isolation
        plugin_options = {**options.plugin_options(), "isolation": isolation, "isolation_checked": True}

        with grading_pool(assignment, options, plugin_options) as pool:
            futures = {pool.submit(s, todo[s][0]): s for s in todo}
            for future in pool.as_completed(futures):
                student = futures[future]
                notebook, fp = todo[student]
                try:
                    result = StudentResult.parse(future.result(), student, name)
                except GradingError as e:
                    report.failed[student] = clean(str(e))
                    unscored[student] = e.student_message
                    continue
                except ValueError as e:
                    report.failed[student] = clean(f"the graders wrote malformed results for {student} ({e})")
                    unscored[student] = (
                        f"The grader process reported unreadable scores for your notebook, so it earned no "
                        f"points. {NOT_SAVED}"
                    )
                    continue
                except Exception as e:  # anything else going wrong for one student stays theirs
                    report.failed[student] = clean(f"grading {student} failed: {type(e).__name__}: {e}")
                    unscored[student] = f"The grader could not grade your notebook (an internal error). {NOT_SAVED}"
                    continue
                save(layout.results_file(student, name), fp, result)
                finish(student, result, notebook)

        if unscored:
            skeleton = skeleton_of(assignment, report.results)
            for student, message in sorted(unscored.items()):
                notebook = todo[student][0] if student in todo else None
                finish(student, StudentResult.unscored(skeleton, student, name, message), notebook)
    return report
