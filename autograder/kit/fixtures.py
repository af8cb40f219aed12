"""The fixtures every grader gets, from its assignment's declaration (``assignment.toml``).

Registered by ``autograder.grader.plugin``, so a grader folder needs no conftest.py (one may
still add fixtures of its own, or override these). ``verdicts`` (the verdicts of the tests
already run, for excuses) comes with it, from ``autograder/kit/verdicts.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from autograder.course.assignments import Assignment, load_reference
from autograder.grader.spec import GradingSpec, SpecError
from autograder.kit.inner_calls import Answering
from autograder.kit.reference_store import ReferenceStore
from autograder.kit.tolerances import Tolerances

pytest_plugins = ("autograder.kit.verdicts",)  # the ``verdicts`` fixture, and parts' tests run first


def assignment_of(config: pytest.Config) -> Assignment:
    """The assignment being graded: ``--assignment`` in ``--course``, or the graders folder's."""
    name = config.getoption("assignment")
    course = config.getoption("course")
    if not name or not course:
        args = [Path(a).resolve() for a in config.args]
        graders = next((a for a in args if a.is_dir()), args[0].parent if args else Path.cwd())
        name = name or graders.name
        course = course or graders.parents[2]  # <course>/autograder/graders/<name>
    return Assignment(name, root=Path(course))


_SPEC = pytest.StashKey[GradingSpec]()


def spec_of(config: pytest.Config) -> GradingSpec:
    """The run's grading spec (``autograder/grader/spec.py``): the file ``--spec`` names, as the run
    wrote it, else (graders run by hand) the assignment's declaration with the best sandbox here.
    Read once per grader process; a file that is not a spec stops the run, named."""
    if _SPEC not in config.stash:
        path = config.getoption("spec")
        try:
            config.stash[_SPEC] = GradingSpec.read(Path(path)) if path else GradingSpec.of(assignment_of(config))
        except SpecError as e:
            raise pytest.UsageError(str(e)) from None
    return config.stash[_SPEC]


@pytest.fixture(scope="session")
def spec(request: pytest.FixtureRequest) -> GradingSpec:
    """How this run grades: limits, isolation, tolerances and stand-ins (``GradingSpec``)."""
    return spec_of(request.config)


@pytest.fixture(scope="session")
def assignment(request: pytest.FixtureRequest) -> Assignment:
    return assignment_of(request.config)


@pytest.fixture(scope="session")
def reference(assignment: Assignment) -> SimpleNamespace:
    """The source notebook's set-up and answer cells, run in this (grader) process."""
    return load_reference(assignment)


@pytest.fixture(scope="session")
def reference_store(assignment: Assignment) -> ReferenceStore:
    """Reference results that are the same for every student, kept for the course (``reference_store.py``)."""
    return ReferenceStore(assignment)


@pytest.fixture(scope="session")
def tolerances(spec: GradingSpec) -> Tolerances:
    """The assignment's named tolerances (``[tolerances]``, in the run's spec): ``**tolerances.tight`` and so on."""
    return Tolerances({name: dict(tolerance) for name, tolerance in spec.tolerances.items()})


@pytest.fixture(scope="session")
def grader_helpers(
    request: pytest.FixtureRequest, assignment: Assignment, spec: GradingSpec
) -> dict[str, Callable] | Answering:
    """What answers a graded function's calls to the functions its ``[stand_ins]`` entry names.

    While a graded function runs, the sandbox hands those calls to the grader. By default
    the reference answers them: a bug costs points once, in the function where it lives.
    With ``[grader] answers = "per test"`` (Keras: layers and tensors can't cross the
    sandbox), an empty ``Answering`` mapping that each test fills with stand-ins.
    """
    if assignment.grader_answers() == "per test":
        return Answering()
    reference = request.getfixturevalue("reference")
    names = sorted({n for names in spec.stand_ins.values() for n in names})
    return {name: getattr(reference, name) for name in names}


@pytest.fixture(scope="session")
def answering(grader_helpers: dict | Answering) -> Answering:
    """``with answering(name=stand_in): ...``: answer calls to ``name`` with ``stand_in`` meanwhile."""
    if not isinstance(grader_helpers, Answering):
        raise pytest.UsageError('the answering fixture needs [grader] answers = "per test" in assignment.toml')
    return grader_helpers


@pytest.fixture(scope="module")
def fresh_sandbox_memory(student) -> Iterator[None]:
    """After the grader module that uses it, the sandbox forgets every object it kept for the grader
    (models, layers, tensors): whole models are large, and the sandbox's memory limit is for the next
    ones. Keras graders use it in every module (an ``autouse`` fixture in their conftest.py asks for it),
    so no fixture may keep a handle across modules (the skeletons keep theirs for a message's words only)."""
    yield
    student.release(everything=True)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """Random inputs, fixed per test (seeded from its id) yet different between tests."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def distinct(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``distinct(*shape, dtype=...)``: random values, all different (no ties anywhere).

    Entries are a shuffled grid 0.1 apart plus a little noise, so every pooling window
    has a clear maximum even in float32 and far beyond a numeric step.
    """

    def make(*shape: int, dtype: Any = np.float64) -> np.ndarray:
        n = int(np.prod(shape))
        values = (rng.permutation(n) - n / 2) * 0.1 + rng.uniform(0.0, 0.05, n)
        return values.reshape(shape).astype(dtype)

    return make
