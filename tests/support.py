"""Shared helpers for the project's tests: building submissions, and the verdicts every
assignment's fidelity suite asks of its graded class."""

from autograder.submissions import Variant, build_submission, reference_answers, write_submission

__all__ = [
    "Variant",
    "assert_catalogue",
    "assert_mutant_caught",
    "assert_release_earns_zero",
    "build_submission",
    "lost_points",
    "reference_answers",
    "write_submission",
]


def lost_points(result: dict) -> dict[str, list[str]]:
    """graded id -> the messages of its failed tests, for every answer that lost points."""
    return {
        f: [t["message"] for t in v["tests"] if not t["passed"]]
        for f, v in result["functions"].items()
        if v["score"] < v["max_score"]
    }


def assert_release_earns_zero(result: dict) -> None:
    """The untouched release scores 0 of 100, every test saying 'not implemented' (no crash)."""
    assert result["score"] == 0 and result["max_score"] == 100, {f: v["score"] for f, v in result["functions"].items()}
    messages = [t["message"] for f in result["functions"].values() for t in f["tests"]]
    assert messages and all("not implemented yet" in m for m in messages), set(messages)


def assert_catalogue(mutants: list, correct: list, functions: list[str], min_mutants: int, min_correct: int) -> None:
    """Enough mutants and correct variants, the mutants cover every graded answer, names unique."""
    assert len(mutants) >= min_mutants and len(correct) >= min_correct
    assert {m.function for m in mutants} == set(functions)
    assert len({m.name for m in mutants + correct}) == len(mutants) + len(correct)


def assert_mutant_caught(result: dict, mutant: Variant) -> None:
    """The mutant loses points on its own answer, with real messages, and on no other answer."""
    own = result["functions"][mutant.function]
    assert own["score"] < own["max_score"], f"{mutant.name} ({mutant.why}) was not caught"
    others = {
        f: v["score"] for f, v in result["functions"].items() if f != mutant.function and v["score"] < v["max_score"]
    }
    assert others == {}, f"{mutant.name} also cost points in {others}"
    failed = [t["message"] for t in own["tests"] if not t["passed"]]
    assert all(m and "grader could not check" not in m for m in failed), failed
