"""The grader process: the pytest plugin, the grading spec it runs under, and the student's sandboxed session."""
