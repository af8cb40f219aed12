"""Take in a submitted notebook: refuse it by type before reading it by value.

A submission is a folder the student controls, so it is read the way a parser that
faces the internet reads a request. In this order, each step before the next:

    1. name       the student's folder name is printable UTF-8 (it becomes the student id)
    2. folders    submitted/<student>/<assignment>/: each a real folder, never a link
                  (lstat, then opened with O_NOFOLLOW relative to its parent's descriptor)
    3. type       the notebook is a regular file: not a link, folder, FIFO, device or socket
    4. open       O_NOFOLLOW | O_NONBLOCK, then fstat on the open descriptor: still regular,
                  one name only (nlink 1: a hard link's other name could be anywhere), and
                  at most ``Limits.max_bytes``
    5. read       at most max_bytes + 1 bytes, whatever the file claims
    6. parse      UTF-8, JSON nested at most ``Limits.max_depth``, at most ``Limits.max_cells``
                  cells, a notebook's layout and text grade ids (``notebook.loads_notebook``)
    7. copy       the grader process gets a private copy of those bytes, written by us;
                  nothing reads the student's path again (no time-of-check/time-of-use gap)

A refusal is a ``Refused`` error whose message says what was wrong, where, and what to
do; the batch gives that student 0 points with the message.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .notebook import Notebook, NotebookError, loads_notebook
from .text import clean_id


@dataclass(frozen=True)
class Limits:
    """Every limit on a submitted file, in one place."""

    max_bytes: int = 32 * 2**20  # a notebook with outputs cleared is well under 1 MiB
    max_depth: int = 64  # lists and objects inside each other; real notebooks stay under 15
    max_cells: int = 5000


LIMITS = Limits()
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Refused(NotebookError):
    """A submission refused before grading; ``str(e)`` is written for the student."""


@dataclass(frozen=True)
class Taken:
    """A submission that passed intake."""

    notebook: Path  # the private copy, for the grader process and the feedback
    digest: str  # sha256 of the student's bytes (what resuming compares)


def take(submitted: Path, folder: str, assignment: str, private: Path, limits: Limits = LIMITS) -> Taken:
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
    name = f"{assignment}.ipynb"
    root = os.open(submitted, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fds = [root]
    try:
        fds.append(_open_folder(fds[-1], folder, f"{student}/"))
        fds.append(_open_folder(fds[-1], assignment, f"{student}/{assignment}/"))
        data = _read_regular(fds[-1], name, f"{student}/{assignment}/{name}", limits)
    finally:
        for fd in fds:
            os.close(fd)
    parse(data, f"{student}/{assignment}/{name}", limits)
    private.mkdir(parents=True, exist_ok=True)
    copy = private / name
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Taken(copy, hashlib.sha256(data).hexdigest())


def read_submission(path: Path, limits: Limits = LIMITS) -> Notebook:
    """Read and parse one notebook file with the same checks (the file itself, not its folders)."""
    path = Path(path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if path.parent.is_dir() else None
    if fd is None:
        raise Refused(f"{path}: no such notebook")
    try:
        data = _read_regular(fd, path.name, str(path), limits)
    finally:
        os.close(fd)
    return parse(data, str(path), limits)


def parse(data: bytes, where: str, limits: Limits = LIMITS) -> Notebook:
    try:
        return loads_notebook(data, where, max_depth=limits.max_depth, max_cells=limits.max_cells)
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


def _read_regular(folder: int, name: str, where: str, limits: Limits) -> bytes:
    st = _lstat(folder, name, where, f"{where}: no such notebook. Save your work as {name} in that folder.")
    _check_file(st, where, limits)  # before opening: opening a FIFO or device can block or act
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=folder)
    except OSError as e:
        raise Refused(_open_problem(e, where)) from None
    try:
        _check_file(os.fstat(fd), where, limits)  # the file we actually opened
        chunks, left = [], limits.max_bytes + 1
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
    if len(data) > limits.max_bytes:  # it grew after fstat
        raise Refused(_size_message(where, len(data), limits))
    return data


def _check_file(st: os.stat_result, where: str, limits: Limits) -> None:
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
    if st.st_size > limits.max_bytes:
        raise Refused(_size_message(where, st.st_size, limits))


def _size_message(where: str, size: int, limits: Limits) -> str:
    return (
        f"{where} is {size / 2**20:.1f} MiB; the limit is {limits.max_bytes / 2**20:g} MiB. Clear the outputs "
        f"(Kernel > Restart Kernel and Clear All Outputs), save, and submit again."
    )


def _open_problem(e: OSError, where: str) -> str:
    if e.errno == errno.ELOOP:
        return _link_message(where)
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"{where} could not be opened (permission denied). Make the file readable and submit again."
    return f"{where} could not be opened ({e.strerror}). Save it again and submit again."
