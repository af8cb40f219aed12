"""`autograder demo`: the main job on the bundled example class, start to finish.

1. regenerate release/cnn_step_by_step from source/ (nbgrader)
2. grade examples/submitted/*/cnn_step_by_step (sandboxed, in parallel)
3. print the table, who each example student is, and where the feedback is
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from autograder.course.assignments import Assignment, course_root
from autograder.course.release import generate
from autograder.run.batch import Layout, Options

DEMO_ASSIGNMENT = "cnn_step_by_step"
console = Console(highlight=False)


def run_demo(args: argparse.Namespace, grade_and_report: Callable[..., int]) -> int:
    root = course_root(args.course)
    examples = root / "examples"
    assignment = Assignment(DEMO_ASSIGNMENT, root=root)
    console.rule("[bold]1/2  release")
    out = generate(assignment)
    console.print(f"regenerated {out.relative_to(root)}/ from source/ with nbgrader")
    console.rule("[bold]2/2  grade the example class")
    layout = Layout.beside(examples / "submitted")
    options = Options(workers=args.workers, force=args.force)
    args.json = examples / "grades" / f"{DEMO_ASSIGNMENT}.json"
    code = grade_and_report(assignment.check(), layout, options, args)
    roster = examples / "roster.json"
    if roster.exists():
        console.print("\n[bold]Who is who[/] (examples/roster.json):")
        for student, about in json.loads(roster.read_text()).items():
            console.print(f"  [bold]{student:6}[/] {escape(about)}")
    console.print(
        f"\nOpen a feedback page, e.g. {layout.feedback / 'ada' / DEMO_ASSIGNMENT / (DEMO_ASSIGNMENT + '.html')}"
    )
    # exit code 2 means "some notebooks were bad input": the example class has some on purpose
    return 0 if code in (0, 2) else code
