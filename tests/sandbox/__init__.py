"""Sandbox tests: shared helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from autograder.sandbox import warm
from autograder.sandbox.limits import Limits


@contextlib.contextmanager
def warm_template(folder: Path, env: dict | None = None, modules: tuple[str, ...] = ("numpy",)) -> Iterator:
    """A started sandbox template for ``folder`` (workers whose limits have this ``env``): a
    ``WorkerProcess(folder, ..., template=it)`` forks from it, as a warm grader's workers do."""
    template = warm.SandboxTemplate(folder, Limits(env=env or {}), list(modules))
    template.start()
    try:
        yield template
    finally:
        template.close()
