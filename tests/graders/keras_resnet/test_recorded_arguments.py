"""Does a student who sends the grader huge arguments gain nothing, and leave its memory small?

The catalogue's attack ``huge_arguments_to_the_grader`` has ResNet50 pass a 3 MB string as
``filters`` to convolutional_block 100 times per build; while ResNet50 is graded, those
calls go to the grader's stand-in, which records them (``autograder/kit/inner_calls.py``).
A record keeps a bounded summary made at once, so the grader's peak memory is that of an
honest grading (before: 300 MB kept per build, and a string expanded to a tuple of
characters, 8 bytes each, for every comparison). The peak is the grader process's own
(VmHWM, read by the process itself as it ends; the sandbox is another process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.authoring.catalogue import load
from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run.grading import grader_command, grader_memory
from tests.fidelity import attack_source
from tests.support import REPO, build_submission, write_submission

MiB = 2**20
# The grader process itself: pytest run in place, reporting its own peak RSS as it ends.
PEAK = (
    "import sys, pytest\n"
    "code = pytest.main(sys.argv[2:])\n"
    "peak = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "open(sys.argv[1], 'w').write(str(int(peak.split()[1]) * 1024))\n"
    "sys.exit(code)\n"
)


def grade_resnet50(assignment: Assignment, answers: dict, root: Path, name: str) -> tuple[dict, int]:
    """(ResNet50's results, the grader process's peak RSS in bytes) for one submission."""
    path = write_submission(build_submission(assignment, answers), root / "submitted", name, assignment.name)
    results, peak = root / f"{name}.json", root / f"{name}.peak"
    spec = GradingSpec.of(assignment)
    with grader_memory(spec.limits.grader_memory_bytes) as group:
        command = grader_command(assignment, path, name, results, spec.write(root / "spec.json"), only=["ResNet50"])
        if group is not None:
            command.append(f"--grader-cgroup={group.procs_file}")
        command = [sys.executable, "-c", PEAK, str(peak), *command[3:]]  # [python, -m, pytest, ...] run in place
        done = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=900)
    assert results.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(results.read_text())["functions"]["ResNet50"], int(peak.read_text())


@pytest.mark.slow
def test_huge_arguments_gain_nothing_and_leave_the_graders_memory_small():
    """Honest vs 100 calls with a 3 MB string: does the attack score 0, and the grader's peak stay an honest one?"""
    assignment = Assignment("keras_resnet", root=REPO)
    attack = next(a for a in load(assignment).attacks if a.name == "huge_arguments_to_the_grader")
    with tempfile.TemporaryDirectory() as tmp:
        honest, honest_peak = grade_resnet50(assignment, {}, Path(tmp), "honest")
        hostile, hostile_peak = grade_resnet50(
            assignment, {"ResNet50": attack_source(attack, assignment, 0)}, Path(tmp), "hostile"
        )
    print(f"grader peak RSS: honest {honest_peak / MiB:.0f} MiB, huge arguments {hostile_peak / MiB:.0f} MiB")
    assert honest["score"] == honest["max_score"] == 15
    assert hostile["score"] == 0
    stages = next(t["message"] for t in hostile["tests"] if t["name"] == "test_stages")
    assert "filters=<a str of 3,000,000 characters>" in stages, stages
    # one 3 MB message decoded at a time, and nothing of it kept: within noise of the honest peak
    assert hostile_peak <= honest_peak + 64 * MiB, (honest_peak / MiB, hostile_peak / MiB)
