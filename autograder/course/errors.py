"""The error every problem with a course folder, an assignment or its declaration raises."""


class AssignmentError(Exception):
    """An assignment name that doesn't exist, a course folder that is incomplete, or a declaration
    (assignment.toml) that is wrong; the message says what, where, and what to do next."""
