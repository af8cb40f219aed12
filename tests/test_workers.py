"""``--workers auto``: one grading per core, as many as the memory holds sandboxes, and printed."""

from __future__ import annotations

import argparse

import pytest

from autograder import cli
from autograder.run.batch import auto_workers

GiB = 2**30


@pytest.mark.parametrize(
    "cores, memory, limit, expected",
    [
        (2, 24 * GiB, 2 * GiB, 2),  # this machine: the cores decide
        (64, 24 * GiB, 2 * GiB, 12),  # a big machine: the memory decides
        (8, 3 * GiB, 4 * GiB, 1),  # less memory than one sandbox may use: still one
        (4, 0, 2 * GiB, 4),  # memory unknown: the cores
    ],
)
def test_auto_takes_the_smaller_of_cores_and_sandboxes_that_fit(cores, memory, limit, expected):
    """Is auto min(cores, available memory / sandbox limit), at least 1, with the reason?"""
    workers, why = auto_workers(limit, cores=cores, memory=memory)
    assert workers == expected and f"{cores} cores" in why
    if memory:
        assert f"{limit / GiB:g} GiB per sandbox" in why


def test_auto_on_this_machine_is_at_least_one_and_at_most_its_cores():
    """Does auto read this machine's cores and memory?"""
    import os

    workers, why = auto_workers(2 * GiB)
    assert 1 <= workers <= len(os.sched_getaffinity(0)) and "GiB available" in why


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
