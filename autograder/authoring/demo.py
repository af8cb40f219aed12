"""`autograder demo`: the main job on the bundled example class, start to finish.

1. regenerate release/cnn_step_by_step from source/ (nbgrader), as ``autograder release`` does
   (``release.release_assignment``: the declared points written into source/ first, where it differs)
2. grade examples/submitted/*/cnn_step_by_step (sandboxed, in parallel)
3. print the table, who each example student is, and where the feedback is

It grades through the same API as ``autograder grade`` (``console.grade_and_report``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape
from rich.text import Text

from autograder import console
from autograder.course import release
from autograder.course.assignments import Assignment
from autograder.run.layout import Layout
from autograder.run.options import Options

DEMO_ASSIGNMENT = "cnn_step_by_step"


def run_demo(root: Path, workers: int | str = "auto", force: bool = False) -> int:
    """Release and grade the example class of the course at ``root``; the exit code (0 unless the run failed)."""
    examples = root / "examples"
    assignment = Assignment(DEMO_ASSIGNMENT, root=root)
    console.out.rule("[bold]1/2  release")

    def say_points_written(assignment: Assignment) -> None:
        source = assignment.source_notebook.relative_to(root)
        console.out.print(Text(f"wrote the points of {assignment.declaration.relative_to(root)} into {source}"))

    out = release.release_assignment(assignment, say_points_written)
    console.out.print(f"regenerated {out.relative_to(root)}/ from source/ with nbgrader")
    console.out.rule("[bold]2/2  grade the example class")
    layout = Layout.beside(examples / "submitted")
    options = Options(workers=workers, force=force)
    code = console.grade_and_report(
        assignment.check(), layout, options, json=examples / "grades" / f"{DEMO_ASSIGNMENT}.json"
    )
    roster = examples / "roster.json"
    if roster.exists():
        console.out.print("\n[bold]Who is who[/] (examples/roster.json):")
        for student, about in json.loads(roster.read_text()).items():
            console.out.print(f"  [bold]{student:6}[/] {escape(about)}")
    console.out.print(
        f"\nOpen a feedback page, e.g. {layout.feedback / 'ada' / DEMO_ASSIGNMENT / (DEMO_ASSIGNMENT + '.html')}"
    )
    # exit code 2 means "some notebooks were bad input": the example class has some on purpose
    return 0 if code in (0, 2) else code
