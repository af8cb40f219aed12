"""Submission times from sources the student can't write, and what to do without one.

A submission folder is the student's, so nbgrader's ``timestamp.txt`` in it is the
student's claim, not a record: ``nbgrader submit`` writes it as the student, and so is
the time in the exchange's inbound folder name (``student+assignment+TIME+random``),
which ``nbgrader collect`` copies from; the files' modification times are the student's
too. What the student can't write, in the order it is trusted:

    1. times file   ``--submission-times CSV`` (columns ``student``, ``timestamp``), the
                    instructor's: an LMS export, or a list kept by hand
    2. first seen   the grader's own ledger (``LEDGER`` beside each student's results.json):
                    when a grading run first saw each distinct notebook (by its sha256). A
                    notebook first seen at or before the due date was submitted on time.
                    Otherwise first seen is only an upper bound: the true time is earlier by
                    up to the time between the submission and the grading run that saw it
    3. timestamp.txt only with ``--trust-student-timestamps``, and only if plausible: not in
                    the future, not before the assignment's release (``--released``, else a year
                    before the due date), not after the grader first saw the notebook, and not
                    before the last time a grading run saw an earlier version of it

Every time, whatever its source, must be plausible in the same way. A submission with no
trusted time (none of the above, or an implausible one) *needs review*: the late policy
scores it as if it was submitted when the grader first saw it (an upper bound, so never
in the student's favour; with no sighting at all, the policy's maximum penalty), and the
table, the CSV, the JSON and the feedback say so and why (``late.LatePolicy.apply``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.files import atomic_write
from autograder.run.intake import parse_timestamp
from autograder.text import clean, uncell

LEDGER = "first_seen.json"  # autograded/<student>/<assignment>/first_seen.json: the grader's own file
SKEW = timedelta(minutes=5)  # clocks of the exchange's host and the grader's may differ this much
WINDOW = timedelta(days=365)  # without --released: a time this long before the due date is implausible
TIMES_FILE_LIMIT = 8 * 2**20  # bytes of a times file (a class of 10,000 is under 1 MiB)

TIMES_FILE = "times file"
FIRST_SEEN = "first seen"
TIMESTAMP_TXT = "timestamp.txt"


def now() -> datetime:
    """The grader's clock, naive UTC as nbgrader's gradebook keeps times (tests replace it)."""
    return datetime.now(UTC).replace(tzinfo=None)


class TimesError(Exception):
    """A times file that can't be used; the message says where and what to do."""


@dataclass(frozen=True)
class Sources:
    """Where this run takes submission times from (the command line's choices)."""

    times: Mapping[str, datetime] | None = None  # --submission-times: student id -> time (naive UTC)
    times_path: str = ""  # the file's name, for messages
    trust_timestamps: bool = False  # --trust-student-timestamps
    released: datetime | None = None  # --released: no submission can be earlier (naive UTC)


@dataclass(frozen=True)
class Seen:
    """What the grader's ledger knows about the notebook being graded."""

    first: datetime  # when a grading run first saw this notebook: it existed then
    after: datetime | None = None  # the last sighting of an earlier, different notebook: it came later


@dataclass(frozen=True)
class SubmissionTime:
    """One submission's time and where it came from; ``problem`` says why it needs review."""

    when: datetime | None  # a trusted, plausible time; None: none
    source: str = ""  # TIMES_FILE, TIMESTAMP_TXT, or "" (FIRST_SEEN is decided by the late policy)
    seen: Seen | None = None
    claimed: datetime | None = None  # what timestamp.txt says (the student's claim)
    problem: str = ""  # without ``when``: why, in words for the student and the instructor
    kind: str = ""  # for the run's tally: TIMES_FILE, TIMESTAMP_TXT, "untrusted", "missing" or "implausible"


def parse_time(text: str) -> datetime | None:
    """A time as nbgrader writes it ("2024-03-02 14:20:56.795510 UTC") or ISO-like with a UTC
    offset or Z; naive means UTC. Naive UTC back; None if it is not one."""
    return parse_timestamp(text.strip())


def read_times_file(path: Path) -> dict[str, datetime]:
    """The instructor's times file: a CSV with a header naming ``student`` and ``timestamp``.

    A student on several rows gets the latest time (the submission graded is the last one).
    Student ids are read as our own CSVs write them (``text.uncell``: a leading ``'``
    before ``= + - @ '`` is the spreadsheet quote). TimesError for anything else.
    """
    what = "Fix the file, or leave out --submission-times."
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > TIMES_FILE_LIMIT:
            raise TimesError(f"the times file {path} is not a regular file of at most 8 MiB. {what}")
        text = Path(path).read_bytes().decode("utf-8-sig")  # (a spreadsheet's UTF-8 starts with a BOM)
    except OSError as e:
        raise TimesError(f"the times file {path} could not be read ({e.strerror}). {what}") from None
    except UnicodeDecodeError:
        raise TimesError(f"the times file {path} is not UTF-8 text. Save it as CSV (UTF-8). {what}") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "student" not in columns or "timestamp" not in columns:
            raise TimesError(
                f"the times file {path} needs a header with the columns student and timestamp (found "
                f"{clean(','.join(columns), 200) or 'none'}), e.g.\n  student,timestamp\n  ada,2026-12-01 16:59 UTC\n"
                f"{what}"
            )
        reader.fieldnames = columns
        times: dict[str, datetime] = {}
        for row in reader:
            student, raw = uncell(row.get("student") or ""), (row.get("timestamp") or "").strip()
            when = parse_time(raw)
            if not student or when is None:
                raise TimesError(
                    f"{path}, line {reader.line_num}: {clean(raw, 100)!r} for {clean(student, 100)!r} is not a "
                    f"student and a time such as 2026-12-01 16:59 UTC or 2026-12-01T17:59+01:00. {what}"
                )
            times[student] = max(when, times.get(student, when))
    except csv.Error as e:
        raise TimesError(f"the times file {path} is not a CSV ({e}). {what}") from None
    return times


