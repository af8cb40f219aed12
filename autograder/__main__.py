"""``python -m autograder`` is the same as the ``autograder`` command.

Run by a Python without the course's dependencies (the system ``python3`` rather than
``.venv/bin/python``), the import of the CLI fails on its first third-party module. That
is reported in one line naming the missing module and the command that works, not as a
traceback (the ``autograder`` console script in ``.venv/bin`` always runs the venv's
Python, so it never gets here without its dependencies).
"""

import sys
from pathlib import Path


def missing_dependency_message(module: str, python: str, course: Path) -> str:
    """One line: which module this Python lacks, and the command that works instead."""
    venv_tool = course / ".venv" / "bin" / "autograder"
    args = " ".join(sys.argv[1:]) or "--help"
    if venv_tool.exists():
        then = f"run `{venv_tool} {args}` (or activate it: `source {course / '.venv/bin/activate'}`)"
    else:
        then = f"run `make demo` in {course} once (it builds .venv), then `{venv_tool} {args}`"
    return (f"autograder: this Python ({python}) lacks the package `{module}`: autograder needs its virtual "
            f"environment; {then}.")  # fmt: skip


try:
    from autograder.cli import main
except ModuleNotFoundError as e:
    missing = (e.name or "").split(".")[0]
    if not missing or missing == __package__:  # our own code is broken: show the real error
        raise
    print(missing_dependency_message(missing, sys.executable, Path(__file__).resolve().parents[1]), file=sys.stderr)
    sys.exit(1)

sys.exit(main())
