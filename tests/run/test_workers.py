"""``--workers``: N or auto on the command line, auto by default (auto_workers: tests/run/test_pools.py)."""

from __future__ import annotations

import argparse

import pytest

from autograder import cli


@pytest.mark.parametrize("text", ["0", "-2", "two", "1.5"])
def test_a_bad_number_of_workers_is_refused_by_the_parser(text):
    """Is --workers 0 (or text) refused with what to give instead?"""
    with pytest.raises(argparse.ArgumentTypeError, match="whole number from 1, or auto"):
        cli.workers_arg(text)
    assert cli.workers_arg("auto") == "auto" and cli.workers_arg("3") == 3


def test_grade_defaults_to_auto():
    """Is `autograder grade` without --workers run with auto?"""
    args = cli.build_parser().parse_args(["grade", "cnn_step_by_step", "submitted"])
    assert args.workers == "auto"
