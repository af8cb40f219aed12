"""nbgrader's formgrader, as far as a page an instructor opens: its rendering and its origin.

``render`` turns an autograded notebook into the page formgrader's SubmissionHandler
serves (the same HTMLExporter, configured by ``FormgradeExtension.build_extra_config``,
with the same resources). ``FormgraderOrigin`` serves such pages on loopback under
``/formgrader/submissions/<name>/``, with formgrader's own static files (jQuery, Bootstrap,
formgrade.js, which then run as they do for an instructor), and records every request it
gets: a payload that reaches the Jupyter server (``/api/kernels`` in a real attack) is a
request to this origin, such as ``/pwned/<payload>``.
"""

from __future__ import annotations

import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESOURCES = {  # what SubmissionHandler.get passes (formgrader reads them from the gradebook)
    "assignment_id": "cnn_step_by_step",
    "notebook_id": "cnn_step_by_step",
    "submission_id": "0123456789abcdef",
    "index": 0,
    "total": 1,
    "base_url": "",
    "student": "student",
    "last_name": "Student",
    "first_name": "A",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".map": "application/json",
         ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".svg": "image/svg+xml"}  # fmt: skip


@cache
def _exporter():
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    return HTMLExporter(config=FormgradeExtension().build_extra_config())


def render(notebook: Path, student: str = "student", named: bool = True) -> str:
    """The page formgrader serves for ``notebook`` (an autograded notebook file) of ``student``;
    ``named=False``: the gradebook has no names for them (ours never has), so the id is shown."""
    names = {} if named else {"last_name": None, "first_name": None}
    resources = {**RESOURCES, "student": student, **names, "notebook_path": f"/{notebook.name}"}
    html, _ = _exporter().from_filename(str(notebook), resources=resources)
    return html


def static_dir() -> Path:
    from nbgrader.server_extensions.formgrader import handlers

    return Path(handlers.static_path)


class FormgraderOrigin:
    """A loopback HTTP server standing in for the instructor's Jupyter server."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        self.hits: list[str] = []  # every path requested, in order
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self._answer()

            def do_POST(self):  # noqa: N802
                self._answer()

            def _answer(self):
                path = self.path.split("?")[0]
                origin.hits.append(self.path)
                body, kind = origin._content(path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _content(self, path: str) -> tuple[bytes | None, str]:
        if path in self.pages:
            return self.pages[path], "text/html; charset=utf-8"
        if path.startswith("/formgrader/static/"):
            root = static_dir().resolve()
            file = (root / path.removeprefix("/formgrader/static/")).resolve()
            if root in file.parents and file.is_file():
                return file.read_bytes(), TYPES.get(file.suffix, "application/octet-stream")
        return None, "text/plain"

    def add(self, name: str, html: str) -> str:
        """Serve ``html`` as the submission page ``name``; its URL."""
        path = f"/formgrader/submissions/{name}/"
        self.pages[path] = html.encode("utf-8")
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
