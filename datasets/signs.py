"""Fetch the SIGNS dataset (hands showing 0 to 5 fingers, 64×64×3) for keras_resnet.

The notebook runs without it: by default it trains on "hand digits", real handwritten
digits 0 to 5 that ship with the environment. SIGNS is the set the original
deeplearning.ai exercise used; put it in place and the notebook picks it up.

    python datasets/signs.py --base-url URL --sha256 TRAIN_SHA256 TEST_SHA256
    python datasets/signs.py --from-dir FOLDER --sha256 TRAIN_SHA256 TEST_SHA256
    python datasets/signs.py --check

Files land in ``$COURSE_DATA_DIR`` if it is set, else ``datasets/cache/`` (not
committed), as ``train_signs.h5`` and ``test_signs.h5``.

**Why the checksums are required.** SIGNS has no official download address: it is
distributed inside the course's hosted labs, and the copies on the web are personal
mirrors, none of which publishes a checksum. A download without a known checksum could
be anything, so this command never downloads without one: pass the SHA-256 of each
file, taken from a copy you trust (for instance one you exported from the course lab:
``--from-dir`` copies and verifies it, ``--check`` prints the hashes of what is in
place). Downloads go through pooch, which verifies the hash before keeping a file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

FILES = ("train_signs.h5", "test_signs.h5")
# Datasets inside each file, for a quick sanity check after download.
EXPECTED = {
    "train_signs.h5": ("train_set_x", "train_set_y"),
    "test_signs.h5": ("test_set_x", "test_set_y", "list_classes"),
}
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def cache_dir() -> Path:
    """Where the files go: $COURSE_DATA_DIR, else datasets/cache next to this file."""
    env = os.environ.get("COURSE_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "cache"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(base_url: str, hashes: dict[str, str], dest: Path) -> list[Path]:
    """Download each file from ``base_url/<name>`` with pooch, verifying its SHA-256."""
    import pooch

    out = []
    for name in FILES:
        url = base_url.rstrip("/") + "/" + name
        path = pooch.retrieve(url, known_hash=f"sha256:{hashes[name]}", fname=name, path=dest, progressbar=False)
        out.append(Path(path))
    return out


def copy_from(folder: Path, hashes: dict[str, str], dest: Path) -> list[Path]:
    """Copy the two files from a local folder, refusing any whose SHA-256 differs."""
    out = []
    for name in FILES:
        src = folder / name
        if not src.is_file():
            raise SystemExit(f"error: {src} does not exist; --from-dir needs a folder holding {' and '.join(FILES)}")
        actual = sha256(src)
        if actual != hashes[name]:
            raise SystemExit(
                f"error: {src} has SHA-256 {actual}, not the {hashes[name]} you passed; nothing was copied"
            )
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / name)
        out.append(dest / name)
    return out


def describe(path: Path) -> str:
    """One line about a file: its hash and, if h5py can read it, its datasets' shapes."""
    text = f"{path}  sha256={sha256(path)}"
    try:
        import h5py

        with h5py.File(path, "r") as f:
            shapes = ", ".join(f"{k}{tuple(f[k].shape)}" for k in EXPECTED[path.name] if k in f)
            missing = [k for k in EXPECTED[path.name] if k not in f]
        text += f"  [{shapes}]" + (f"  MISSING {missing}" if missing else "")
    except Exception as e:  # a broken file: say so, keep going
        text += f"  (not a readable HDF5 file: {type(e).__name__})"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="See the module docstring for why checksums are required."
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--base-url", help="download <URL>/train_signs.h5 and <URL>/test_signs.h5")
    source.add_argument("--from-dir", type=Path, help="copy the two files from this folder instead of downloading")
    source.add_argument(
        "--check", action="store_true", help="print the SHA-256 and shapes of the files in place, then exit"
    )
    parser.add_argument(
        "--sha256",
        nargs=2,
        metavar=("TRAIN", "TEST"),
        help="SHA-256 of train_signs.h5 and test_signs.h5 (required to fetch)",
    )
    parser.add_argument(
        "--dest", type=Path, default=None, help="target folder (default: $COURSE_DATA_DIR or datasets/cache)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print each file's hash and shapes afterwards")
    args = parser.parse_args(argv)
    dest = args.dest or cache_dir()

    if args.check:
        present = [dest / name for name in FILES if (dest / name).is_file()]
        for path in present:
            print(describe(path))
        if len(present) < len(FILES):
            print(f"missing in {dest}: {', '.join(n for n in FILES if not (dest / n).is_file())}")
            return 1
        return 0

    if not args.sha256 or not all(_HEX.match(h) for h in args.sha256):
        parser.error(
            "--sha256 TRAIN TEST is required (two 64-digit hex SHA-256 values): no published checksum exists for SIGNS, and this command never downloads without one"
        )
    hashes = dict(zip(FILES, (h.lower() for h in args.sha256), strict=True))
    paths = fetch(args.base_url, hashes, dest) if args.base_url else copy_from(args.from_dir, hashes, dest)
    for path in paths:
        print(describe(path) if args.verbose else f"ok  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
