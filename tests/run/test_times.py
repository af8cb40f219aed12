"""Submission times (autograder/run/times.py): which source is trusted, what is implausible, the
instructor's times file, and the grader's own ledger of when it first saw each notebook.
The whole pipeline under a late policy is in tests/outputs/test_late.py."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from autograder.run import times
from autograder.run.intake import exchange_files
from autograder.run.times import Seen, Sources, read_times_file, record_sighting, resolve

DUE = datetime(2026, 12, 1, 17, 0)
CLOCK = datetime(2026, 12, 8, 9, 0)  # the grader's clock: after the due date
SEEN = Seen(datetime(2026, 12, 2, 9, 0))  # the grader first saw the notebook the morning after
TRUST = Sources(trust_timestamps=True)


def claim(text: str) -> tuple[datetime | None, str]:
    """timestamp.txt's time and problem, as intake reads them."""
    return times.parse_time(text), "" if times.parse_time(text) else "timestamp.txt does not hold a time"


def test_the_students_timestamp_is_not_trusted_unless_asked():
    """Is a perfectly plausible timestamp.txt ignored by default, and used only with the flag?"""
    when, problem = claim("2026-12-01 16:59:00.000000 UTC")
    t = resolve("ada", when, problem, SEEN, Sources(), DUE, CLOCK)
    assert (t.when, t.kind, t.claimed) == (None, "untrusted", when)
    assert t.problem == "timestamp.txt is the student's own file, and no trusted time was given"
    t = resolve("ada", when, problem, SEEN, TRUST, DUE, CLOCK)
    assert (t.when, t.source, t.problem) == (when, "timestamp.txt", "")


@pytest.mark.parametrize(
    "text, kind, problem",
    [
        (None, "missing", "there is no timestamp.txt"),  # deleted
        ("yesterday\x1b[31m", "missing", "timestamp.txt does not hold a time"),  # garbled
        (
            "0001-01-01 00:00:00 UTC",
            "implausible",
            "0001-01-01 00:00 UTC is before the assignment was released (2025-12-01 17:00 UTC)",
        ),  # fmt: skip
        ("2099-01-01 00:00:00 UTC", "implausible", "2099-01-01 00:00 UTC is in the future"),
        ("2026-12-05 00:00:00 UTC", "implausible", "after the grader first saw this notebook (2026-12-02 09:00 UTC)"),
    ],
)
def test_a_missing_garbled_or_implausible_timestamp_needs_review(text, kind, problem):
    """Even trusted, timestamp.txt gives no time when it is deleted, garbled, year 1, in the future,
    or later than the grader's first sighting of the notebook."""
    when, why = claim(text) if text is not None else (None, "there is no timestamp.txt")
    t = resolve("ada", when, why, SEEN, TRUST, DUE, CLOCK)
    assert t.when is None and t.kind == kind and problem in t.problem


def test_a_claim_before_an_earlier_version_was_last_seen_is_implausible():
    """A notebook changed after the grader saw an older version past the due date can't be on time."""
    seen = Seen(datetime(2026, 12, 8, 9, 0), after=datetime(2026, 12, 3, 12, 0))
    t = resolve("ada", datetime(2026, 12, 1, 16, 0), "", seen, TRUST, DUE, CLOCK)
    assert t.when is None and "when the grader still saw an earlier version" in t.problem
    t = resolve("ada", datetime(2026, 12, 4, 16, 0), "", seen, TRUST, DUE, CLOCK)
    assert t.when == datetime(2026, 12, 4, 16, 0)  # between the two sightings: plausible


def test_released_sets_the_earliest_plausible_time():
    sources = Sources(trust_timestamps=True, released=datetime(2026, 11, 20))
    t = resolve("ada", datetime(2026, 11, 19, 23, 0), "", SEEN, sources, DUE, CLOCK)
    assert "before the assignment was released (2026-11-20 00:00 UTC)" in t.problem
    assert resolve("ada", datetime(2026, 11, 20, 1, 0), "", SEEN, sources, DUE, CLOCK).when is not None


