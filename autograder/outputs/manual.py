"""Manually graded cells: the instructor's scores from nbgrader's gradebook, added to a result's totals.

Written answers and tasks (``results.ManualResult``) are scored in formgrader
(``Grade.manual_score``). Their scores are added when results are finished
(``ManualGrades.apply``, before the late policy), never saved nor fingerprinted, so grading
a written answer needs no re-grading. Then ``max_score`` counts every manual cell's points
and ``score`` the manual points given so far; until every manual cell has a score the result
says ``needs manual grading`` (``StudentResult.status``) and ``manual_pending`` points may
still come.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from autograder.outputs.results import ManualResult, StudentResult


@dataclass(frozen=True)
class ManualGrades:
    """The assignment's manually graded cells and what the gradebook holds for them.

    ``cells``: grade_id -> (points, kind), from the instructor's notebook (as checked by
    ``Assignment.check_points``). ``scores``: student -> grade_id -> the score given in
    formgrader; a cell without one is still to be graded.
    """

    cells: Mapping[str, tuple[float, str]]
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def apply(self, result: StudentResult) -> StudentResult:
        """``result`` (autograded only) with every manual cell, its score if given, in the totals."""
        given = self.scores.get(result.student, {})
        manual = {gid: ManualResult(points, given.get(gid), kind) for gid, (points, kind) in self.cells.items()}
        scored = sum(m.score for m in manual.values() if m.score is not None)
        return replace(result, score=round(result.score + scored, 9),
                       max_score=round(result.max_score + sum(m.max_score for m in manual.values()), 9),
                       manual=manual)  # fmt: skip
