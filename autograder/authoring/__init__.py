"""Tools for grader authors and tests, never run while grading: the catalogue, demo submissions, the scaffold."""
