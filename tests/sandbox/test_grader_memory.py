"""Is the trusted grader process bounded too? A submission that makes it hold too much
costs only its own grading (grader_memory.bound_grader, grading.grader_memory).

The course is a copy whose grader limit is 128 MiB (an honest cnn_step_by_step grading
adds about 10 MiB); the hostile student's zero_pad returns 200 MB, which the grader has
to read. Graded through the CLI, with a memory cgroup and with RLIMIT_DATA alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.sandbox import cgroups
from tests.support import build_submission, copy_parts, write_submission

NAME = "cnn_step_by_step"
COPIED = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]
HOG = "def zero_pad(X, pad):\n    import numpy as np\n    return np.ones(25_000_000)\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = copy_parts(tmp_path_factory.mktemp("course"), COPIED)
    toml = root / f"autograder/graders/{NAME}/assignment.toml"
    toml.write_text(toml.read_text().replace("[limits]\n", "[limits]\ngrader_memory_gib = 0.125\n", 1))
    assignment = Assignment(NAME, root=root)
    assert assignment.limits().grader_memory_bytes == 2**27
    submitted = root / "submitted"
    write_submission(build_submission(assignment), submitted, "ada", NAME)
    write_submission(build_submission(assignment, {"zero_pad": HOG}), submitted, "hog", NAME)
    return root


@pytest.mark.parametrize("mechanism", ["cgroup", "rlimit"])
def test_a_grader_over_its_memory_limit_costs_only_that_student(course, mechanism, tmp_path):
    """Does the batch finish with both students, the honest one on full marks, the hog on 0 with a reason?"""
    env = {**os.environ, "COLUMNS": "200"}
    if mechanism == "rlimit":
        env[cgroups.FORCE_NO_CGROUP] = "1"
    elif cgroups.cgroup_parent()[0] is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no memory cgroup here: {cgroups.cgroup_parent()[1]}")
        pytest.skip(f"no memory cgroup here: {cgroups.cgroup_parent()[1]}")
    out = tmp_path / "grades.json"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(course), "grade", NAME, str(course / "submitted"),
         "--workers", "1", "--force", "--json", str(out), "--feedback", str(tmp_path / "feedback")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["students"]
    assert set(results) == {"ada", "hog"}
    assert results["ada"]["score"] == results["ada"]["max_score"] == 100
    assert results["hog"]["score"] == 0
    assert any("more than its memory limit (0.125 GiB)" in e for e in results["hog"]["errors"]), results["hog"]
    assert "memory limit" in proc.stdout + proc.stderr  # the instructor is told too
