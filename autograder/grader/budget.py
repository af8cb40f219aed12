"""The one time budget all of a submission's code shares: what each wait may take, and what to say once it is spent.

Starting the sandbox, cells, calls and restarts all draw on ``Limits.budget_seconds``: every
wait is clipped to what is left, and once it is spent the remaining checks fail at once. So
the most one submission can add to a batch is its budget plus the grader's own fixed costs
(docs/sandbox.md).
"""

from __future__ import annotations

import time


class BudgetSpent(Exception):
    """The submission's time budget is used up; nothing more of its code runs."""


class TimeBudget:
    """``seconds`` for all of one submission's code together, and the seconds ``spent`` so far."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.spent = 0.0

    def allow(self, timeout: float) -> tuple[float, bool]:
        """(time this wait may take, whether the budget rather than ``timeout`` set it); BudgetSpent if none is left."""
        left = self.seconds - self.spent
        if left <= 0:
            raise BudgetSpent
        return min(timeout, left), left < timeout

    def spend_since(self, started: float) -> None:
        """Count the time since ``started`` (``time.monotonic()``) as spent."""
        self.spent += time.monotonic() - started

    @property
    def used_up(self) -> bool:
        return self.spent >= self.seconds

    def message(self) -> str:
        """Why the remaining checks were not run, for the student."""
        return (
            f"skipped: your code used up its time budget ({self.seconds:g} s for all cells "
            f"and calls together), so the remaining checks were not run"
        )
