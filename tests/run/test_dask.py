"""Grading on a Dask cluster (autograder/run/distributed.py): a real LocalCluster of two worker processes.

One cluster serves the whole module: an "external" one (``--scheduler``), with TLS as the
CLI requires; its credentials are files only we can read (the CA and the client's
certificate and key, as an instructor gives them). The course is a copy (graders, source, release,
requirements) and the grading package's digest is taken from a frozen copy too, on the
client and, through a WorkerPlugin, on every worker (also one the nanny restarts): the
package may be edited while these tests run, and that must not read as another course.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster, Security, WorkerPlugin
from nbgrader.api import Gradebook

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.outputs.gradebook import default_url
from autograder.run import distributed, fingerprint, pipeline, pools
from autograder.run.layout import Layout
from autograder.run.options import BatchError, Options
from tests.run.test_dask_security import tls_files, tls_options
from tests.support import build_submission, copy_parts, write_submission

NAME = "cnn_step_by_step"
COPIED = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]
WRONG_PAD = "def zero_pad(X, pad):\n    return X\n"
WRONG_STEP = "def conv_single_step(a_slice_prev, W, b):\n    return float(np.sum(a_slice_prev * W))\n"


class FrozenPackage(WorkerPlugin):
    """Points each worker's fingerprint.PACKAGE_DIR (what the digest hashes as the package) at a frozen copy."""

    def __init__(self, path: str):
        self.path = path

    def setup(self, worker) -> None:
        fingerprint.PACKAGE_DIR = Path(self.path)


