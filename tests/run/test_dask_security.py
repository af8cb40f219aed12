"""Who can talk to a Dask grading run (autograder/run/dask_security.py): only its own processes.

The attack of issue 18: while the instructor grades with ``--dask-local``, another user of the
host connects to the cluster and runs code as the instructor. Here that user is a separate
interpreter that drops to the uid ``nobody`` (the uid the sandbox runs students' code as when
grading as root) before the run's credentials exist, then, during a real grading run, tries
every listening socket of the run with plain HTTP, plain Dask and Dask over TLS with a
certificate of its own, asking each to run a function that writes a file.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import dask
import psutil
import pytest
from distributed import LocalCluster, Security

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run import distributed, fingerprint, pipeline
from autograder.run.dask_security import client_security
from autograder.run.layout import Layout
from autograder.run.options import BatchError, Options
from tests.support import build_submission, copy_parts, write_submission

NAME = "cnn_step_by_step"
COPIED = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]
# How an attempt must fail: the other side closed the connection during the handshake (dask's names
# for it). Anything else (a time-out, a PermissionError importing a module) would not show a refusal.
REFUSED = {"CommClosedError", "FatalCommClosedError"}


def tls_files(security: Security, folder: Path) -> dict[str, Path]:
    """``security``'s CA and client certificate and key, written as files only we can read: Options' tls_* fields."""
    folder.mkdir(mode=0o700)
    files = {
        "tls_ca_file": security.tls_ca_file,
        "tls_cert": security.tls_client_cert,
        "tls_key": security.tls_client_key,
    }
    paths = {}
    for field, pem in files.items():
        path = folder / f"{field}.pem"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(pem)
        paths[field] = path
    return paths


def tls_options(files: dict[str, Path]) -> list[str]:
    """The same, as the command line's --tls-ca-file, --tls-cert and --tls-key."""
    return [arg for field, path in files.items() for arg in (f"--{field.replace('_', '-')}", str(path))]


def need_root(why: str) -> None:
    """Fail on CI (CI=true: the suite runs as root there), else skip, when not root."""
    if os.geteuid() != 0:
        message = f"needs root: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def listening(pids: set[int]) -> set[tuple[str, int]]:
    """The TCP sockets these processes listen on."""
    found = set()
    for pid in pids:
        try:
            for c in psutil.Process(pid).net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    found.add((c.laddr.ip, c.laddr.port))
        except psutil.NoSuchProcess:
            pass
    return found


def this_process_tree() -> set[int]:
    me = psutil.Process()
    return {me.pid} | {p.pid for p in me.children(recursive=True)}


# The other user: a fresh interpreter, started as root so it can import Dask (the venv may sit where
# only root can read, e.g. under /root), that drops to ``uid`` before it hears of the run. Then it
# attacks every endpoint it is given, all at once, and prints what happened as JSON.
ATTACKER = textwrap.dedent(
    r"""
    import asyncio, json, os, socket, ssl, sys, threading
    import distributed.comm.tcp  # the tcp:// and tls:// backends
    from distributed import Client, Security
    from distributed.comm import connect
    from distributed.protocol.pickle import dumps

    uid, gid, canary = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    mine = Security.temporary()  # a certificate of this user's own making (and what TLS imports)
    TIMEOUT = 5

    def write_canary():  # what this user wants run as the instructor
        with open(canary, "w") as f:
            f.write(f"ran as uid {os.getuid()}")

    def why(e):
        return [type(e).__name__, str(e)[:300]]

    def http(host, port):
        try:
            s = socket.create_connection((host, port), timeout=TIMEOUT)
        except OSError as e:
            return {"reached": False, "error": why(e)}
        with s:
            s.settimeout(TIMEOUT)
            try:
                s.sendall(b"GET /info/main/workers.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
                reply = s.recv(200)
            except OSError as e:
                reply = repr(e).encode()
        return {"reached": True, "reply": reply.decode("latin-1")}

    async def run_there(address, **args):
        try:  # (dask's handshake has no time limit of its own)
            comm = await asyncio.wait_for(connect(address, timeout=TIMEOUT, **args), 2 * TIMEOUT)
        except Exception as e:
            return {"connected": False, "error": why(e)}
        replies = []
        for op in ("run", "run_function"):  # a nanny's and a worker's; the scheduler's
            try:
                await comm.write({"op": op, "function": dumps(write_canary), "args": (), "kwargs": {}, "wait": True,
                                  "reply": True})
                replies.append(str(await asyncio.wait_for(comm.read(), TIMEOUT))[:300])
            except Exception as e:
                replies.append(why(e))
        await comm.close()
        return {"connected": True, "replies": replies}

    async def as_client(address, **args):
        try:
            async with Client(address, asynchronous=True, timeout=TIMEOUT, **args) as client:
                await asyncio.wait_for(client.submit(write_canary, pure=False), TIMEOUT)
                return {"connected": True}
        except Exception as e:
            return {"connected": False, "error": why(e)}

    def trusting(own_certificate):  # a TLS client that accepts any server, showing its own certificate or none
        if own_certificate:
            context = mine.get_connection_args("client")["ssl_context"]
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return {"ssl_context": context, "require_encryption": True}

    async def attack(endpoints, scheduler):
        ways = {
            "tcp": ("tcp", {}),
            "tls, own certificate": ("tls", mine.get_connection_args("client")),
            "tls, own certificate, any server": ("tls", trusting(True)),  # so the server must refuse it
            "tls, no certificate, any server": ("tls", trusting(False)),
        }
        tries = {}
        for host, port in endpoints:
            for way, (scheme, args) in ways.items():
                tries[f"{host}:{port} {way}"] = run_there(f"{scheme}://{host}:{port}", **args)
        tries["client tcp"] = as_client(scheduler.replace("tls://", "tcp://"))
        tries["client tls"] = as_client(scheduler, security=mine)
        done = await asyncio.gather(*tries.values())
        return dict(zip(tries, done))

    # while still root, with nothing of the run's yet: exercise the code paths (imports) an attempt takes,
    # against a listener that hangs up at once
    listener = socket.create_server(("127.0.0.1", 0))
    def hang_up():
        while True:
            listener.accept()[0].close()
    threading.Thread(target=hang_up, daemon=True).start()
    asyncio.run(attack([listener.getsockname()], "tls://%s:%d" % listener.getsockname()))

    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    try:
        open(canary, "w").close()
        own_write = "written"
    except OSError as e:
        own_write = type(e).__name__
    print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "groups": os.getgroups(), "own_write": own_write}),
          flush=True)
    target = json.loads(sys.stdin.readline())
    endpoints = [tuple(e) for e in target["endpoints"]]
    found = {"http": {f"{h}:{p}": http(h, p) for h, p in endpoints}, "dask": asyncio.run(attack(endpoints,
             target["scheduler"]))}
    print(json.dumps(found), flush=True)
    """
)


