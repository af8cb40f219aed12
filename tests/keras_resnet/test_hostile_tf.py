"""Do TensorFlow submissions still obey the sandbox's limits, with clear messages?"""

from __future__ import annotations

import time

import pytest

from tests.cnn_step_by_step.hostile import TOKEN
from tests.sandbox.test_sandbox import host_processes_with

from .hostile import ATTACKS


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_loses_its_points_with_a_clear_reason(graded, attack):
    """Does each attack score 0 on its part, with a reason the student can read?"""
    r = graded[f"attack-{attack.name}"]
    own = r["functions"][attack.function]
    assert own["score"] == 0, own
    text = " ".join(t["message"] for t in own["tests"])
    assert any(reason in text for reason in attack.reasons), text


def test_no_process_outlives_grading(graded):
    """Are the attacks' children gone once grading ends?"""
    deadline = time.monotonic() + 5
    while host_processes_with(TOKEN) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(TOKEN) == []