def copy_course(root: Path) -> Path:
    return copy_parts(root, COPIED)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(client, course root, a folder of the class's submissions, the TLS files): two worker processes, one thread
    each, speaking TLS."""
    base = tmp_path_factory.mktemp("dask")
    frozen = base / "package"
    shutil.copytree(fingerprint.PACKAGE_DIR, frozen, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    root = copy_course(base / "course")
    assignment = Assignment(NAME, root=root)
    class_ = base / "class"
    for student, answers in {
        "ada": {},
        "ben": {"zero_pad": WRONG_PAD},
        "cy": {"conv_single_step": WRONG_STEP},
        "dee": {"zero_pad": WRONG_PAD, "conv_single_step": WRONG_STEP},
    }.items():
        write_submission(build_submission(assignment, answers), class_, student, NAME)
    security = Security.temporary()
    tls = tls_files(security, base / "tls")
    with pytest.MonkeyPatch.context() as mp, dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        mp.setattr(fingerprint, "PACKAGE_DIR", frozen)
        with (
            LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                security=security,
            ) as local,
            Client(local) as client,
        ):
            client.register_plugin(FrozenPackage(str(frozen)))
            yield client, root, class_, tls


def submissions(cluster, name: str) -> Path:
    """A fresh copy of the class's submissions (so each run has its own outputs beside it)."""
    _, root, class_, _ = cluster
    sub = root / name / "submitted"
    shutil.copytree(class_, sub)
    return sub


def scores(path: Path) -> dict[str, float]:
    return {s: r["score"] for s, r in json.loads(path.read_text())["students"].items()}


@pytest.fixture(scope="module")
def local_scores(cluster) -> dict[str, float]:
    """The class graded on this machine, one worker: what Dask must agree with."""
    _, root, _, _ = cluster
    sub = submissions(cluster, "local")
    out = sub.parent / "grades.json"
    assert cli.main(["--course", str(root), "grade", NAME, str(sub), "--workers", "1", "--json", str(out)]) == 0
    found = scores(out)
    assert found["ada"] > found["ben"] > found["dee"] and found["ada"] > found["cy"] > found["dee"]
    return found


@pytest.mark.slow  # a Dask cluster of its own
def test_dask_grades_the_class_as_a_local_run_does(cluster, local_scores, monkeypatch):
    """Does `grade --scheduler` give every student the score a local run gives, graded on the workers?"""
    client, root, _, tls = cluster

    def not_here(*args, **kwargs):
        raise AssertionError("graded on the client")

    monkeypatch.setattr(pools, "grade_notebook", not_here)  # the client must only send work
    sub = submissions(cluster, "on_dask")
    out = sub.parent / "grades.json"
    grade = ["--course", str(root), "grade", NAME, str(sub), "--scheduler", client.scheduler.address, *tls_options(tls)]
    assert client.scheduler.address.startswith("tls://")
    assert cli.main([*grade, "--json", str(out)]) == 0
    assert scores(out) == local_scores
    # resume: nothing changed, so nothing is sent to the cluster again
    assert cli.main([*grade, "--json", str(out)]) == 0
    assert scores(out) == local_scores


@pytest.mark.slow  # a Dask cluster of its own
def test_a_worker_killed_mid_batch_loses_nothing_and_records_nobody_twice(cluster, local_scores):
    """A worker killed (SIGKILL) after the first result: is every student graded once, with the right score?"""
    client, root, _, tls = cluster
    pids = client.run(os.getpid)
    sub = submissions(cluster, "killed")
    done: list[str] = []
    killed: dict[str, object] = {}

    def on_progress(student, result, reused) -> None:
        done.append(student)
        if not killed:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            assert busy, "nothing left in flight to lose"
            worker = sorted(busy)[0]
            os.kill(pids[worker], signal.SIGKILL)
            killed.update(worker=worker, pid=pids[worker], in_flight=len(busy[worker]))

    outcome = pipeline.grade(
        Assignment(NAME, root=root),
        Layout.beside(sub),
        Options(dask=client.scheduler.address, **tls),
        on_progress=on_progress,
    )
    assert killed["in_flight"] >= 1
    assert sorted(done) == sorted(local_scores)  # each student recorded once
    assert outcome.report.failed == {}
    assert {s: r.score for s, r in outcome.report.results.items()} == local_scores
    with Gradebook(default_url(sub.parent)) as gb:
        rows = gb.find_assignment(NAME).submissions
        assert sorted(r.student_id for r in rows) == sorted(local_scores)  # one row each
        assert {r.student_id: r.score for r in rows} == local_scores
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert killed["pid"] not in client.run(os.getpid).values()


@pytest.mark.slow  # a Dask cluster of its own
def test_a_worker_with_another_copy_of_the_course_is_refused(cluster, tmp_path):
    """Is a course that differs on the workers refused up front (naming the file), and by each task?"""
    client, _, _, _ = cluster
    root = copy_course(tmp_path / "course")
    assignment = Assignment(NAME, root=root)
    spec = GradingSpec.of(assignment, "process")
    clients_view = distributed.Course.of(assignment, spec)
    grader = root / "autograder" / "graders" / NAME / "test_zero_pad.py"
    grader.write_text(grader.read_text() + "\n# edited on the workers' side\n")
    with pytest.raises(BatchError) as refused:
        distributed.check_workers(client, clients_view)
    message = str(refused.value)
    assert message.startswith("2 of 2 Dask workers cannot grade this run; nothing was graded")
    for worker in client.scheduler_info()["workers"]:
        assert (
            f"worker {worker} has a different copy of the course at {root}: graders/test_zero_pad.py differ; "
            "put the same course on every worker (same commit, same venv)"
        ) in message
    task = client.submit(distributed.grade_on_worker, clients_view, "ada", b"{}", True)
    with pytest.raises(distributed.CourseMismatch, match="graders/test_zero_pad.py differ"):
        task.result()
    distributed.check_workers(client, distributed.Course.of(assignment, spec))  # the same now: fine


def test_the_dask_options_are_parsed_and_checked():
    """Are --scheduler and --dask-local parsed, exclusive, and a bad value refused with what to give?"""
    parse = cli.build_parser().parse_args
    args = parse(["grade", NAME, "submitted", "--scheduler", "tls://10.0.0.2:8786", "--tls-ca-file", "ca.pem"])
    assert (args.scheduler, args.dask_local, args.tls_ca_file) == ("tls://10.0.0.2:8786", None, Path("ca.pem"))
    assert (args.tls_cert, args.tls_key, args.insecure_scheduler) == (None, None, False)
    assert parse(["grade", NAME, "submitted", "--dask-local", "2"]).dask_local == 2
    with pytest.raises(SystemExit):
        parse(["grade", NAME, "submitted", "--scheduler", "tcp://h:8786", "--dask-local", "2"])
    with pytest.raises(argparse.ArgumentTypeError, match="e.g. tls://HOST:8786"):
        cli.scheduler_arg("10.0.0.2:8786")
    with pytest.raises(argparse.ArgumentTypeError, match="whole number from 1"):
        cli.dask_local_arg("0")
