"""One student's notebook, loaded in a sandboxed worker, as graders see it.

``StudentSession`` runs the submission's cells in a worker and then answers calls
from the graders. It keeps grading going whatever the student's code does:

- a cell that raises is reported and skipped; later cells still run;
- a cell that hangs or kills the worker is reported, and the worker is restarted
  without it;
- a call that hangs or crashes fails that test only; the next call gets a fresh
  worker. After two time-outs in the same function, its remaining calls fail at
  once, so one infinite loop costs seconds, not minutes.

Every failure surfaces as a ``StudentCodeError`` whose message is written for the
student and never contains grader code or expected values.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .notebook import Submission
from .sandbox.harness.wire import RemoteRef
from .sandbox.process import Limits, WorkerDied, WorkerProcess, WorkerTimeout

MAX_RESTARTS = 12
TIMEOUT_STRIKES = 2
# Grader-provided helpers refuse arguments bigger than this, so a hostile call
# can't make the grader allocate gigabytes on the student's behalf.
HELPER_MAX_ELEMENTS = 2_000_000
HELPER_MAX_INT = 10_000


class StudentCodeError(Exception):
    """A call into student code failed; ``str(e)`` is the student-facing reason."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # not_implemented | exception | timeout | crashed | undefined | unavailable


@dataclass
class CallResult:
    value: Any
    args: list | None = None  # the arguments as they were after the call (mutation checks)
    kwargs: dict | None = None


