"""Reference results that are the same for every student, computed once per course.

Some expected values depend only on the reference and the grader's fixed inputs: a whole
ResNet50's outputs for the grader's weights, say (seconds to build, and the same for every
submission). A grader asks the store for them by a key; the first grading computes them and
keeps them in ``<course>/.cache/reference/<assignment>/``, every later one reads them.

Entries are kept under a digest of everything that decides them: the reference notebook and
its helper modules (``source/<assignment>/``), the assignment's graders, the grading library
(``autograder/kit``, the weights' recipe), the versions of NumPy, TensorFlow and Keras, and
the key itself (which names the input's digest). Change any of them and the entry is made
again. Written by the grader process only (the student's code never sees the store), each
entry atomically: graders running side by side may both make one, never read half of one.
Arrays only, read without pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from autograder.course.assignments import Assignment

VERSION = "1"  # the store's own layout
PACKAGES = ("numpy", "tensorflow-cpu", "tensorflow", "keras")
KIT = Path(__file__).parent
WEIGHTS = KIT.parent / "sandbox" / "harness" / "weights.py"


def _files(folder: Path) -> list[Path]:
    skip = {"__pycache__", ".ipynb_checkpoints"}
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc" and not skip & set(p.parts)]
    return sorted(p for p in files if p.name != "catalogue.py")  # (the catalogue decides no expected value)


def inputs_digest(assignment: Assignment) -> str:
    """A digest of everything but the key that decides a stored reference result."""
    h = hashlib.sha256(f"reference store {VERSION}\0".encode())
    for label, folder in (("source", assignment.source_notebook.parent), ("graders", assignment.graders_dir),
                          ("kit", KIT)):  # fmt: skip
        for path in _files(folder):
            data = path.read_bytes()
            h.update(f"{label}/{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
            h.update(data)
    h.update(WEIGHTS.read_bytes())
    for package in PACKAGES:
        try:
            h.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{package} absent\0".encode())
    return h.hexdigest()


def array_digest(*arrays: np.ndarray) -> str:
    """A short digest of arrays' dtypes, shapes and values (for a key that names an input)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


class ReferenceStore:
    """``get(key, compute)``: ``compute()``'s arrays, from the course's store when they are there."""

    def __init__(self, assignment: Assignment, folder: Path | None = None):
        self.folder = folder or assignment.root / ".cache" / "reference" / assignment.name
        self.assignment = assignment
        self._inputs: str | None = None

    def path(self, key: str) -> Path:
        if self._inputs is None:
            self._inputs = inputs_digest(self.assignment)  # once per grader process
        name = hashlib.sha256(f"{self._inputs}\0{key}".encode()).hexdigest()
        return self.folder / f"{name}.npz"

    def get(self, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        path = self.path(key)
        try:
            with np.load(path, allow_pickle=False) as stored:
                if stored["key"].item() == key:  # (never a digest collision, however unlikely)
                    return {name: stored[name] for name in stored.files if name != "key"}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # not made yet, or unreadable: make it again
        arrays = compute()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError:  # a course the grader can't write: compute every time, grade all the same
            return arrays
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, key=np.array(key), **arrays)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
        return arrays


def shapes_array(shapes: list[tuple]) -> np.ndarray:
    """Weight shapes as an array the store can keep (JSON text: shapes have different lengths)."""
    return np.array(json.dumps([list(s) for s in shapes]))


def shapes_of(stored: np.ndarray) -> list[tuple]:
    return [tuple(int(n) for n in s) for s in json.loads(stored.item())]
