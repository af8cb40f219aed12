"""Stand-ins a test hands the sandbox while it grades a part, when the reference can't answer.

``assignment.toml``'s ``[stand_ins]`` declares which graded functions the grader may
answer for while each part is graded (``autograder/stand_ins.py`` enforces it). By
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


class Recorder:
    """Stands in for a graded function or class: logs each call's arguments (bound to the
    reference's signature) as ``(name, arguments)`` and answers with ``answer(arguments)``."""

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
        self.log.append((self.name, arguments))
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
