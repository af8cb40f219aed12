"""Is the grading spec built once from assignment.toml and the command line, checked, and handed on
unchanged: to the grader process (one file), its fixtures, and the sandbox's limits?
(autograder/grader/spec.py, autograder/sandbox/limits.py)

The end-to-end test grades a one-function course twice, with different limits and tolerances in
its assignment.toml, and a grader that records what each place saw: the grader process's spec and
fixtures, the sandbox's ``Limits``, the grader's own memory bound, and, inside the sandbox, the
address-space and process limits and the environment the student's code runs under.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec, SpecError
from autograder.run.grader_server import WarmGrader
from autograder.run.grading import grade_notebook
from autograder.sandbox.limits import GiB, Limits

NAME = "toy"
PROBE = "def probe():\n    return 1\n"
# The student's answer: what the sandbox imposes on its code, seen from inside.
INSIDE = (
    "def probe():\n"
    "    import os, resource\n"
    "    return [resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_NPROC)[0],\n"
    "            os.environ.get('SPEC_PROBE', '')]\n"
)
# The grader: records what the grader process, its fixtures and the sandbox were given.
GRADER = '''
import dataclasses, json, os, resource
from pathlib import Path


def test_probe(student, spec, tolerances, request):
    """Records what every place was given."""
    group = request.config.getoption("grader_cgroup")
    limit_files = [Path(group).parent / n for n in ("memory.max", "memory.limit_in_bytes")] if group else []
    in_cgroup = next((int(f.read_text()) for f in limit_files if f.exists()), None)
    data_soft = resource.getrlimit(resource.RLIMIT_DATA)[0]
    vm_data = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmData:"))
    seen = {
        "spec": spec.model_dump(mode="json"),
        "tolerances": tolerances.named,
        "session": dataclasses.asdict(student.limits),
        "sandbox": dataclasses.asdict(student.worker.limits),
        "grader_cgroup": in_cgroup,
        "grader_rlimit_data_above_now": None if in_cgroup else data_soft - vm_data,
        "inside": student.call("probe").value,
    }
    Path(OUT).write_text(json.dumps(seen))
'''
# Two declarations: every value differs from the other's and from the defaults.
DECLARED = {
    "A": {"call_timeout": 3.5, "cell_timeout": 12, "budget_seconds": 17, "memory_gib": 0.75,
          "grader_memory_gib": 0.625, "max_processes": 48, "env": "A", "tight": 0.125},
    "B": {"call_timeout": 4.5, "cell_timeout": 13, "budget_seconds": 19, "memory_gib": 0.875,
          "grader_memory_gib": 0.5, "max_processes": 40, "env": "B", "tight": 0.25},
}  # fmt: skip


def declaration(values: dict) -> str:
    limits = "\n".join(f"{k} = {v}" for k, v in values.items() if k not in ("env", "tight"))
    return (
        f'[points]\nprobe = 1\n\n[limits]\n{limits}\n\n[limits.env]\nSPEC_PROBE = "{values["env"]}"\n\n'
        f"[tolerances]\ntight = {{rtol = {values['tight']}}}\nloose = {{atol = 0.5}}\n"
    )


def notebook(answer: str) -> dict:
    def cell(source: str, **meta: object) -> dict:
        nbgrader = {"grade": False, "solution": False, "locked": False, **meta}
        return {"cell_type": "code", "execution_count": None, "metadata": {"nbgrader": nbgrader}, "outputs": [],
                "source": source}  # fmt: skip

    cells = [
        cell("import math", grade_id="setup", locked=True),
        cell(answer, grade_id="probe", solution=True),
        cell("assert probe", grade_id="test_probe", grade=True, locked=True, points=1),
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def toy_course(root: Path, values: dict, seen: Path) -> Assignment:
    graders = root / "autograder" / "graders" / NAME
    graders.mkdir(parents=True, exist_ok=True)
    (graders / "assignment.toml").write_text(declaration(values))
    (graders / "test_probe.py").write_text(f"OUT = {str(seen)!r}\n" + GRADER)
    for folder in ("source", "release"):
        (root / folder / NAME).mkdir(parents=True, exist_ok=True)
        (root / folder / NAME / f"{NAME}.ipynb").write_text(json.dumps(notebook(PROBE)))
    return Assignment(NAME, root=root)


def some(values: dict, like: dict) -> dict:
    return {key: values.get(key) for key in like}


def test_a_changed_limit_or_tolerance_reaches_every_place_that_uses_it(tmp_path):
    """Graded cold with declaration A, then by one warm grader with A, and with B and two limits given on the
    command line: does each place see the values of its run (never the declaration's where a run overrides it)?"""
    seen = tmp_path / "seen.json"
    submission = tmp_path / "submission.ipynb"
    submission.write_text(json.dumps(notebook(INSIDE)))
    given = ["--memory-gib", "0.625", "--budget", "21"]  # over B's memory_gib and budget_seconds
    warm = WarmGrader([])
    try:
        for name, grader, options in (("A", None, []), ("A", warm, []), ("B", warm, given)):
            assignment = toy_course(tmp_path / "course", DECLARED[name], seen)
            args = cli.build_parser().parse_args(["grade", NAME, "submitted", *options])
            spec = cli.grading_spec(assignment, args)  # as the run makes it, once
            values = {**DECLARED[name], **({"memory_gib": 0.625, "budget_seconds": 21} if options else {})}
            seen.unlink(missing_ok=True)
            results = grade_notebook(assignment, submission, "ada", warm=grader, spec=spec)
            assert results["score"] == 1, results
            got = json.loads(seen.read_text())
            memory, grader_memory = int(values["memory_gib"] * GiB), int(values["grader_memory_gib"] * GiB)
            limits = {"call_timeout": values["call_timeout"], "cell_timeout": values["cell_timeout"],
                      "budget_seconds": values["budget_seconds"], "memory_bytes": memory,
                      "grader_memory_bytes": grader_memory, "max_processes": values["max_processes"],
                      "env": {"SPEC_PROBE": values["env"]}}  # fmt: skip
            where = f"declaration {name} {' '.join(options)}, {'warm' if grader else 'cold'}"
            # the spec, as the host made it and as the grader process read it back
            assert some(dataclasses.asdict(spec.limits), limits) == limits, where
            assert got["spec"] == spec.model_dump(mode="json"), where
            # the fixtures, and the sandbox's own Limits (the worker's, as the session handed them on)
            assert got["tolerances"]["tight"] == {"rtol": values["tight"], "atol": 1e-8}, where
            assert got["tolerances"]["loose"] == {"rtol": 0.0, "atol": 0.5}, where
            assert some(got["session"], limits) == limits and got["sandbox"] == got["session"], where
            # the grader process's own bound, and what the student's code runs under
            if got["grader_cgroup"] is not None:
                assert got["grader_cgroup"] == grader_memory, where
            else:
                assert 0 < got["grader_rlimit_data_above_now"] <= grader_memory, where
            assert got["inside"] == [memory, values["max_processes"], values["env"]], where
    finally:
        warm.close()


# --- building, checking and saving the spec ------------------------------------------------


@pytest.fixture
def toy(tmp_path) -> Assignment:
    return toy_course(tmp_path / "course", DECLARED["A"], tmp_path / "seen.json")


def test_the_command_line_goes_over_the_declaration_by_the_same_names(toy):
    """Do --timeout, --budget and --memory-gib override assignment.toml's values, GiB becoming bytes once?"""
    args = cli.build_parser().parse_args(
        ["grade", NAME, "submitted", "--timeout", "2.5", "--budget", "40", "--memory-gib", "1.5",
         "--isolation", "process"]
    )  # fmt: skip
    spec = cli.grading_spec(toy, args)
    assert (spec.limits.call_timeout, spec.limits.budget_seconds) == (2.5, 40.0)
    assert spec.limits.memory_bytes == int(1.5 * GiB)
    assert spec.limits.cell_timeout == 12.0 and spec.limits.grader_memory_bytes == int(0.625 * GiB)  # declared
    assert spec.isolation == "process" and spec.limits.env == {"SPEC_PROBE": "A"}
    plain = cli.grading_spec(toy, cli.build_parser().parse_args(["grade", NAME, "s", "--isolation", "process"]))
    assert plain.limits == toy.limits() and plain.limits.memory_bytes == int(0.75 * GiB)


def test_a_given_memory_limit_replaces_the_declared_one_in_either_unit(tmp_path):
    """Does --memory-gib replace a declared memory_bytes (and memory_gib), never leave both?"""
    table = {"memory_bytes": 1000, "call_timeout": 5}
    assert Limits.declared(table, {"memory_gib": 0.5}).memory_bytes == GiB // 2
    assert Limits.declared({"memory_gib": 2}, {"memory_bytes": 4096}).memory_bytes == 4096
    assert Limits.declared(table, {"memory_gib": None}).memory_bytes == 1000  # not given
    assert Limits.declared({}, {}) == Limits()


def test_a_spec_survives_its_file_unchanged(toy, tmp_path):
    """Does a spec written to its file read back equal, every field (stand-ins, tolerances, env) included?"""
    spec = GradingSpec.of(toy, isolation="process", limits={"budget_seconds": 9.5})
    spec = spec.model_copy(update={"stand_ins": {"probe": ("helper",)}})
    again = GradingSpec.read(spec.write(tmp_path / "spec.json"))
    assert again == spec and again.model_dump_json() == spec.model_dump_json()
    assert again.stand_ins == {"probe": ("helper",)} and again.limits.budget_seconds == 9.5
    assert again.tolerances["tight"] == {"rtol": 0.125, "atol": 1e-8}


def test_a_spec_is_frozen(toy):
    spec = GradingSpec.of(toy, isolation="process")
    with pytest.raises(Exception, match="frozen"):
        spec.isolation = "namespaces"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.limits.call_timeout = 60  # type: ignore[misc]


@pytest.mark.parametrize(
    "change",
    [
        {"call_timeout": 0}, {"budget_seconds": -1.0}, {"cell_timeout": float("inf")}, {"max_processes": 2.5},
        {"memory_bytes": True}, {"memory_bytes": "2 GiB"}, {"timeout": 5}, {"env": {"A": 1}},
    ],
)  # fmt: skip
def test_limits_out_of_range_are_refused(change):
    """Is every limit checked by its type when it is made: above 0, finite, whole where it counts?"""
    with pytest.raises(ValueError):
        Limits(**change)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["limits"].update(call_timeout=-5), "limits.call_timeout"),
        (lambda d: d["limits"].update(max_processes=1.5), "limits.max_processes"),
        (lambda d: d["limits"].update(wall_seconds=5), "limits.wall_seconds"),
        (lambda d: d.update(isolation="auto"), "isolation"),
        (lambda d: d["tolerances"]["tight"].update(rtol=-1), "tolerances.tight.rtol"),
        (lambda d: d.update(stand_ins={"probe": "helper"}), "stand_ins.probe"),
        (lambda d: d.update(budget=5), "budget"),
    ],
)
def test_a_file_that_is_not_a_spec_is_refused_naming_the_field(toy, tmp_path, edit, field):
    """Is a changed spec file refused as a whole, naming the file and the field?"""
    data = json.loads(GradingSpec.of(toy, isolation="process").model_dump_json())
    edit(data)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError) as refused:
        GradingSpec.read(path)
    assert str(path) in str(refused.value) and f"{field}:" in str(refused.value)
