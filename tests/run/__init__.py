"""Unit tests of the class run on the host (autograder/run/): no sandbox, no grading."""