class StudentSession:
    """A submission running in a sandbox; graders call into it by name."""

    def __init__(
        self,
        submission: Submission | None,
        assignment_dir: Path,
        limits: Limits,
        isolate: bool,
        graded: list[str],
        helpers: dict[str, Callable] | None = None,
        unavailable: str | None = None,
    ):
        self.submission = submission
        self.assignment_dir = assignment_dir
        self.limits = limits
        self.isolate = isolate
        self.graded = graded  # every graded name, for swapping in grader helpers
        self.helpers = helpers if helpers is not None else {}  # graders may fill it later
        self.unavailable = unavailable  # set when the notebook could not be read at all
        self.worker: WorkerProcess | None = None
        self.loaded = False  # the current worker has run the notebook's cells
        self.skip_cells: set[int] = set()
        self.cell_notes: dict[int, str] = {}  # cell -> what went wrong loading it
        self.defined: dict[str, str] | None = None  # names the notebook defines (first load)
        self.restarts = 0
        self.strikes: Counter = Counter()
        self.output_bytes = 0

    # --- loading ----------------------------------------------------------------------

    def start_in_background(self) -> None:
        """Start the worker and run the cells while the graders set themselves up.

        The process is spawned here, on the calling (main) thread: the launcher's
        parent-death signal follows the thread that spawned it. Only the waiting
        happens on the helper thread; any restart is left to ``ensure_started``.
        """
        if self.unavailable or self.worker is not None:
            return
        self.worker = WorkerProcess(self.assignment_dir, self.limits, self.isolate)
        self.worker.spawn()
        self._starter = threading.Thread(target=self._load, args=(self.worker,), name="sandbox-load", daemon=True)
        self._starter.start()

    def _load(self, worker: WorkerProcess) -> None:
        try:
            worker.wait_ready()
        except WorkerDied as e:
            self.unavailable = f"the sandbox could not start ({e.reason})"
            return
        if self._run_cells():
            self._loaded()

    def join_start(self) -> None:
        starter = getattr(self, "_starter", None)
        if starter is not None:
            starter.join()
            self._starter = None

    def ensure_started(self) -> WorkerProcess:
        """A live worker with the notebook's cells run, (re)starting one if needed."""
        self.join_start()
        if self.unavailable:
            raise StudentCodeError("unavailable", self.unavailable)
        if self.worker is not None and self.worker.alive() and self.loaded:
            return self.worker
        if self.loaded:  # a call killed the loaded worker: this is a restart
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise StudentCodeError("crashed", "skipped: your code crashed the grader's worker too many times")
        while True:  # a cell that kills the worker is dropped and loading starts over
            self._collect_output()
            self.worker = WorkerProcess(self.assignment_dir, self.limits, self.isolate)
            try:
                self.worker.start()
            except WorkerDied as e:
                self.unavailable = f"the sandbox could not start ({e.reason})"
                raise StudentCodeError("unavailable", self.unavailable) from None
            if self._run_cells():
                break
        self._loaded()
        return self.worker

    def _loaded(self) -> None:
        self.loaded = True
        if self.defined is None:  # first load: which names did the notebook define?
            self._check_names()

    def _run_cells(self) -> bool:
        """Run the planned cells; False if one killed the worker (it is then skipped).

        A problem is noted once per cell, however often the cells are replayed.
        """
        self.loaded = False
        for cell in self.submission.cells:
            if id(cell) in self.skip_cells:
                continue
            label = _cell_label(cell)
            try:
                reply = self.worker.request(
                    {"op": "exec_cell", "index": cell.index, "source": cell.source}, self.limits.cell_timeout
                )
            except WorkerTimeout:
                self.skip_cells.add(id(cell))
                self.cell_notes[id(cell)] = (
                    f"{label} did not finish within {self.limits.cell_timeout:g} s; it was skipped."
                )
                return False
            except WorkerDied as e:
                self.skip_cells.add(id(cell))
                self.cell_notes[id(cell)] = f"{label} ended the process: {e.reason}; it was skipped."
                return False
            if not reply.get("ok"):
                err = reply.get("error", {})
                if err.get("exit"):
                    note = f"{label} called exit(); the rest of that cell was skipped."
                else:
                    note = f"{label} raised {_error_text(err)}"
                self.cell_notes.setdefault(id(cell), note)
        return True

    def _check_names(self) -> None:
        try:
            reply = self.worker.request({"op": "names"}, self.limits.call_timeout)
            self.defined = dict(reply.get("names", {})) if reply.get("ok") else {}
        except (WorkerTimeout, WorkerDied):
            self.defined = {}

    @property
    def notes(self) -> list[str]:
        """What went wrong while loading the notebook, one line per cell, for feedback."""
        return list(self.cell_notes.values())

    def _collect_output(self) -> None:
        if self.worker is not None and not getattr(self.worker, "collected", False):
            self.worker.kill()
            self.output_bytes += self.worker.output()[1]
            self.worker.collected = True

    def close(self) -> None:
        self._collect_output()

    # --- calls ------------------------------------------------------------------------

    def call(
        self, name: str, *args: Any, return_args: bool = False, call_timeout: float | None = None, **kwargs: Any
    ) -> CallResult:
        """Call the student's ``name(*args, **kwargs)``; other graded functions it calls
        are answered by the grader's reference (see ``helpers``). ``call_timeout``
        overrides the time limit for this one call (e.g. a short training run)."""
        return self._call(name, {"name": name}, args, kwargs, return_args, call_timeout)

    def call_method(
        self,
        obj: RemoteRef,
        method: str,
        *args: Any,
        return_args: bool = False,
        call_timeout: float | None = None,
        **kwargs: Any,
    ) -> CallResult:
        """Call ``obj.method(*args, **kwargs)`` on an object living in the sandbox."""
        label = f"{obj.type.rsplit('.', 1)[-1]}.{method}"
        return self._call(label, {"handle": obj.id, "method": method}, args, kwargs, return_args, call_timeout)

    def ref(self, name: str) -> Any:
        """A name from the student's namespace: data comes back as data, anything else
        (a function, an initializer, a class) as a handle to pass back into calls."""
        worker = self.ensure_started()
        return self._request(name, worker, {"op": "ref", "name": name}, name).get("value")

    def getattr(self, obj: RemoteRef, attr: str) -> Any:
        worker = self.ensure_started()
        reply = self._request(attr, worker, {"op": "getattr", "handle": obj.id, "name": attr}, attr)
        return reply.get("value")

    def setattr(self, obj: RemoteRef, attr: str, value: Any) -> None:
        worker = self.ensure_started()
        self._request(attr, worker, {"op": "setattr", "handle": obj.id, "name": attr, "value": value}, attr)

    def describe(self, obj: RemoteRef) -> Any:
        worker = self.ensure_started()
        return self._request("describe", worker, {"op": "describe", "handle": obj.id}, "describe").get("value")

    def _call(
        self, label: str, target: dict, args: tuple, kwargs: dict, return_args: bool, timeout: float | None = None
    ) -> CallResult:
        fn = target.get("name") or label
        if self.strikes[fn] >= TIMEOUT_STRIKES:
            raise StudentCodeError(
                "timeout", f"skipped: `{fn}` already ran out of time {TIMEOUT_STRIKES} times (infinite loop?)"
            )
        worker = self.ensure_started()
        if "name" in target and target["name"] not in (self.defined or {}):
            raise StudentCodeError("undefined", self._undefined_message(target["name"]))
        isolate = [g for g in self.graded if g != target.get("name") and g in self.helpers]
        message = {"op": "call", **target, "args": list(args), "kwargs": kwargs,
                   "isolate": isolate, "return_args": return_args}  # fmt: skip
        reply = self._request(fn, worker, message, label, timeout)
        return CallResult(reply.get("value"), reply.get("args"), reply.get("kwargs"))

    def _request(self, fn: str, worker: WorkerProcess, message: dict, label: str, timeout: float | None = None) -> dict:
        timeout = timeout or self.limits.call_timeout
        try:
            reply = worker.request(message, timeout, on_callback=self._serve_helper)
        except WorkerTimeout:
            self.strikes[fn] += 1
            raise StudentCodeError(
                "timeout", f"`{label}` did not finish within {timeout:g} s (an infinite loop?)"
            ) from None
        except WorkerDied as e:
            raise StudentCodeError("crashed", f"`{label}` crashed: {e.reason}") from None
        if not reply.get("ok"):
            err = reply.get("error", {})
            if err.get("not_implemented"):
                raise StudentCodeError(
                    "not_implemented", f"`{label}` is not implemented yet (it raises NotImplementedError)"
                )
            if err.get("exit"):
                raise StudentCodeError("exception", f"`{label}` called exit() instead of returning")
            raise StudentCodeError("exception", f"`{label}` raised {_error_text(err)}")
        return reply

    def _undefined_message(self, name: str) -> str:
        hint = ""
        if self.submission and name not in self.submission.answers:
            hint = " Its answer cell is missing from the notebook."
        return f"`{name}` is not defined by your notebook.{hint}"

    def _serve_helper(self, message: dict) -> dict:
        """Answer a graded helper the student's code called, with the reference."""
        name = message.get("name")
        fn = self.helpers.get(name)
        if fn is None:
            return {"ok": False, "message": "not available"}
        args, kwargs = message.get("args") or [], message.get("kwargs") or {}
        if not isinstance(args, list) or not isinstance(kwargs, dict) or not _small(args + list(kwargs.values())):
            return {"ok": False, "message": "arguments too large or of an unexpected type"}
        try:
            return {"ok": True, "value": fn(*args, **kwargs)}
        except Exception as e:  # the message is the reference's; keep only the type
            return {"ok": False, "message": type(e).__name__}

    def output_summary(self) -> str | None:
        if self.output_bytes > 64 * 1024:
            return f"Your code printed {self.output_bytes:,} bytes while being graded; the output was ignored."
        return None


def _small(values: list) -> bool:
    for v in values:
        if isinstance(v, np.ndarray) and v.size > HELPER_MAX_ELEMENTS:
            return False
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and abs(int(v)) > HELPER_MAX_INT:
            return False
        if isinstance(v, (list, tuple)) and not _small(list(v)):
            return False
        if isinstance(v, dict) and not _small(list(v.values())):
            return False
    return True


def _cell_label(cell: Any) -> str:
    if cell.role == "answer":
        return f"The answer cell for `{cell.grade_id}`"
    if cell.role == "setup":
        return f"The set-up cell `{cell.grade_id}`"
    return f"Cell {cell.index + 1}"


def _error_text(err: dict) -> str:
    where = f" ({err['where']})" if err.get("where") else ""
    message = str(err.get("message", ""))[:300]
    return f"{err.get('type', 'an error')}: {message}{where}" if message else f"{err.get('type', 'an error')}{where}"
