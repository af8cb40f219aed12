"""Grade one submission: run the assignment's graders in a fresh grader process.

Each submission gets its own ``pytest`` process (in a batch, forked from a warm grader
that has imported pytest, NumPy and the assignment's heavy modules once:
``grader_server.py``) (trusted: it holds the graders, the
reference and the comparisons), which in turn starts the sandboxed worker that runs
the student's code. A grader process that crashes, hangs or writes no results is a
``GradingError`` for that one submission and nothing else: the batch scores it 0 with a
message, does not save it, and grades it again on the next run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run.grader_server import ServerDied, WarmGrader
from autograder.sandbox.cgroups import SandboxCgroup
from autograder.sandbox.grader_memory import GRADER_MEMORY_EXIT, grader_group

GRADERS_INI = Path(__file__).resolve().parents[1] / "graders" / "pytest.ini"
log = logging.getLogger(__name__)
GRADING_TIMEOUT = 900  # seconds for one whole submission; only a grader bug gets near it


class GradingError(Exception):
    """The grader process for one submission failed; ``str(e)`` is the detail for the instructor.

    Student code runs only in the sandbox, yet a submission can still bring its grader
    process down (or trip a grader bug); either way it is that student's result, with
    ``student_message`` (which never shows grader output) as its error.
    """

    def __init__(self, detail: str, student_message: str):
        super().__init__(detail)
        self.student_message = student_message


NOT_SAVED = "This result was not saved, so the next grading run tries again."


def grader_command(
    assignment: Assignment, notebook: Path, student: str, results: Path, spec: Path,
    only: list[str] | None = None, plugins: Sequence[str] = (),
) -> list[str]:  # fmt: skip
    """The pytest command line of one grader process; ``spec`` is the run's grading spec, saved
    (``GradingSpec.write``), ``only`` grade ids whose graders alone run (fidelity tests), ``plugins``
    further pytest arguments: plugins (``-p`` and a module the grader process can import) and their
    options (the test suite's recorder of expected values, tests/plugins/record_expected.py).

    Every value is joined to its option (``--student=-x``): a value that is its own argument
    would be read as an option if it starts with ``-`` (a student id such as ``-x``), or as a
    file of arguments if it starts with ``@``. The targets are absolute paths.
    """
    targets = [str(assignment.graders_dir / f"test_{g}.py") for g in only] if only else [str(assignment.graders_dir)]
    cmd = [
        sys.executable, "-m", "pytest", *targets,
        f"--config-file={GRADERS_INI}", f"--rootdir={assignment.graders_dir}",
        "-p", "autograder.grader.plugin", "-q", "--no-header", "--tb=no",
        f"--submission={notebook}", f"--assignment={assignment.name}", f"--course={assignment.root}",
        f"--student={student}", f"--results={results}", f"--spec={spec}",
    ]  # fmt: skip
    return [*cmd, *plugins]


def sandbox_template(assignment: Assignment, spec: GradingSpec, spec_file: Path) -> dict | None:
    """What a warm grader's sandbox template is for (``sandbox/warm.py``): the folder the
    sandbox mounts, the saved spec (its workers' limits and environment) and the modules to
    import once. None (start every sandbox cold) without namespaces, where a template could
    not give each worker its own files."""
    if spec.isolation != "namespaces":
        return None
    preload = [m for m in assignment.grader_preload() if not m.startswith("autograder")]  # (not in the sandbox)
    return {"dir": str(assignment.release_dir), "spec": str(spec_file), "modules": ["numpy", *preload]}


def run_grader(cmd: list[str], cwd: str, warm: WarmGrader | None, sandbox: dict | None = None) -> tuple[int, str]:
    """Run one grader process: forked from ``warm`` if given (``grader_server.py``; its sandboxes
    then fork from a template for ``sandbox``), else started cold. (exit code, output);
    subprocess.TimeoutExpired or TimeoutError after GRADING_TIMEOUT."""
    if warm is not None:
        try:
            return warm.run(cmd[3:], Path(cwd), GRADING_TIMEOUT, sandbox)  # cmd[3:]: pytest's own arguments
        except ServerDied as e:  # it is restarted for the next submission; this one is graded cold
            log.warning("%s; grading this submission in a fresh process", e)
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=GRADING_TIMEOUT, cwd=cwd)
    return proc.returncode, proc.stdout + proc.stderr


def grade_notebook(
    assignment: Assignment, notebook: Path, student: str = "student", warm: WarmGrader | None = None,
    spec: GradingSpec | None = None, only: list[str] | None = None, plugins: Sequence[str] = (),
) -> dict:  # fmt: skip
    """Grade one notebook and return its results (see plugin.GradingRun.results).

    ``warm``: a warm grader to fork the grader process from (the batch keeps one per
    worker). ``spec``: the run's grading spec (None: ``GradingSpec.of(assignment)``), handed to
    the grader process unchanged, as one file. ``only``: grade ids whose graders alone run;
    ``plugins``: further pytest plugins and their options (see ``grader_command``).
    """
    spec = spec or GradingSpec.of(assignment)
    limit = spec.limits.grader_memory_bytes
    with tempfile.TemporaryDirectory(prefix="autograder-grade-") as tmp, grader_memory(limit) as group:
        results = Path(tmp) / "results.json"
        spec_file = spec.write(Path(tmp) / "spec.json")
        sandbox = sandbox_template(assignment, spec, spec_file) if warm is not None else None
        cmd = grader_command(
            assignment, Path(notebook).absolute(), student, results, spec_file, only, plugins,  # (links: refused)
        )  # fmt: skip
        if group is not None:
            cmd.append(f"--grader-cgroup={group.procs_file}")
        try:
            returncode, output = run_grader(cmd, tmp, warm, sandbox)
        except (subprocess.TimeoutExpired, TimeoutError):
            raise GradingError(
                f"grading {student} did not finish within {GRADING_TIMEOUT} s",
                f"Grading your notebook did not finish within {GRADING_TIMEOUT} s, so it earned no points. {NOT_SAVED}",
            ) from None
        if returncode == GRADER_MEMORY_EXIT or (group is not None and group.oom_kills()):
            raise GradingError(
                f"grading {student} went over the grader process's memory limit ({limit / 2**30:g} GiB; "
                f"grader_memory_gib in assignment.toml); the submission sent the grader too much data",
                f"Grading your notebook made the grader hold more than its memory limit ({limit / 2**30:g} GiB), "
                f"so it earned no points. Your code probably passed or returned very large values (huge strings, "
                f"lists or arrays); return what the docstring asks for. {NOT_SAVED}",
            )
        failed = GradingError(
            "",
            f"The grader process stopped while grading your notebook (exit status {returncode}) and "
            f"reported no scores, so it earned no points. {NOT_SAVED}",
        )
        if returncode not in (0, 1) or not results.exists():
            tail = "\n".join(output.strip().splitlines()[-15:])
            failed.args = (f"the graders failed for {student} (pytest exit {returncode}):\n{tail}",)
            raise failed
        try:
            return json.loads(results.read_bytes())
        except (ValueError, RecursionError) as e:
            failed.args = (f"the graders wrote unreadable results for {student} ({e})",)
            raise failed from None


@contextlib.contextmanager
def grader_memory(limit_bytes: int) -> Iterator[SandboxCgroup | None]:
    """A memory cgroup for one grader process, removed (with anything left in it) afterwards;
    None where the machine has none (the grader then caps its own address space)."""
    group = grader_group(limit_bytes)
    try:
        yield group
    finally:
        if group is not None:
            group.remove()


def collect_tests(assignment: Assignment) -> dict:
    """The assignment's tests without running them: results with every test unscored.

    Used to score a refused submission (0 of the usual maximum) without a grader run.
    """
    with tempfile.TemporaryDirectory(prefix="autograder-collect-") as tmp:
        results = Path(tmp) / "results.json"
        cmd = [
            sys.executable, "-m", "pytest", str(assignment.graders_dir),
            "-c", str(GRADERS_INI), "--rootdir", str(assignment.graders_dir),
            "-p", "autograder.grader.plugin", "-q", "--no-header", "--collect-only",
            "--assignment", assignment.name, "--course", str(assignment.root), "--results", str(results),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=300, cwd=tmp)
        if proc.returncode != 0 or not results.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise GradingError(f"collecting the graders of {assignment.name} failed:\n{tail}", "")
        return json.loads(results.read_text())