def test_the_times_file_wins_and_a_student_without_a_row_needs_review():
    """The instructor's times are used over any timestamp.txt; no row, or an implausible time: review."""
    sources = Sources({"ada": datetime(2026, 12, 3, 17, 0), "ben": datetime(2099, 1, 1)}, "/x/lms.csv", True)
    t = resolve("ada", datetime(2026, 12, 1, 16, 0), "", SEEN, sources, DUE, CLOCK)
    assert (t.when, t.source) == (datetime(2026, 12, 3, 17, 0), "times file")  # (after SEEN: the instructor's word)
    t = resolve("cy", datetime(2026, 12, 1, 16, 0), "", SEEN, sources, DUE, CLOCK)
    assert (t.when, t.kind, t.problem) == (None, "missing", "no time for this student in lms.csv")
    t = resolve("ben", None, "", SEEN, sources, DUE, CLOCK)
    assert t.when is None and t.kind == "implausible" and "in the future" in t.problem


def test_reading_a_times_file(tmp_path):
    """A spreadsheet's CSV: BOM, header case, quoted ids as our CSVs write them, offsets, several rows."""
    path = tmp_path / "times.csv"
    path.write_text(
        "\ufeffStudent,Timestamp,Attempt\n"
        "ada,2026-12-01 16:59 UTC,1\n"
        "'+x,2026-12-01T17:59+01:00,1\n"
        "''+x,2026-12-02 10:00:00.5 UTC,1\n"
        "ada,2026-12-01 18:00:00 UTC,2\n",
        encoding="utf-8",
    )
    assert read_times_file(path) == {
        "ada": datetime(2026, 12, 1, 18, 0),  # the latest of her rows
        "+x": datetime(2026, 12, 1, 16, 59),
        "'+x": datetime(2026, 12, 2, 10, 0, 0, 500000),
    }


@pytest.mark.parametrize(
    "content, message",
    [
        ("name,time\nada,2026-12-01 16:59 UTC\n", "needs a header with the columns student and timestamp"),
        ("student,timestamp\nada,last Tuesday\n", "line 2: 'last Tuesday' for 'ada' is not a student and a time"),
        ("student,timestamp\n,2026-12-01 16:59 UTC\n", "line 2"),
        (b"student,timestamp\nad\xff,2026-12-01\n", "is not UTF-8 text"),
    ],
)
def test_a_bad_times_file_says_where_and_what_to_do(tmp_path, content, message):
    path = tmp_path / "times.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(times.TimesError, match=message) as e:
        read_times_file(path)
    assert "leave out --submission-times" in str(e.value)
    with pytest.raises(times.TimesError, match="not a regular file"):
        read_times_file(tmp_path)


def test_the_ledger_keeps_the_first_sighting_and_knows_what_came_before(tmp_path):
    path = tmp_path / "autograded" / "ada" / "a" / times.LEDGER
    t0, t1, t2, t3 = (datetime(2026, 12, d, 9, 0) for d in (1, 2, 3, 4))
    assert record_sighting(path, "A", t0) == Seen(t0)
    assert record_sighting(path, "A", t1) == Seen(t0)  # seen again: still first seen at t0
    assert record_sighting(path, "B", t2) == Seen(t2, after=t1)  # changed: came after A's last sighting
    assert record_sighting(path, "B", t3) == Seen(t2, after=t1)
    assert times.latest_sighting(path) == Seen(t2, after=t1)
    path.write_text("{not json")  # a damaged ledger is started again, never trusted half-read
    assert record_sighting(path, "B", t3) == Seen(t3)
    assert json.loads(path.read_text()) == {"seen": {"B": [t3.isoformat(), t3.isoformat()]}}


def test_intake_says_why_there_is_no_claim(tmp_path):
    sub = tmp_path / "submitted"
    for student, text in [("ada", None), ("ben", "yesterday"), ("cy", "2026-12-01 16:59 UTC")]:
        (sub / student / "a").mkdir(parents=True)
        if text is not None:
            (sub / student / "a" / "timestamp.txt").write_text(text)
    (sub / "dee" / "a").mkdir(parents=True)
    (sub / "dee" / "a" / "timestamp.txt").symlink_to("/etc/hostname")
    problems = {s: exchange_files(sub, s, "a").timestamp_problem for s in ("ada", "ben", "cy", "dee")}
    assert problems == {"ada": "there is no timestamp.txt", "ben": "timestamp.txt does not hold a time", "cy": "",
                        "dee": "timestamp.txt could not be read"}  # fmt: skip
