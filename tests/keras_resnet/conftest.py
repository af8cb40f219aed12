"""One parallel run grades every notebook the keras_resnet tests look at.

Each grading imports TensorFlow twice (grader and sandbox) and builds ResNets, so a
full grading costs about 40 s of CPU. To keep the suite affordable, a mutant is graded
on its own part and on the parts built from it (where a leak across parts would
show), not on the unrelated ones; the reference, the release, the correct variants and
the attacks are graded in full.
"""

from __future__ import annotations

import concurrent.futures as cf

import pytest

from autograder.assignments import Assignment
from autograder.grading import grade_notebook
from tests.support import build_submission, write_submission

from .hostile import ATTACKS
from .variants import CORRECT, MUTANTS

ASSIGNMENT = Assignment("keras_resnet")

# part -> the parts whose graders build it (and so could wrongly charge its bugs)
DEPENDENTS = {
    "identity_block": ["ResNet50"],
    "convolutional_block": ["ResNet50"],
    "BasicBlock": ["ResNet", "resnet18"],
    "ResNet": ["resnet18"],
}


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict[str, dict]:
    """student id -> results, for: perfect, release, every mutant, correct variant and attack."""
    submitted = tmp_path_factory.mktemp("keras_resnet_class") / "submitted"
    name = ASSIGNMENT.name
    jobs = {
        "perfect": (build_submission(ASSIGNMENT), None),
        "release": (build_submission(ASSIGNMENT, perfect=False), None),
    }
    for v in MUTANTS:
        jobs[f"mutant-{v.name}"] = (
            build_submission(ASSIGNMENT, {v.function: v.source}),
            [v.function, *DEPENDENTS.get(v.function, [])],
        )
    for v in CORRECT:
        jobs[f"correct-{v.name}"] = (build_submission(ASSIGNMENT, {v.function: v.source}), None)
    for a in ATTACKS:
        jobs[f"attack-{a.name}"] = (build_submission(ASSIGNMENT, {a.function: a.source}), None)

    def grade(student: str) -> dict:
        nb, only = jobs[student]
        path = write_submission(nb, submitted, student, name)
        return grade_notebook(ASSIGNMENT, path, student, only=only)

    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(grade, jobs), strict=True))
