"""The grader's answers to a student's calls to other graded functions, and their limits.

While ``conv_forward`` is graded, its calls to ``zero_pad`` are answered by the
reference (in this, the trusted process), so a bug costs points once, where it lives.
That channel is also the one way student code can make the grader compute something,
so every request passes two gates before any reference code runs:

1. **Who may ask for what.** Only the stand-ins declared for the function under test
   (``[stand_ins]`` in the assignment's ``assignment.toml``) are answered, and only
   during a call into that function. Never the function under test itself (that would
   be an oracle for its own output), never a function it doesn't depend on. Any other
   request is refused, and the call it happened in fails with the reason, even if the
   student's code catches the error: a worker's own objects are reachable from student
   code (frames, ``gc``), so the *worker* can't be trusted to ask only for what it may.
2. **What it may cost.** The request is sized before it is computed (``check_cost``),
   then computed with bounded extra memory and time (``bounded``), and the answer is
   sized again. The bounds, stated once here and tested in ``tests/grader/test_stand_ins.py``:

   - the arrays in a request hold at most ``MAX_ELEMENTS`` elements together, and every
     pair of them broadcasts to at most ``MAX_ELEMENTS``;
   - every integer (Python, NumPy, or a 0-d integer array standing in for a size) is at
     most ``MAX_INT`` in magnitude;
   - computing the answer (say, ``distribute_value`` asked for a 10,000 × 10,000 shape,
     or ``zero_pad`` for a pad of 10,000 around a large array) may take at most ``MAX_EXTRA_BYTES`` of address space beyond
     what the grader already holds, and at most ``MAX_SECONDS`` of Python time;
   - the answer holds at most ``MAX_ELEMENTS`` elements.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import numpy as np

MAX_ELEMENTS = 2_000_000  # 16 MB of float64
MAX_INT = 10_000
MAX_EXTRA_BYTES = 256 * 2**20
MAX_SECONDS = 2.0


class Refused(Exception):
    """A request the grader won't answer; ``str(e)`` is written for the student."""


def refusal(asked: str, graded: str | None) -> str:
    during = f"while `{graded}` is being graded" if graded else "here"
    return f"your code asked the grader for `{asked}`, which is not available {during}"


def _leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    """Every array and number inside a request (already plain data), however nested."""
    if depth > 64:
        raise Refused("its arguments are nested too deeply")
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v, depth + 1)
    else:
        yield value


def check_cost(args: list, kwargs: dict) -> None:
    """Refuse a request whose arguments or obvious results are too big to compute here."""
    arrays, total = [], 0
    for leaf in _leaves([args, kwargs]):
        if isinstance(leaf, np.ndarray) and leaf.ndim == 0:
            leaf = leaf[()]  # a 0-d array used as a number (a pad, a stride, a size)
        if isinstance(leaf, np.ndarray):
            arrays.append(leaf)
            total += leaf.size
            if total > MAX_ELEMENTS:
                raise Refused(f"its arrays hold more than {MAX_ELEMENTS:,} elements")
        elif isinstance(leaf, (int, np.integer)) and not isinstance(leaf, (bool, np.bool_)):
            if abs(int(leaf)) > MAX_INT:
                raise Refused(f"it passed the number {int(leaf):,}, more than {MAX_INT:,}")
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            if a.size * b.size <= MAX_ELEMENTS:
                continue  # a broadcast is never bigger than the product of the two sizes
            try:
                shape = np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                continue  # they can't be combined element-wise
            if int(np.prod([float(n) for n in shape])) > MAX_ELEMENTS:
                raise Refused(f"two of its arrays broadcast to {_size(shape)} elements (at most {MAX_ELEMENTS:,})")


def check_answer(value: Any) -> None:
    total = sum(leaf.size for leaf in _leaves(value) if isinstance(leaf, np.ndarray))
    if total > MAX_ELEMENTS:
        raise Refused(f"its answer would hold more than {MAX_ELEMENTS:,} elements")


def _size(shape: tuple) -> str:
    return f"{float(np.prod([float(n) for n in shape])):,.0f}"


class _Expired(BaseException):
    """Raised by SIGALRM inside ``bounded`` (a BaseException: reference code can't catch it)."""


def _expire(*_: Any) -> None:
    raise _Expired


_PAGE = resource.getpagesize()
_statm: int | None = None  # kept open: one pread per answer instead of open/read/close


def _address_space() -> int:
    global _statm
    if _statm is None:
        _statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
    return int(os.pread(_statm, 64, 0).split()[0]) * _PAGE


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Run the block with at most MAX_EXTRA_BYTES more address space and MAX_SECONDS.

    The address-space limit is lowered for the whole grader process while the block
    runs; the graders' other threads only drain pipes then, in 64 KiB reads. The time
    limit (SIGALRM) interrupts Python code; NumPy work is bounded by the memory limit.
    This runs for every helper call (hundreds per submission), so it is kept cheap.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + MAX_EXTRA_BYTES
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, soft)
    timed = threading.current_thread() is threading.main_thread()
    if timed:
        previous = signal.signal(signal.SIGALRM, _expire)
        signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    except MemoryError:
        raise Refused(f"computing its answer would take more than {MAX_EXTRA_BYTES // 2**20} MiB") from None
    except _Expired:
        raise Refused(f"computing its answer would take more than {MAX_SECONDS:g} s") from None
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def answer(fn: Callable, args: Any, kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a student's request, within the bounds above."""
    if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise Refused("its arguments are not a list and keyword arguments")
    check_cost(args, kwargs)
    try:
        with bounded():
            value = fn(*args, **kwargs)
    except _Expired:  # the alarm went off just as the block ended, before it was disarmed
        raise Refused(f"computing its answer would take more than {MAX_SECONDS:g} s") from None
    check_answer(value)
    return value


def serve(
    message: dict, helpers: Mapping[str, Callable], allowed: Collection[str], graded: str | None
) -> tuple[dict, str | None]:
    """The reply to one request from the student's code for a graded helper, and why it was refused (None if not).

    Answered with the reference in ``helpers`` only if it is a declared stand-in of the
    function being called (``allowed``, while ``graded`` is called) and affordable (``answer``).
    """
    name = message.get("name")
    asked = name[:80] if isinstance(name, str) else f"a {type(name).__name__} (not a function name)"
    fn = helpers.get(name) if isinstance(name, str) and name in allowed else None
    try:
        if fn is None:
            raise Refused(refusal(asked, graded))
        return {"ok": True, "value": answer(fn, message.get("args", []), message.get("kwargs", {}))}, None
    except Refused as e:
        reason = str(e) if fn is None else f"the grader refused to compute `{asked}` for your code: {e}"
        return {"ok": False, "message": reason}, reason
    except Exception as e:  # the message is the reference's; keep only the type
        return {"ok": False, "message": type(e).__name__}, None
