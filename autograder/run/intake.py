"""Take in a submitted notebook: refuse it by type before reading it by value.

A submission is a folder the student controls, so it is read the way a parser that
faces the internet reads a request. In this order, each step before the next:

    1. name       the student's folder name is printable UTF-8 (it becomes the student id)
    2. folders    submitted/<student>/<assignment>/: each a real folder, never a link
                  (lstat, then opened with O_NOFOLLOW relative to its parent's descriptor)
    3. type       the notebook is a regular file: not a link, folder, FIFO, device or socket
    4. open       O_NOFOLLOW | O_NONBLOCK, then fstat on the open descriptor: still regular,
                  one name only (nlink 1: a hard link's other name could be anywhere), and
                  at most ``FileBounds.max_bytes``
    5. read       at most max_bytes + 1 bytes, whatever the file claims
    6. parse      UTF-8, JSON nested at most ``FileBounds.max_depth``, at most ``FileBounds.max_cells``
                  cells, a notebook's layout and text grade ids (``notebook.loads_notebook``)
    7. copy       the grader process gets a private copy of those bytes, written by us;
                  nothing reads the student's path again (no time-of-check/time-of-use gap)

A refusal is a ``Refused`` error whose message says what was wrong, where, and what to
do; the batch gives that student 0 points with the message.

Two leniencies, each reported in the student's errors (``Taken.notes``), never silent: a
folder with no ``<assignment>.ipynb`` but exactly one other notebook (a browser's
``cnn_step_by_step (1).ipynb``) has that one graded; and nbgrader's ``timestamp.txt`` and
``submission_secret.txt`` beside the notebook (``exchange_files``) are read with the same
care, but a problem with them is a note, never a refusal: the notebook decides the grade.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograder.course.notebook import Notebook, NotebookError, grade_id_of, loads_notebook
from autograder.text import clean, clean_id


@dataclass(frozen=True)
class FileBounds:
    """Every bound on a submitted file, in one place (not the sandbox's ``Limits``, on the code it runs)."""

    max_bytes: int = 32 * 2**20  # a notebook with outputs cleared is well under 1 MiB
    max_depth: int = 64  # lists and objects inside each other; real notebooks stay under 15
    max_cells: int = 5000


BOUNDS = FileBounds()
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Refused(NotebookError):
    """A submission refused before grading; ``str(e)`` is written for the student."""


@dataclass(frozen=True)
class Taken:
    """A submission that passed intake."""

    notebook: Path  # the private copy, for the grader process and the feedback
    digest: str  # sha256 of the student's bytes (what resuming compares)
    grade_ids: frozenset[str] = frozenset()  # every grade_id in it: which assignment it is from
    notes: tuple[str, ...] = ()  # what was accepted but should be fixed (a renamed notebook)


# Characters a student id may not hold: nbgrader 0.9.6's formgrader writes the id into its
# pages unescaped (a breadcrumb, a <script>'s string, the submission header), where these
# open a tag or end the string. Others (' & + = - space, any script) are kept: a quote
# never delimits an id there, and an ampersand can't start markup.
MARKUP_IN_IDS = frozenset('<>"\\`')


def take(submitted: Path, folder: str, assignment: str, private: Path, bounds: FileBounds = BOUNDS) -> Taken:
    """Check ``submitted/<folder>/<assignment>/<assignment>.ipynb`` and copy it to ``private``.

    ``submitted`` itself is the instructor's folder (followed as given); everything
    below it is the students'. Raises ``Refused``.
    """
    student = clean_id(folder)
    if student != folder:
        raise Refused(
            f"The submission folder {student} has a name with control characters or bytes that are not "
            f"UTF-8 text, so it can't be shown or stored safely. Rename the folder to the student's id "
            f"(letters, digits, '-' and '_') and grade again."
        )
    if markup := sorted(set(folder) & MARKUP_IN_IDS):
        raise Refused(
            f"The submission folder {student} has a name with {' '.join(markup)}, which nbgrader's formgrader "
            f"would read as HTML or script when it shows the student id (it does not escape ids). Rename the "
            f"folder to the student's id (letters, digits, '-' and '_') and grade again."
        )
    name = f"{assignment}.ipynb"
    where = f"{student}/{assignment}/"
    root = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fds = [root]
    try:
        fds.append(_open_folder(fds[-1], folder, f"{student}/"))
        if _exists(fds[-1], name) and not _exists(fds[-1], assignment):
            raise Refused(
                f"Found {student}/{name}, but the notebook belongs in a folder named after the assignment: "
                f"{where}{name}. Move it there (mkdir {where} && mv {student}/{name} {where}) and grade again."
            )
        fds.append(_open_folder(fds[-1], assignment, where))
        chosen = name if _exists(fds[-1], name) else _only_notebook(fds[-1], where, name)
        data = _read_regular(fds[-1], chosen, where + clean(chosen), bounds)
    finally:
        for fd in fds:
            os.close(fd)
    notes: tuple[str, ...] = ()
    try:
        nb = parse(data, where + clean(chosen), bounds)
    except Refused as e:
        if chosen == name:
            raise
        raise Refused(
            f"{where}{name}: no such notebook, and {clean(chosen)}, the only notebook in that folder, could not "
            f"be graded either: {e}"
        ) from None
    if chosen != name:
        notes = (
            f"{where}{name} was not found, so the grader graded {clean(chosen)}, the only notebook in that "
            f"folder. Name it {name} when you submit (rename it in Jupyter's file browser).",
        )
    private.mkdir(parents=True, exist_ok=True)
    copy = private / name
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    grade_ids = frozenset(gid for cell in nb["cells"] if (gid := grade_id_of(cell)))
    return Taken(copy, hashlib.sha256(data).hexdigest(), grade_ids, notes)


def _exists(folder: int, name: str) -> bool:
    """Is there an entry ``name`` (of any type, a link too) in the folder ``folder``?"""
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # there is something; reading it says what is wrong
    return True


def _only_notebook(folder: int, where: str, name: str) -> str:
    """The one other ``.ipynb`` in the folder, when ``name`` is missing; Refused if none or several."""
    notebooks, shown = [], []
    with os.scandir(folder) as entries:
        for entry in entries:  # a folder of a million files is not listed whole
            if entry.name.endswith((".ipynb", ".IPYNB")) and not entry.name.startswith("."):
                notebooks.append(entry.name)
            elif len(shown) < 5 and not entry.name.startswith("."):
                shown.append(entry.name)
            if len(notebooks) > 5:
                break
    if len(notebooks) == 1:
        return notebooks[0]
    listed = ", ".join(clean(n, 200) for n in sorted(notebooks or shown))
    if notebooks:
        count = "more than 5" if len(notebooks) > 5 else str(len(notebooks))
        raise Refused(
            f"{where}{name}: no such notebook, and the folder holds {count} other notebooks ({listed}), so the "
            f"grader can't tell which is your work. Keep one, named {name}, and submit again."
        )
    found = f" The folder holds: {listed}." if shown else " The folder is empty."
    raise Refused(f"{where}{name}: no such notebook. Save your work as {name} in that folder.{found}")


# Files nbgrader's exchange puts beside a submission (``nbgrader submit``, kept by
# ``collect``). ``release_feedback`` reads both beside each feedback page, which
# nbgrader's own generate_feedback copies there; without them it stops.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
EXCHANGE_BOUNDS = FileBounds(max_bytes=4096)  # nbgrader writes ~30 and 128 bytes
# The timestamps nbgrader writes ("2024-03-02 14:20:56.795510 UTC") and similar ones;
# only these reach the date parser (a free-form time zone name is looked up as a file).
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?( ?([A-Za-z]{1,6}|[+-]\d\d:?\d\d))?")


@dataclass(frozen=True)
class ExchangeFiles:
    """nbgrader's files beside one submission: when it was submitted, and what to copy beside its feedback."""

    # What timestamp.txt claims (UTC, naive as nbgrader's gradebook keeps it): the student's own
    # file, so a claim, never a record (times.resolve decides whether to use it)
    timestamp: datetime | None = None
    files: dict[str, str] = field(default_factory=dict)  # file name -> its text (cleaned)
    notes: tuple[str, ...] = ()  # what could not be used, for the student's errors
    timestamp_problem: str = ""  # without a timestamp: why, in a few words ("there is no timestamp.txt")


def exchange_files(submitted: Path, folder: str, assignment: str) -> ExchangeFiles:
    """Read ``timestamp.txt`` and ``submission_secret.txt`` beside a submission, as ``take`` reads a notebook.

    Either may be absent (a submission copied in by hand): then it is not in ``files``.
    A folder ``take`` refuses gives nothing here; ``take`` says why.
    """
    if clean_id(folder) != folder:
        return ExchangeFiles()
    fds = [os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    files, notes, unreadable = {}, [], False
    try:
        try:
            fds.append(_open_folder(fds[-1], folder, f"{folder}/"))
            fds.append(_open_folder(fds[-1], assignment, f"{folder}/{assignment}/"))
        except Refused:
            return ExchangeFiles()
        for name in EXCHANGE_FILES:
            where = f"{folder}/{assignment}/{name}"
            if not _exists(fds[-1], name):
                continue
            try:
                files[name] = clean(_read_regular(fds[-1], name, where, EXCHANGE_BOUNDS).decode("utf-8"), None)
            except (Refused, UnicodeDecodeError):
                unreadable = unreadable or name == EXCHANGE_FILES[0]
                use = "no submission time was recorded" if name == EXCHANGE_FILES[0] else "feedback can't be fetched"
                notes.append(
                    f"{where} is not a small text file as `nbgrader submit` writes it, so it was not used "
                    f"({use}). Submit again with `nbgrader submit`."
                )
    finally:
        for fd in fds:
            os.close(fd)
    timestamp, problem = None, "there is no timestamp.txt"
    if "timestamp.txt" in files:
        timestamp = parse_timestamp(files["timestamp.txt"].strip())
        problem = "" if timestamp is not None else "timestamp.txt does not hold a time"
        if timestamp is None:
            notes.append(
                f"{folder}/{assignment}/timestamp.txt holds {clean(files['timestamp.txt'].strip(), 100)!r}, not a "
                f"time such as 2024-03-02 14:20:56.795510 UTC, so no submission time was recorded. Submit "
                f"again with `nbgrader submit`."
            )
    if unreadable:
        problem = "timestamp.txt could not be read"  # (there, but refused: a link, a FIFO, not text ...)
    return ExchangeFiles(timestamp, files, tuple(notes), problem)


def parse_timestamp(text: str) -> datetime | None:
    """A timestamp.txt's time in UTC, read as nbgrader reads it (``parse_utc``); None if it isn't one."""
    from nbgrader.utils import parse_utc  # (nbgrader's own rules: its gradebook compares these)

    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return parse_utc(text)
    except (ValueError, OverflowError):
        return None


def read_submission(path: Path, bounds: FileBounds = BOUNDS) -> Notebook:
    """Read and parse one notebook file with the same checks (the file itself, not its folders)."""
    path = Path(path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if path.parent.is_dir() else None
    if fd is None:
        raise Refused(f"{path}: no such notebook")
    try:
        data = _read_regular(fd, path.name, str(path), bounds)
    finally:
        os.close(fd)
    return parse(data, str(path), bounds)


def parse(data: bytes, where: str, bounds: FileBounds = BOUNDS) -> Notebook:
    try:
        return loads_notebook(data, where, max_depth=bounds.max_depth, max_cells=bounds.max_cells)
    except Refused:
        raise
    except NotebookError as e:
        raise Refused(str(e)) from None


def kind_of(mode: int) -> str:
    """What a file is, in words, from its ``st_mode``."""
    for test, kind in [
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]:
        if test(mode):
            return kind
    return "a special file"


def _link_message(where: str) -> str:
    return (
        f"{where} is a symbolic link. The grader reads only the files in the submission itself and never "
        f"follows a link, wherever it points. Replace the link with the real file or folder and submit again."
    )


def _lstat(parent: int, name: str, where: str, missing: str) -> os.stat_result:
    """``name`` in the folder ``parent``, not following a link; Refused(missing) if absent."""
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        raise Refused(missing) from None
    except OSError as e:
        raise Refused(f"{where} could not be examined ({e.strerror}).") from None


def _open_folder(parent: int, name: str, where: str) -> int:
    st = _lstat(parent, name, where, f"{where}: no such folder")
    if stat.S_ISLNK(st.st_mode):
        raise Refused(_link_message(where))
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{where} is {kind_of(st.st_mode)}, not a folder. Submit a folder with the notebook in it.")
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as e:  # it changed since lstat (ELOOP: now a link), or can't be opened
        raise Refused(_open_problem(e, where)) from None


def _read_regular(folder: int, name: str, where: str, bounds: FileBounds) -> bytes:
    st = _lstat(folder, name, where, f"{where}: no such notebook. Save your work as {name} in that folder.")
    _check_file(st, where, bounds)  # before opening: opening a FIFO or device can block or act
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=folder)
    except OSError as e:
        raise Refused(_open_problem(e, where)) from None
    try:
        _check_file(os.fstat(fd), where, bounds)  # the file we actually opened
        chunks, left = [], bounds.max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise Refused(f"{where} could not be read ({e.strerror}). Save it again and submit again.") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > bounds.max_bytes:  # it grew after fstat
        raise Refused(_size_message(where, len(data), bounds))
    return data


def _check_file(st: os.stat_result, where: str, bounds: FileBounds) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise Refused(_link_message(where))
    if stat.S_ISDIR(st.st_mode):
        raise Refused(f"{where} is a folder, not a notebook file. Save the notebook itself under that name.")
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{where} is {kind_of(st.st_mode)}, not a notebook file. Submit the notebook file itself.")
    if st.st_nlink > 1:
        raise Refused(
            f"{where} is a hard link: the file has {st.st_nlink} names, and the grader cannot tell where the "
            f"others are, so it did not read it. Submit a plain copy of the notebook (save it again from Jupyter)."
        )
    if st.st_size > bounds.max_bytes:
        raise Refused(_size_message(where, st.st_size, bounds))


def _size_message(where: str, size: int, bounds: FileBounds) -> str:
    return (
        f"{where} is {size / 2**20:.1f} MiB; the limit is {bounds.max_bytes / 2**20:g} MiB. Clear the outputs "
        f"(Kernel > Restart Kernel and Clear All Outputs), save, and submit again."
    )


def _open_problem(e: OSError, where: str) -> str:
    if e.errno == errno.ELOOP:
        return _link_message(where)
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"{where} could not be opened (permission denied). Make the file readable and submit again."
    return f"{where} could not be opened ({e.strerror}). Save it again and submit again."
