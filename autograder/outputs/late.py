"""The late policy: a due date and assignment.toml's ``[late]``, turning a raw score into a final one.

Submission times come from sources the student can't write (``run/times.py``); a result
without a trusted time *needs review* and is scored as if submitted when the grader first
saw it (``LatePolicy.apply``), never as on time. The penalty is applied when results are
finished, never saved: results.json keeps the raw grade, so a new due date needs no
re-grading (editing assignment.toml does: the whole file is in the fingerprint).

Decision: the late penalty applies to the whole submission, manual points included,
as nbgrader's late-submission plugins do (they take points off the notebook's total).
A percentage penalty (of the max score) is the same before and after manual grading;
only a penalty capped at the score, or the cutoff's "everything", grows with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from autograder.outputs.results import Late, StudentResult
from autograder.run.times import FIRST_SEEN


@dataclass(frozen=True)
class LatePolicy:
    """A due date (naive UTC, as nbgrader's gradebook keeps it) and assignment.toml's ``[late]``.

    Lateness counts from the due date; within ``grace_minutes`` of it there is no penalty.
    Past the grace: ``penalty_per_hour`` (or ``_per_day``) of the max score for every
    started hour (day), as nbgrader's SubtractPlugin counts, at most ``max_penalty`` of
    the max score, and never below 0 points. Past ``cutoff_hours``: 0 points.
    """

    due: datetime
    penalty_per_hour: float = 0.0
    penalty_per_day: float = 0.0
    max_penalty: float = 1.0
    cutoff_hours: float | None = None
    grace_minutes: float = 0.0

    @classmethod
    def of(cls, table: Mapping[str, float], due: datetime | None) -> LatePolicy | None:
        """The policy for ``due`` and a checked ``[late]`` table; None without a due date."""
        if due is None:
            return None
        if due.tzinfo is not None:
            due = due.astimezone(UTC).replace(tzinfo=None)
        return cls(due, **{k: float(v) for k, v in table.items()})

    def late(self, raw: float, max_score: float, timestamp: datetime | None) -> Late:
        """What the policy does to ``raw`` of ``max_score`` submitted at ``timestamp``; with no time
        at all, the largest penalty it can give (never: on time)."""
        if timestamp is None:
            if self.cutoff_hours is not None:
                return Late(raw, raw, None, cutoff=True)
            rate = self.penalty_per_day or self.penalty_per_hour
            return Late(raw, round(min(self.max_penalty * max_score, raw), 9) if rate else 0.0, None)
        hours = max(0.0, (timestamp - self.due).total_seconds() / 3600)
        if hours == 0:
            return Late(raw, 0.0, 0.0)
        if hours * 60 <= self.grace_minutes:
            return Late(raw, 0.0, hours, grace=True)
        if self.cutoff_hours is not None and hours > self.cutoff_hours:
            return Late(raw, raw, hours, cutoff=True)
        rate, units = (
            (self.penalty_per_day, math.ceil(round(hours / 24, 9)))
            if self.penalty_per_day
            else (self.penalty_per_hour, math.ceil(round(hours, 9)))
        )
        penalty = min(rate * units, self.max_penalty) * max_score
        return Late(raw, round(min(penalty, raw), 9), hours)

    def apply(self, result: StudentResult) -> StudentResult:
        """``result`` (raw, as graded) with its final score and what the policy did.

        The time, in order: a notebook the grader first saw at or before the due date is on
        time; else the trusted time (``result.timestamp``: the times file, or a plausible
        timestamp.txt the instructor chose to trust), never later than the first sighting;
        else the time *needs review* and the result is scored as if submitted when the grader
        first saw it (an upper bound), or with the largest penalty if it never saw it.
        """
        time = result.time
        seen = time.seen if time else None
        raw, top = result.score, result.max_score
        errors = result.errors
        if seen is not None and seen.first <= self.due:  # the grader had it by the due date
            late = replace(self.late(raw, top, seen.first), at=seen.first, source=FIRST_SEEN)
        elif result.timestamp is not None:
            at = min(result.timestamp, seen.first) if seen is not None else result.timestamp
            late = replace(self.late(raw, top, at), at=at, source=time.source if time else "")
        else:
            why = (time.problem if time else "") or "no submission time was found"
            at = seen.first if seen is not None else None
            late = replace(self.late(raw, top, at), at=at, source=FIRST_SEEN if at else "", review=why)
            errors = (*errors, review_message(late))
        return replace(result, score=round(raw - late.penalty, 9), errors=errors, late=late)


def review_message(late: Late) -> str:
    """What a student whose submission time needs review reads (in errors, so in the feedback)."""
    if late.at is None:
        scored = "it is scored with the largest late penalty"
    else:
        scored = f"it is scored as if submitted when the grader first saw it, {late.at:%Y-%m-%d %H:%M} UTC"
        scored += f" ({duration(late.hours_late)} after the due date)" if late.hours_late else ""
    return (
        f"Your submission time needs review by your instructor: {late.review}. Until it is reviewed, {scored}. "
        f"If you submitted on time, tell your instructor when and how (the time your LMS or `nbgrader submit` showed)."
    )


def describe(late: Late) -> str:
    """For the feedback page, after "Score: 72 / 100": "raw 80, submitted 2 h 10 min late: −8"."""
    if late.review:
        when = "submission time needs review"
        if late.hours_late:
            when += f", scored as {duration(late.hours_late)} late"
        elif late.hours_late is None:
            when += ", scored with the largest late penalty"
        return f"raw {late.raw_score:g}, {when}: −{late.penalty:g}" if late.penalty else when
    if not late.hours_late:
        return ""
    when = f"submitted {duration(late.hours_late)} late"
    if late.grace:
        return f"{when}, within the grace period: no penalty"
    if not late.penalty and not late.cutoff:
        return f"{when}: no penalty"
    cut = ", after the cutoff" if late.cutoff else ""
    return f"raw {late.raw_score:g}, {when}{cut}: −{late.penalty:g}"


def duration(hours: float) -> str:
    """2.1667 -> '2 h 10 min'; whole minutes, rounded up (1 s late is '1 min')."""
    minutes = math.ceil(round(hours * 60, 6))
    days, rest = divmod(minutes, 24 * 60)
    parts = [f"{days} d"] if days else []
    if rest // 60:
        parts.append(f"{rest // 60} h")
    if rest % 60 or not parts:
        parts.append(f"{rest % 60} min")
    return " ".join(parts)