# --- the ledger: when the grader first saw each notebook -----------------------------------


def _read_ledger(path: Path) -> dict[str, list[str]]:
    """digest -> [first seen, last seen] (ISO times); {} if there is no usable ledger."""
    try:
        raw = json.loads(path.read_bytes())
        seen = raw["seen"]
        return {
            d: [str(t[0]), str(t[1])] for d, t in seen.items() if isinstance(t, list) and len(t) == 2
        }  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return {}


def _seen_of(ledger: dict[str, list[str]], digest: str) -> Seen | None:
    if digest not in ledger:
        return None
    try:
        first = datetime.fromisoformat(ledger[digest][0])
        earlier = [datetime.fromisoformat(last) for d, (_, last) in ledger.items() if d != digest]
    except ValueError:
        return None
    before = [t for t in earlier if t <= first]
    return Seen(first, max(before) if before else None)


def record_sighting(path: Path, digest: str, when: datetime) -> Seen:
    """Note in the ledger at ``path`` that ``digest`` was seen at ``when``; what it knows of it now.

    The first sighting of a digest is kept for good; its last sighting moves on. The
    ledger is the grader's (under autograded/), written atomically.
    """
    ledger = _read_ledger(path)
    first = ledger.get(digest, [when.isoformat()])[0]
    ledger[digest] = [first, when.isoformat()]
    atomic_write(path, json.dumps({"seen": ledger}, indent=1) + "\n")
    seen = _seen_of(ledger, digest)
    assert seen is not None
    return seen


def latest_sighting(path: Path) -> Seen | None:
    """The ledger's most recently seen notebook (the one graded last), for the class report."""
    ledger = _read_ledger(path)
    if not ledger:
        return None
    digest = max(ledger, key=lambda d: ledger[d][1])
    return _seen_of(ledger, digest)


# --- resolving one submission's time --------------------------------------------------------


def shown(when: datetime) -> str:
    """A time in messages: "2026-12-01 16:59 UTC" (four-digit years, year 1 too)."""
    return f"{when.isoformat(' ', 'minutes')} UTC"


def implausible(when: datetime, seen: Seen | None, floor: datetime | None, clock: datetime) -> str:
    """Why ``when`` can't be a submission time ("" if it can): in the future, before the release,
    after the grader already had the notebook, or before an earlier version was last seen."""
    stamp = shown(when)
    if when > clock + SKEW:
        return f"{stamp} is in the future"
    if floor is not None and when < floor:
        return f"{stamp} is before the assignment was released ({shown(floor)})"
    if seen is not None and when > seen.first + SKEW:
        return f"{stamp} is after the grader first saw this notebook ({shown(seen.first)})"
    if seen is not None and seen.after is not None and when < seen.after - SKEW:
        return f"{stamp} is before {shown(seen.after)}, when the grader still saw an earlier version of this notebook"
    return ""


def floor_of(sources: Sources, due: datetime | None) -> datetime | None:
    """The earliest plausible submission time: ``--released``, else a year before the due date."""
    if sources.released is not None:
        return sources.released
    return due - WINDOW if due is not None else None


def resolve(
    student: str,
    claimed: datetime | None,
    claim_problem: str,
    seen: Seen | None,
    sources: Sources,
    due: datetime | None,
    clock: datetime | None = None,
) -> SubmissionTime:
    """The submission's time from the trusted sources, in order (see the module's docstring).

    ``claimed``: timestamp.txt's time (None: absent or not a time, ``claim_problem`` says which).
    """
    clock = clock or now()
    floor = floor_of(sources, due)
    if sources.times is not None:
        if student not in sources.times:
            name = Path(sources.times_path).name or "the times file"
            return SubmissionTime(None, "", seen, claimed, f"no time for this student in {name}", "missing")
        when = sources.times[student]
        why = implausible(when, None, floor, clock)  # (the instructor's time may be after our first sighting)
        if why:
            return SubmissionTime(None, "", seen, claimed, f"the times file's time {why}", "implausible")
        return SubmissionTime(when, TIMES_FILE, seen, claimed, kind=TIMES_FILE)
    if not sources.trust_timestamps:
        what = "timestamp.txt is the student's own file" if claimed else (claim_problem or "there is no timestamp.txt")
        return SubmissionTime(None, "", seen, claimed, f"{what}, and no trusted time was given", "untrusted")
    if claimed is None:
        return SubmissionTime(None, "", seen, None, claim_problem or "there is no timestamp.txt", "missing")
    why = implausible(claimed, seen, floor, clock)
    if why:
        return SubmissionTime(None, "", seen, claimed, f"timestamp.txt's time {why}", "implausible")
    return SubmissionTime(claimed, TIMESTAMP_TXT, seen, claimed, kind=TIMESTAMP_TXT)
