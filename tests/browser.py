"""Headless Chromium, driven over the DevTools protocol on a pipe: what a page runs and requests.

A test opens a page the way an instructor would and reads back everything that happened:
every request the page made (``Visit.requests``, from the Network domain: nothing can load
unseen, not even a request that fails), every call of the probe function (``PROBE``,
a DevTools binding every frame has: a hostile payload calls it when it runs), the
document's title after the page settled, and console messages and uncaught exceptions.
Every host name but 127.0.0.1 resolves to nothing, so no request reaches the internet.

The pipe (``--remote-debugging-pipe``, file descriptors 3 and 4) opens no port that
another user of the machine could connect to.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import need_program

PROBE = "autograderProbe"  # window.autograderProbe("what ran") reaches the test


@dataclass
class Visit:
    """What one page did: its title, requests, probe calls, console messages and exceptions."""

    url: str
    title: str = ""
    requests: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    value: object = None  # what ``visit``'s ``evaluate`` expression returned

    def requests_beyond(self, baseline: Visit) -> list[str]:
        """Requests this page made that ``baseline`` (the same page without student content) did not:
        not the page itself, nor ``data:`` URLs (the page's own bytes, not a request leaving it)."""
        own = {self.url, baseline.url}
        return [u for u in self.requests if u not in own and u not in baseline.requests and not u.startswith("data:")]


class Chromium:
    """One headless Chromium process; ``visit`` opens each page in a fresh tab."""

    def __init__(self, profile: Path):
        exe = need_program("chromium", "chromium")
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()

        def at_fds_3_and_4():  # where --remote-debugging-pipe reads commands and writes replies
            # (by way of descriptors above 4: either pipe end may itself be 3 or 4)
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
             "about:blank"],
            preexec_fn=at_fds_3_and_4, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self._next = 0
        self._waiting: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._replies, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._waiting.pop(message["id"]).put(message)
                    else:
                        self.events.put(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        """One DevTools command; its result (AssertionError on a protocol error)."""
        with self._lock:
            self._next += 1
            ident, reply = self._next, queue.Queue()
            self._waiting[ident] = reply
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        answer = reply.get(timeout=timeout)
        assert "error" not in answer, (method, answer["error"])
        return answer.get("result", {})

    def visit(self, url: str, evaluate: str | None = None, settle: float = 1.5, limit: float = 60) -> Visit:
        """Open ``url`` in a new tab; wait for its load event, then until nothing happened for ``settle`` s.

        ``evaluate``: a JavaScript expression (ours) run in the page at the end; its value is ``Visit.value``.
        """
        while not self.events.empty():  # (events of earlier tabs)
            self.events.get_nowait()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method, params in (("Runtime.addBinding", {"name": PROBE}), ("Runtime.enable", {}),
                               ("Network.enable", {}), ("Page.enable", {})):  # fmt: skip
            self.send(method, params, session)
        visit = Visit(url)
        self.send("Page.navigate", {"url": url}, session)
        loaded, quiet_since, started = False, time.monotonic(), time.monotonic()
        while time.monotonic() - started < limit and not (loaded and time.monotonic() - quiet_since > settle):
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if event.get("sessionId") != session:
                continue
            quiet_since = time.monotonic()
            method, params = event["method"], event.get("params", {})
            if method == "Page.loadEventFired":
                loaded = True
            elif method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Runtime.bindingCalled" and params.get("name") == PROBE:
                visit.probes.append(params.get("payload", ""))
            elif method == "Runtime.consoleAPICalled":
                visit.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                visit.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        assert loaded, f"{url} did not finish loading in {limit} s"
        title = self.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True}, session)
        visit.title = title["result"].get("value", "")
        if evaluate is not None:
            answer = self.send("Runtime.evaluate", {"expression": evaluate, "returnByValue": True}, session)
            assert "exceptionDetails" not in answer, answer["exceptionDetails"]
            visit.value = answer["result"].get("value")
        self.send("Target.closeTarget", {"targetId": target})
        return visit

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # already gone: killing it below is enough
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
