"""Grade one submission: run the assignment's graders in a fresh grader process.

Each submission gets its own ``pytest`` process (trusted: it holds the graders, the
reference and the comparisons), which in turn starts the sandboxed worker that runs
the student's code. A grader process that crashes or hangs costs that one submission
an "internal error" and nothing else; it never produces a grade.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .assignments import Assignment

GRADERS_INI = Path(__file__).parent / "graders" / "pytest.ini"
GRADING_TIMEOUT = 900  # seconds for one whole submission; only a grader bug gets near it


class GradingError(Exception):
    """The graders themselves failed (not the student's fault); no grade is recorded."""


def grader_command(assignment: Assignment, notebook: Path, student: str, results: Path, options: dict) -> list[str]:
    only = options.pop("only", None)  # grade ids: run just their graders (fidelity tests)
    targets = [str(assignment.graders_dir / f"test_{g}.py") for g in only] if only else [str(assignment.graders_dir)]
    cmd = [
        sys.executable, "-m", "pytest", *targets,
        "-c", str(GRADERS_INI), "--rootdir", str(assignment.graders_dir),
        "-p", "autograder.plugin", "-q", "--no-header", "--tb=no",
        "--submission", str(notebook), "--assignment", assignment.name,
        "--student", student, "--results", str(results),
    ]  # fmt: skip
    for key, value in options.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    return cmd


def grade_notebook(assignment: Assignment, notebook: Path, student: str = "student", **options: object) -> dict:
    """Grade one notebook and return its results (see plugin.GradingRun.results).

    ``options`` are the plugin's: isolation, call_timeout, cell_timeout, memory_gib,
    record_expected; and ``only``, a list of grade ids whose graders alone run.
    """
    with tempfile.TemporaryDirectory(prefix="autograder-grade-") as tmp:
        results = Path(tmp) / "results.json"
        cmd = grader_command(assignment, Path(notebook).resolve(), student, results, options)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=GRADING_TIMEOUT, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise GradingError(f"grading {student} did not finish within {GRADING_TIMEOUT} s") from None
        if proc.returncode not in (0, 1) or not results.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise GradingError(f"the graders failed for {student} (pytest exit {proc.returncode}):\n{tail}")
        return json.loads(results.read_text())
