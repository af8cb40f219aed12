"""Stand-ins a test hands the sandbox while it grades a part, when the reference can't answer.

``assignment.toml``'s ``[stand_ins]`` declares which graded functions the grader may
answer for while each part is graded (``autograder/grader/stand_ins.py`` enforces it). By
default (``kit/fixtures.py``) the answers are the reference's own functions: right for
NumPy, where values cross the sandbox boundary. Objects that can't cross it (a Keras
layer or tensor) need stand-ins built for the test, and a record of how the part
called them. An assignment whose graders do that overrides the ``grader_helpers``
fixture in its conftest.py with an ``Answering`` mapping and fills it per test::

    with answering(identity_block=Recorder(reference.identity_block, lambda a: a["X"], log)):
        model = student.call("ResNet50", ...)
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any

import numpy as np

# What a record keeps of one argument: arguments come from student code, so a record is a
# bounded summary made when the call is recorded (never the value itself, which may be huge).
SHORT_TEXT = 200  # characters of a string (or a handle's type and repr) kept as they are
SMALL_ARRAY = 16  # elements of an array kept as it is
MAX_ITEMS = 64  # values kept of one argument in all, however nested (the rest: Oversized)
MAX_DEPTH = 4  # levels of nesting kept


class Answering(dict):
    """The ``grader_helpers`` mapping: empty (the student's own code runs) except inside
    ``with answering(name=fn)``, when the sandbox hands calls to ``name`` to ``fn``."""

    def __bool__(self) -> bool:  # StudentSession replaces a falsy mapping by a new dict
        return True

    @contextmanager
    def __call__(self, **functions: Any):
        self.update(functions)
        try:
            yield
        finally:
            for name in functions:
                self.pop(name, None)


class Oversized:
    """What a record keeps of a value too large or too strange to keep: its kind and size.

    It equals nothing (not even another ``Oversized``), so a recorded call that held one
    never matches the reference's; it can't be expanded (it is not iterable), and its repr
    is short.
    """

    __slots__ = ("kind", "size")

    def __init__(self, kind: str, size: int | None = None):
        self.kind, self.size = kind[:SHORT_TEXT], size

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        article = "an" if self.kind[:1] in "aeiou" else "a"
        if self.size is None:
            return f"<{article} {self.kind}>"
        return f"<{article} {self.kind} of {self.size:,} {_UNITS.get(self.kind, 'items')}>"


_UNITS = {"str": "characters", "bytes": "bytes", "int": "bits", "array": "elements"}


class Shaped:
    """What a record keeps of an array or a tensor: its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple, dtype: str):
        self.shape, self.dtype = shape, dtype[:SHORT_TEXT]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shaped) and (other.shape, other.dtype) == (self.shape, self.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"<a tensor of shape {self.shape}>"


def summary(value: Any) -> Any:
    """A bounded stand-in for one recorded argument, made without expanding it.

    Small plain values stay as they are (numbers, strings of at most ``SHORT_TEXT``
    characters, arrays of at most ``SMALL_ARRAY`` elements, and lists, tuples and dicts of
    them: ``MAX_ITEMS`` values in all, ``MAX_DEPTH`` levels deep); a larger array or any
    tensor becomes its ``Shaped``; a handle keeps its id and the start of its type and repr;
    anything else becomes an ``Oversized`` marker.
    """
    return _summary(value, 0, [MAX_ITEMS])


def _summary(value: Any, depth: int, left: list[int]) -> Any:
    from autograder.sandbox.harness.wire import RemoteRef

    left[0] -= 1
    t = type(value)
    if left[0] < 0 or depth > MAX_DEPTH:
        return Oversized(t.__name__, len(value) if t in (str, bytes, list, tuple, dict) else None)
    if value is None or t in (bool, float):
        return value
    if t is RemoteRef:
        return RemoteRef(value.id, value.type[:SHORT_TEXT], value.repr[:SHORT_TEXT])
    if t is int:
        return value if abs(value) < 2**63 else Oversized("int", value.bit_length())
    if t is str:
        return value if len(value) <= SHORT_TEXT else Oversized("str", len(value))
    if t is bytes:
        return Oversized("bytes", len(value))
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf" and value.size <= SMALL_ARRAY:
            return value.copy()
        return Shaped(tuple(int(n) for n in value.shape), str(value.dtype))
    if t in (list, tuple):
        if len(value) > left[0]:
            return Oversized(t.__name__, len(value))
        return t(_summary(v, depth + 1, left) for v in value)
    if t is dict:
        if len(value) > left[0]:
            return Oversized("dict", len(value))
        return {_summary(k, depth + 1, left): _summary(v, depth + 1, left) for k, v in value.items()}
    shape = _static_shape(value)
    if shape is not None:  # a tensor of the reference's own model, built here
        return Shaped(shape, str(getattr(value, "dtype", "")))
    return Oversized(t.__name__)


def _static_shape(value: Any) -> tuple | None:
    """The shape of a tensor built by the grader (a KerasTensor, a tf.Tensor), if it is one."""
    if type(value).__module__.split(".")[0] not in ("keras", "tensorflow"):
        return None
    try:
        return tuple(None if n is None else int(n) for n in value.shape)
    except (AttributeError, TypeError, ValueError):
        return None


class Recorder:
    """Stands in for a graded function or class: logs each call's arguments (bound to the
    reference's signature) as ``(name, arguments)`` and answers with ``answer(arguments)``.

    The answer sees the arguments as they came; the log keeps only their ``summary``, made
    at once, so what a student's calls leave in the grader is bounded whatever they pass.
    """

    def __init__(self, reference_fn: Any, answer: Any, log: list | None = None):
        self.name = reference_fn.__name__
        self.signature = inspect.signature(reference_fn)
        self.answer = answer
        self.log = log if log is not None else []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("kwargs", None)
        self.log.append((self.name, {k: summary(v) for k, v in arguments.items()}))
        return self.answer(arguments)


@contextmanager
def patched(namespace_fn: Any, **replacements: Any):
    """Swap names in the reference notebook's namespace (the globals of its functions)."""
    namespace = namespace_fn.__globals__ if hasattr(namespace_fn, "__globals__") else namespace_fn
    saved = {name: namespace[name] for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        namespace.update(saved)