class OtherUser:
    """The attacker's process: ``identity`` once it has dropped to the other uid; ``attack`` one run."""

    def __init__(self, user: pwd.struct_passwd, canary: Path):
        self.stderr = tempfile.TemporaryFile("w+")  # (Dask logs each refused handshake: not a pipe that could fill)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ATTACKER, str(user.pw_uid), str(user.pw_gid), str(canary)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "DASK_CONFIG": "/nonexistent"},
        )  # fmt: skip
        self.identity = json.loads(self._line())

    def _line(self, timeout: float = 120) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            self.stderr.seek(0)
            raise AssertionError(f"the other user's process said nothing: {self.stderr.read()[-3000:]}")
        return line

    def attack(self, endpoints: set[tuple[str, int]], scheduler: str) -> dict:
        self.proc.stdin.write(json.dumps({"endpoints": sorted(endpoints), "scheduler": scheduler}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def test_another_user_cannot_reach_a_local_grading_run(tmp_path, monkeypatch):
    """During a --dask-local run, can another uid connect to any endpoint, get HTTP, or run code? (It must not.)"""
    need_root("only root can become another uid to attack the run")
    other = pwd.getpwnam("nobody")  # the uid students' code runs as when grading as root: on every host
    root = copy_parts(tmp_path / "course", COPIED)
    frozen = tmp_path / "package"  # the package's digest from a copy, on the client and the workers (see test_dask)
    shutil.copytree(fingerprint.PACKAGE_DIR, frozen, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", frozen)
    assignment = Assignment(NAME, root=root)
    sub = tmp_path / "class" / "submitted"
    write_submission(build_submission(assignment), sub, "ada", NAME)  # the reference: full marks
    write_submission(build_submission(assignment, perfect=False), sub, "rel", NAME)  # the untouched release
    canary = tmp_path / "canary"  # tmp_path is root's alone: only the instructor's processes can write here

    attacker = OtherUser(other, canary)
    try:
        assert attacker.identity == {
            "uid": other.pw_uid, "euid": other.pw_uid, "groups": [], "own_write": "PermissionError"
        }  # fmt: skip
        before = listening(this_process_tree())  # (other fixtures' listeners, e.g. the loopback listener)
        pools: list[distributed.DaskPool] = []
        real_start = distributed.DaskPool.start
        monkeypatch.setattr(distributed.DaskPool, "start", lambda pool: (pools.append(pool), real_start(pool))[1])
        seen: dict = {}

        def on_progress(student, result, reused) -> None:  # the cluster is up and grading: attack it now
            if not seen:
                seen["endpoints"] = listening(this_process_tree()) - before
                seen["scheduler"] = pools[0].cluster.scheduler_address
                seen["attack"] = attacker.attack(seen["endpoints"], seen["scheduler"])

        preload = (
            "import autograder.run.fingerprint, pathlib\n"
            f"autograder.run.fingerprint.PACKAGE_DIR = pathlib.Path({str(frozen)!r})\n"
        )
        with dask.config.set({"distributed.worker.preload": [preload]}):
            outcome = pipeline.grade(assignment, Layout.beside(sub), Options(dask="local:2"), on_progress=on_progress)
    finally:
        attacker.close()

    # nothing of the other user's ran: no endpoint took its code, ...
    attack = seen["attack"]
    assert not canary.exists(), canary.read_text()
    for attempt, result in attack["dask"].items():
        assert not result["connected"], (attempt, result)
        assert result["error"][0] in REFUSED, (attempt, result)
    # ... every endpoint took the connection and answered no HTTP ...
    for endpoint, probe in attack["http"].items():
        assert probe["reached"] and not probe["reply"].startswith("HTTP/"), (endpoint, probe)
    # ... and they were all of the run's: the scheduler, two nannies, two workers, on loopback, TLS
    endpoints = seen["endpoints"]
    assert seen["scheduler"].startswith("tls://127.0.0.1:")
    assert ("127.0.0.1", int(seen["scheduler"].rsplit(":", 1)[1])) in endpoints
    assert len(endpoints) == 5 and {h for h, _ in endpoints} == {"127.0.0.1"}, endpoints
    assert sorted(attack["http"]) == sorted(f"{h}:{p}" for h, p in endpoints)
    # and the grades are the honest ones
    assert outcome.report.failed == {}
    results = outcome.report.results
    assert results["ada"].score == results["ada"].max_score > 0
    assert results["rel"].score == 0


def test_a_plain_tcp_scheduler_is_refused_unless_the_instructor_opts_in_loudly(tmp_path, capsys, monkeypatch):
    """Is --scheduler tcp:// refused before anything is read, and graded (with a red warning) only on request?"""
    sub = tmp_path / "submitted"
    write_submission(build_submission(Assignment(NAME)), sub, "ada", NAME)
    grade = ["grade", NAME, str(sub), "--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main(grade) == 1
    err = capsys.readouterr().err
    assert "refusing to grade on tcp://127.0.0.1:9: a tcp:// scheduler has no authentication" in " ".join(err.split())
    assert not (tmp_path / "grades").exists() and not (tmp_path / "autograded").exists()  # nothing was read

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", 1)
    assert cli.main([*grade, "--insecure-scheduler"]) == 1  # past the refusal: nothing listens on port 9
    err = " ".join(capsys.readouterr().err.split())
    assert "warning: --insecure-scheduler: grading on tcp://127.0.0.1:9 without TLS. Anyone who can reach" in err
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:9" in err
    # (and the TLS options without --scheduler are a mistake, not silently ignored)
    assert cli.main(["grade", NAME, str(sub), "--dask-local", "1", "--tls-ca-file", "ca.pem"]) == 1
    assert "--insecure-scheduler go with --scheduler ADDRESS" in " ".join(capsys.readouterr().err.split())


def test_tls_credentials_are_checked_before_connecting(tmp_path, monkeypatch):
    """Are missing, unreadable, world-readable or broken TLS credentials refused, saying what to do?"""
    monkeypatch.setenv("DASK_CONFIG", str(tmp_path / "no-config"))  # (no credentials from the user's config)
    address = "tls://10.0.0.2:8786"
    files = tls_files(Security.temporary(), tmp_path / "tls")
    with pytest.raises(BatchError, match="needs TLS credentials: give --tls-ca-file, --tls-cert and --tls-key"):
        client_security(address)
    with pytest.raises(BatchError, match=r"needs the course's CA \(--tls-ca-file\)"):
        client_security(address, cert=files["tls_cert"], key=files["tls_key"])
    with pytest.raises(BatchError, match=r"is not a readable file"):
        client_security(address, files["tls_ca_file"], tmp_path / "missing.pem", files["tls_key"])
    with pytest.raises(BatchError, match="is for a tcp:// scheduler"):
        client_security(address, files["tls_ca_file"], files["tls_cert"], files["tls_key"], insecure=True)
    files["tls_key"].chmod(0o644)
    with pytest.raises(BatchError, match=r"can be read by other users \(mode -rw-r--r--\).*chmod 600"):
        client_security(address, files["tls_ca_file"], files["tls_cert"], files["tls_key"])
    files["tls_key"].chmod(0o600)
    other = tls_files(Security.temporary(), tmp_path / "other")
    with pytest.raises(BatchError, match="could not load the TLS credentials"):  # a key that is not the cert's
        client_security(address, files["tls_ca_file"], files["tls_cert"], other["tls_key"])
    security = client_security(address, files["tls_ca_file"], files["tls_cert"], files["tls_key"])
    assert security.require_encryption and security.tls_client_cert == str(files["tls_cert"])
    assert client_security("tcp://10.0.0.2:8786", insecure=True) is None


def test_the_client_refuses_a_scheduler_the_course_ca_did_not_sign(tmp_path, monkeypatch):
    """A TLS scheduler with a certificate of its own (an impostor at the address): does grading refuse it?"""
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", 3)
    course = tls_files(Security.temporary(), tmp_path / "course-ca")
    with LocalCluster(n_workers=0, security=Security.temporary(), dashboard_address=None) as impostor:
        options = Options(dask=impostor.scheduler_address, **course)
        spec = GradingSpec.of(Assignment(NAME), "process")
        pool = distributed.DaskPool(impostor.scheduler_address, Assignment(NAME), options, spec)
        with pytest.raises(BatchError, match="at tls://.* TLS certificate does not match"):
            pool.connect()
        assert pool.client is None
