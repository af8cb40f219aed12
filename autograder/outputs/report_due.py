"""The due date ``autograder report`` uses by default: the gradebook's, read without ever creating a gradebook."""

from __future__ import annotations

import datetime as dt

from autograder.course.assignments import Assignment
from autograder.run.layout import Layout
from autograder.run.options import BatchError


def gradebook_due(assignment: Assignment, layout: Layout, url: str | None = None) -> dt.datetime | None:
    """The assignment's ``duedate`` in the gradebook (``url``, else gradebook.db beside SUBMISSIONS, if
    there is one: the report never creates a gradebook); None without one. BatchError if it can't be read."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.outputs.gradebook import GradebookError, check_url, default_url

    course = layout.submitted.parent
    if url is None:
        if not (course / "gradebook.db").is_file():
            return None
        url = default_url(course)
    try:
        check_url(url, course)
        with Gradebook(url) as gb:
            return gb.find_assignment(assignment.name).duedate
    except MissingEntry:
        return None
    except GradebookError as e:
        raise BatchError(str(e)) from None
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = (str(e).strip().splitlines() or [""])[0][:300]
        raise BatchError(f"the gradebook {url} could not be read ({type(e).__name__}: {reason})") from e
