"""Download the course's optional data sets into datasets/cache/, only when asked.

    python datasets/fetch.py list               # what can be fetched, and what is here
    python datasets/fetch.py cifar10            # CIFAR-10 (163 MB), checked against its MD5
    python datasets/fetch.py cifar10 --dest DIR # somewhere else (then set COURSE_DATA_DIR=DIR)

Nothing in the course imports this file or downloads at import time: every assignment
runs offline with the data it ships. Downloads go through pooch, which verifies the
checksum and skips the download when a verified copy is already there.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parent / "cache"


@dataclass(frozen=True)
class Dataset:
    name: str
    url: str
    known_hash: str  # "md5:..." or "sha256:...", as pooch wants it
    archive: str  # file name of the download
    folder: str  # what the archive unpacks to, inside the destination
    size: str
    description: str


DATASETS = {
    "cifar10": Dataset(
        name="cifar10",
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        known_hash="md5:c58f30108f718f92721af3b95e74349a",  # the MD5 published on the CIFAR-10 page
        archive="cifar-10-python.tar.gz",
        folder="cifar-10-batches-py",
        size="163 MB",
        description="CIFAR-10, python version: 60,000 32x32 colour images in 10 classes (conv_net)",
    ),
}


class RichDownloadBar:
    """pooch's progress-bar interface (total, update, reset, close) drawn with rich."""

    def __init__(self, label: str):
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self.progress = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn())
        self.task = self.progress.add_task(label, total=None)
        self.progress.start()

    @property
    def total(self) -> float | None:
        return self.progress.tasks[0].total

    @total.setter
    def total(self, value: float | None) -> None:
        self.progress.update(self.task, total=value)

    def update(self, n: int) -> None:
        self.progress.update(self.task, advance=n)

    def reset(self) -> None:
        self.progress.reset(self.task, total=self.total)

    def close(self) -> None:
        self.progress.stop()


def fetch(dataset: Dataset, dest: Path = CACHE, verbose: bool = False) -> Path:
    """Download (if needed), verify and unpack one data set; return the unpacked folder."""
    import pooch

    dest.mkdir(parents=True, exist_ok=True)
    pooch.get_logger().setLevel("INFO" if verbose else "WARNING")
    pooch.retrieve(
        url=dataset.url,
        known_hash=dataset.known_hash,
        fname=dataset.archive,
        path=dest,
        processor=pooch.Untar(extract_dir="."),  # the archive holds one folder: dataset.folder
        progressbar=RichDownloadBar(dataset.archive) if sys.stderr.isatty() else False,
    )
    return dest / dataset.folder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python datasets/fetch.py",
        description="Download optional data sets for the course (checksummed, into datasets/cache/).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="say what pooch is doing")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the data sets this command can fetch, and which are here")
    for ds in DATASETS.values():
        p = sub.add_parser(ds.name, help=f"{ds.description}; {ds.size}")
        p.add_argument("--dest", type=Path, default=CACHE, metavar="DIR",
                       help=f"where to download and unpack (default: {CACHE}); set COURSE_DATA_DIR=DIR "
                            "if you choose another place")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for ds in DATASETS.values():
            here = "present" if (CACHE / ds.folder).is_dir() else "not downloaded"
            print(f"{ds.name:10s} {ds.size:>8s}  {here:15s} {ds.description}")
        return 0
    dataset = DATASETS[args.command]
    try:
        folder = fetch(dataset, Path(args.dest).expanduser().resolve(), verbose=args.verbose)
    except ValueError as e:  # pooch: the download's checksum is wrong (pooch keeps nothing)
        print(f"error: the download of {dataset.archive} failed its checksum ({e}). Try again; if it keeps "
              "failing, the file on the server is not the one the course expects.", file=sys.stderr)  # fmt: skip
        return 1
    except OSError as e:  # no network, disk full, permissions
        print(f"error: could not fetch {dataset.name} into {args.dest}: {e}", file=sys.stderr)
        return 1
    print(f"{dataset.name} is ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
