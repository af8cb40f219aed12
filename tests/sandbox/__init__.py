"""Sandbox tests: shared helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from autograder.sandbox import warm


@contextlib.contextmanager
def warm_template(folder: Path, env: dict | None = None, modules: tuple[str, ...] = ("numpy",)) -> Iterator:
    """While inside: WorkerProcess(folder, ...) forks from a sandbox template, as a warm grader's do."""
    template = warm.SandboxTemplate(folder, env or {}, list(modules))
    template.start()
    warm.use_template(template)
    try:
        yield template
    finally:
        warm.use_template(None)
        template.close()
