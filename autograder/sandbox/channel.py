"""Talking to a running worker: one request and its reply within a deadline, serving the worker's callbacks meanwhile.

Messages travel as frames (``harness/wire.py``: data only, each inside a size budget).
Whatever goes wrong on the pipes ends the worker: it is killed, and the caller gets a
``WorkerTimeout`` or a ``WorkerDied`` whose reason is written for the student.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from autograder.sandbox.harness import wire


class WorkerDied(Exception):
    """The worker process ended while we waited for a reply."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WorkerTimeout(Exception):
    """The worker did not reply in time; it has been killed."""


class Endpoint(Protocol):
    """A pipe or socket end (Popen's, or ``forked.Forked``'s)."""

    def fileno(self) -> int: ...


class Channel:
    """The protocol pipes of one worker. ``stop`` kills the worker; ``gone`` says why it ended."""

    def __init__(self, to_worker: Endpoint, from_worker: int, stop: Callable[[], None], gone: Callable[[], str]):
        self.to_worker = to_worker  # (its fileno() is asked at each write: once closed, no write reaches another fd)
        self.reader = wire.FrameReader(from_worker)
        self.stop, self.gone = stop, gone

    def request(self, message: dict, deadline: float, on_callback: Callable[[dict], dict] | None = None) -> dict:
        """Send one request and return the reply, serving callbacks while we wait."""
        self.send(message, deadline)
        while True:
            reply = self.read(deadline)
            if reply.get("op") != "callback":
                return reply
            answer = on_callback(reply) if on_callback else {"ok": False, "message": "no helpers here"}
            self.send(answer, deadline)

    def send(self, message: dict, deadline: float) -> None:
        """Write within the same deadline as the reply: a worker that stops reading
        (say, after asking for a large helper answer) can't block the grader."""
        try:
            wire.write_frame(self.to_worker.fileno(), wire.encode_frame(message), deadline)
        except wire.FrameTimeout:
            self.stop()
            raise WorkerTimeout() from None
        except (BrokenPipeError, OSError):
            raise WorkerDied(self.gone()) from None

    def read(self, deadline: float) -> dict:
        """The worker's next message, by ``deadline``."""
        try:
            return wire.decode_payload(self.reader.read(deadline))
        except wire.FrameTimeout:
            self.stop()
            raise WorkerTimeout() from None
        except (wire.StreamClosed, ConnectionResetError):  # (a warm worker's socket resets if it died unread)
            raise WorkerDied(self.gone()) from None
        except wire.TooLarge as e:  # over what the grader reads in one message: never decoded, never kept
            self.stop()
            raise WorkerDied(f"your code sent the grader {e}, more than it accepts; the worker was stopped") from None
        except wire.WireError as e:  # garbage on the protocol pipe: treat as a crash
            self.stop()
            raise WorkerDied(f"the worker sent malformed data ({e})") from None
