"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package, started once a session.

``initdb`` makes a fresh cluster in a temporary folder; ``pg_ctl`` starts it on a free
port of 127.0.0.1 (and a unix socket in the same folder), with ``trust`` authentication
for the one local user, so no password is involved; the session's end stops it and
removes the folder. As root, initdb and postgres refuse to run, so the server then runs
as the ``postgres`` user (Debian's package makes it) via ``runuser``, and the folder
is that user's. Each test asks for a database of its own (``PostgresServer.database``).

Import the fixture where it is used: ``from tests.postgres import postgres  # noqa: F401``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import need_program

USER = "autograder"  # the cluster's superuser (initdb -U); not a system account


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    folder: Path
    port: int
    as_user: list[str]  # the command prefix that runs a program as the server's owner

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        command = [*self.as_user, str(self.bin_dir / program), *args]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        assert proc.returncode == 0, f"{program} failed: {proc.stdout}{proc.stderr}"
        return proc

    def database(self, name: str) -> str:
        """A new, empty database ``name``; its URL."""
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)


@pytest.fixture(scope="session")
def postgres():
    pg_ctl = Path(need_program("/usr/lib/postgresql/*/bin/pg_ctl", "postgresql"))
    folder = Path(tempfile.mkdtemp(prefix="autograder-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = [need_program("runuser", "util-linux"), "-u", "postgres", "--"]
    server = PostgresServer(pg_ctl.parent, folder, free_port(), as_user)
    server.run("initdb", "-D", str(server.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        server.run("pg_ctl", "-D", str(server.data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        yield server
    finally:
        subprocess.run([*as_user, str(pg_ctl), "-D", str(server.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, cwd=folder)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
