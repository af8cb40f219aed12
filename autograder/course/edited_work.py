"""Edited files in a release folder, moved aside (never deleted) before a regeneration replaces it.

Students are told to work on a copy, or in the folder ``nbgrader fetch_assignment`` makes, but a
student who opened ``release/<name>/<name>.ipynb`` and then ran ``make demo`` (which releases
again) would lose that work to the regeneration. So before release/<name> is replaced, every file
in it that someone changed is moved to ``release-edits/<name>/<time>/`` at the course root, at the
same relative path, and the release says where it went.

A file counts as changed when it differs from what this release generates *and* from what the
last release wrote there: the digests in ``.cache/release/<name>.json``, written by every release,
or, before the first one (a fresh clone), the version committed to git. Without either, a file
that differs from the new release is moved aside: the safe side.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

EDITS_DIR = "release-edits"  # at the course root, beside release/


def digest(path: Path) -> str:
    """Git's blob id of a file (or of a link's target text): the same as ``git hash-object``."""
    data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def files_in(folder: Path) -> dict[str, Path]:
    """Every file (and link, never followed) under ``folder``, by its relative path."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or path.is_file():
            found[path.relative_to(folder).as_posix()] = path
    return found


def manifest_path(root: Path, name: str) -> Path:
    return root / ".cache" / "release" / f"{name}.json"


def write_manifest(root: Path, name: str, released: Path) -> None:
    """Record what this release wrote to release/<name> (relative path -> digest)."""
    path = manifest_path(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({rel: digest(p) for rel, p in files_in(released).items()}, indent=1, sort_keys=True))


def committed(root: Path, folder: Path) -> dict[str, str]:
    """The digests git's HEAD holds for the files under ``folder`` ({} outside a git checkout)."""
    try:
        rel = folder.resolve().relative_to(root.resolve()).as_posix()
        out = subprocess.run(
            ["git", "-C", str(root), "ls-tree", "-r", "-z", "HEAD", "--", rel],
            capture_output=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (ValueError, OSError, subprocess.SubprocessError):
        return {}
    known = {}
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        if "\t" in entry:
            meta, path = entry.split("\t", 1)
            known[path[len(rel) + 1 :]] = meta.split()[2]
    return known


def last_release(root: Path, name: str, folder: Path) -> dict[str, str]:
    """What the last release wrote to ``folder``, as far as anyone knows."""
    path = manifest_path(root, name)
    if path.exists():
        try:
            return dict(json.loads(path.read_text()))
        except (ValueError, TypeError, OSError):
            log.warning("ignoring %s: it is not a release manifest (the next release rewrites it)", path)
    return committed(root, folder)


def changed(folder: Path, built: Path, known: dict[str, str]) -> list[str]:
    """The files in ``folder`` someone changed: unlike ``built``'s, and unlike what the last release
    wrote (``known``; when nothing is known, unlike ``built``'s is enough)."""
    fresh = {rel: digest(p) for rel, p in files_in(built).items()}
    edited = []
    for rel, path in files_in(folder).items():
        mine = digest(path)
        if mine != fresh.get(rel) and (not known or mine != known.get(rel)):
            edited.append(rel)
    return edited


def move_aside(folder: Path, built: Path, known: dict[str, str], edits: Path) -> Path | None:
    """Move every changed file of ``folder`` to ``edits``/<UTC time>/; where they went, or None."""
    edited = changed(folder, built, known) if folder.exists() else []
    if not edited:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest, n = edits / stamp, 1
    while dest.exists():  # two releases within a second: never mix or overwrite kept work
        n += 1
        dest = edits / f"{stamp}-{n}"
    for rel in edited:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder / rel, target)
    log.warning(
        "%s held %d edited file(s) that the new release would have replaced: %s. They were moved to %s. "
        "Work on a copy of the release (or in the folder `nbgrader fetch_assignment` makes), never in release/.",
        folder, len(edited), ", ".join(edited), dest,
    )  # fmt: skip
    return dest
