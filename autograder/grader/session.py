"""One student's notebook, loaded in a sandboxed worker, as graders see it.

``StudentSession`` runs the submission's cells in a worker and then answers calls
from the graders. It keeps grading going whatever the student's code does:

- a cell that raises is reported and skipped; later cells still run;
- a cell that hangs or kills the worker is reported, and the worker is restarted
  without it;
- a call that hangs or crashes fails that test only; the next call gets a fresh
  worker. After two time-outs in the same function, its remaining calls fail at
  once, so one infinite loop costs seconds, not minutes;
- everything the submission's code does together (starting the sandbox, cells,
  calls, restarts) shares one time budget (``budget.py``);
- calls the student's code makes to other graded functions are answered by the
  grader only as ``stand_ins.py`` allows: the declared dependencies of the function
  under test, at a bounded cost. Any other request fails the call it came from.

Every failure surfaces as a ``StudentCodeError`` (``failures.py``) whose message is
written for the student and never contains grader code or expected values.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.course.notebook import Submission
from autograder.grader import failures
from autograder.grader import stand_ins as stand_in_gate
from autograder.grader.budget import BudgetSpent, TimeBudget
from autograder.grader.failures import StudentCodeError
from autograder.sandbox.channel import WorkerDied, WorkerTimeout
from autograder.sandbox.forked import Forked, Template
from autograder.sandbox.harness.wire import RemoteRef
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess

MAX_RESTARTS = 12
TIMEOUT_STRIKES = 2


@dataclass
class CallResult:
    """What a call into student code returned."""

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
        helpers: dict[str, Callable] | None = None,
        unavailable: str | None = None,
        stand_ins: dict[str, tuple[str, ...]] | None = None,
        template: Template | None = None,
    ):
        self.submission = submission
        self.assignment_dir = assignment_dir
        self.limits = limits
        self.isolate = isolate
        self.helpers = helpers if helpers is not None else {}  # graders may fill it later
        self.stand_ins = stand_ins or {}  # function -> graded functions the grader may answer for
        self.unavailable = unavailable  # set when the notebook could not be read at all
        self.template = template  # the warm grader's sandbox template its workers fork from (None: cold)
        self.worker: WorkerProcess | None = None
        self.loaded = False  # the current worker has run the notebook's cells
        self.skip_cells: set[int] = set()
        self.cell_notes: dict[int, str] = {}  # cell -> what went wrong loading it
        self.defined: dict[str, str] | None = None  # names the notebook defines (first load)
        # every load that served calls: position in submission.cells -> "ok" | "raised" (a cell
        # not in it did not run in that load); cells_run.record turns them into results' cells_run
        self.loads: list[dict[int, str]] = []
        self.restarts = 0
        self.starts: Counter = Counter()  # sandboxes started: "warm" (from a template) or "cold"
        self.strikes: Counter = Counter()
        self.output_bytes = 0
        self.budget = TimeBudget(limits.budget_seconds)
        self.refusals: list[str] = []  # helper requests refused during the current call

    @property
    def spent(self) -> float:
        """Seconds of the time budget the submission's code has used so far."""
        return self.budget.spent

    # --- loading ----------------------------------------------------------------------

    def start_in_background(self) -> None:
        """Start the worker and run the cells while the graders set themselves up.

        The process is spawned here, on the calling (main) thread: the launcher's
        parent-death signal follows the thread that spawned it. Only the waiting
        happens on the helper thread; any restart is left to ``ensure_started``.
        """
        if self.unavailable or self.worker is not None:
            return
        self.worker = WorkerProcess(self.assignment_dir, self.limits, self.isolate, self.template)
        self.worker.spawn()
        self._count_start()
        self._starter = threading.Thread(target=self._load, args=(self.worker,), name="sandbox-load", daemon=True)
        self._starter.start()

    def _count_start(self) -> None:
        """Count how the worker just started: forked from a warm grader's template, or cold."""
        if self.worker is not None and self.worker.proc is not None:
            self.starts["warm" if isinstance(self.worker.proc, Forked) else "cold"] += 1

    def _load(self, worker: WorkerProcess) -> None:
        started = time.monotonic()
        try:
            worker.wait_ready(self.budget.allow(self.limits.startup_timeout)[0])
        except WorkerDied as e:
            self.unavailable = f"the sandbox could not start ({e.reason})"
            return
        finally:
            self.budget.spend_since(started)
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
        if self.budget.used_up:
            raise StudentCodeError("budget", self.budget.message())
        if self.worker is not None and self.worker.alive() and self.loaded:
            return self.worker
        if self.loaded:  # a call killed the loaded worker: this is a restart
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise StudentCodeError("crashed", "skipped: your code crashed the grader's worker too many times")
        while True:  # a cell that kills the worker is dropped and loading starts over
            self._collect_output()
            self.worker = WorkerProcess(self.assignment_dir, self.limits, self.isolate, self.template)
            started = time.monotonic()
            try:
                self.worker.start(self.budget.allow(self.limits.startup_timeout)[0])
            except BudgetSpent:
                raise StudentCodeError("budget", self.budget.message()) from None
            except WorkerDied as e:
                self.unavailable = f"the sandbox could not start ({e.reason})"
                raise StudentCodeError("unavailable", self.unavailable) from None
            finally:
                self.budget.spend_since(started)
                self._count_start()
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
        ran: dict[int, str] = {}
        for position, cell in enumerate(self.submission.cells):
            if id(cell) in self.skip_cells:
                continue
            label = failures.cell_label(cell)
            started = time.monotonic()
            try:
                timeout, by_budget = self.budget.allow(self.limits.cell_timeout)
                reply = self.worker.request({"op": "exec_cell", "index": cell.index, "source": cell.source}, timeout)
            except BudgetSpent:  # one note for all the cells left
                self.cell_notes.setdefault(
                    "budget", f"{label} and the cells after it were not run: {self.budget.message()}."
                )
                self.loads.append(ran)
                return True
            except WorkerTimeout:
                self.skip_cells.add(id(cell))
                self.cell_notes[id(cell)] = (
                    f"{label} was stopped: {self.budget.message()}."
                    if by_budget
                    else f"{label} did not finish within {self.limits.cell_timeout:g} s; it was skipped."
                )
                return False
            except WorkerDied as e:
                self.skip_cells.add(id(cell))
                self.cell_notes[id(cell)] = f"{label} ended the process: {e.reason}; it was skipped."
                return False
            finally:
                self.budget.spend_since(started)
            ran[position] = "ok" if reply.get("ok") else "raised"
            if not reply.get("ok"):
                self.cell_notes.setdefault(id(cell), failures.cell_note(label, reply))
        self.loads.append(ran)
        return True

    def _check_names(self) -> None:
        started = time.monotonic()
        try:
            reply = self.worker.request({"op": "names"}, self.budget.allow(self.limits.call_timeout)[0])
            names = reply.get("names") if reply.get("ok") else None
            self.defined = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
        except (WorkerTimeout, WorkerDied, BudgetSpent):
            self.defined = {}
        finally:
            self.budget.spend_since(started)

    @property
    def notes(self) -> list[str]:
        """What went wrong while loading the notebook, one line per cell, for feedback."""
        notes = list(self.cell_notes.values())
        if self.budget.used_up and "budget" not in self.cell_notes:
            notes.append(self.budget.message().removeprefix("skipped: ").capitalize() + ".")
        return notes

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

    def fill_weights(self, obj: RemoteRef, shapes: list[tuple], salt: int = 0) -> dict:
        """Give a model in the sandbox the grader's weights for ``shapes`` (``harness/weights.py``),
        made in the worker: ``{"filled": True}``, or ``{"filled": False, "shapes": [...]}`` with the
        shapes the model says it holds (for a message, never for points)."""
        worker = self.ensure_started()
        message = {"op": "fill_weights", "handle": obj.id, "shapes": [list(s) for s in shapes], "salt": salt}
        reply = self._request("set_weights", worker, message, f"{obj.type.rsplit('.', 1)[-1]}.set_weights")
        return {"filled": reply.get("filled") is True, "shapes": reply.get("shapes")}

    def release(self, *objs: Any, everything: bool = False) -> None:
        """Let the worker drop objects the graders are done with, if it still runs: ``objs`` (a whole
        model: freed at once, with a garbage collection in the worker), or ``everything`` it holds for
        them (every handle then goes stale; freed at the worker's next collection)."""
        ids = [o.id for o in objs if isinstance(o, RemoteRef)]
        if not (ids or everything) or self.worker is None or not self.worker.alive() or not self.loaded:
            return
        message = {"op": "release", "ids": ids, "all": everything, "collect": bool(ids)}
        try:
            self._request("release", self.worker, message, "release")
        except StudentCodeError:
            pass  # nothing to free in a worker that failed: a fresh one holds none of them

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
            raise failures.undefined(target["name"], self.submission)
        # only the declared dependencies of the function called, and only those the
        # graders answer right now (keras graders fill ``helpers`` test by test)
        isolate = [g for g in self.stand_ins.get(target.get("name"), ()) if g in self.helpers]
        message = {"op": "call", **target, "args": list(args), "kwargs": kwargs,
                   "isolate": isolate, "return_args": return_args}  # fmt: skip
        reply = self._request(fn, worker, message, label, timeout, stand_ins=isolate)
        return CallResult(reply.get("value"), reply.get("args"), reply.get("kwargs"))

    def _request(
        self,
        fn: str,
        worker: WorkerProcess,
        message: dict,
        label: str,
        timeout: float | None = None,
        stand_ins: list[str] | tuple = (),
    ) -> dict:
        """Send one request to student code and check the reply, within the budget.

        Helper requests are answered only for ``stand_ins`` (see ``stand_ins.py``);
        a refused request fails this call even if the student's code caught it."""
        timeout = timeout or self.limits.call_timeout
        self.refusals = []
        allowed, graded = set(stand_ins), message.get("name") or label
        started = time.monotonic()
        try:
            timeout, by_budget = self.budget.allow(timeout)
            reply = worker.request(message, timeout, on_callback=lambda m: self._serve_helper(m, allowed, graded))
        except BudgetSpent:
            raise StudentCodeError("budget", self.budget.message()) from None
        except WorkerTimeout:
            if by_budget:
                raise StudentCodeError("budget", f"`{label}` was stopped: {self.budget.message()}") from None
            self.strikes[fn] += 1
            raise StudentCodeError(
                "timeout", f"`{label}` did not finish within {timeout:g} s (an infinite loop?)"
            ) from None
        except WorkerDied as e:
            raise StudentCodeError("crashed", f"`{label}` crashed: {e.reason}") from None
        finally:
            self.budget.spend_since(started)
        if self.refusals:
            raise StudentCodeError("refused", f"`{label}` failed: {self.refusals[0]}.")
        if not reply.get("ok"):
            raise failures.call_error(label, reply)
        return reply

    def _serve_helper(self, message: dict, allowed: set[str], graded: str | None) -> dict:
        """Answer a graded helper the student's code called (``stand_ins.serve``); a refusal fails the call."""
        reply, refused = stand_in_gate.serve(message, self.helpers, allowed, graded)
        if refused is not None and not self.refusals:  # the first one is the reason; a flood adds nothing
            self.refusals.append(refused)
        return reply

    def output_summary(self) -> str | None:
        if self.output_bytes > 64 * 1024:
            return f"Your code printed {self.output_bytes:,} bytes while being graded; the output was ignored."
        return None
