"""Helpers for "Convolutional Neural Networks: Step by Step": a photo, plots, gradient checks.

Nothing in here pads, convolves or pools: that is what you write in the notebook.
Only NumPy is imported up front; scikit-learn (for the photo) and matplotlib (for the
figures) are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def load_photo(size: tuple[int, int] = (64, 96), gray: bool = False) -> np.ndarray:
    """A small copy of scikit-learn's sample photo ``china.jpg`` (no download needed).

    Arguments:
    size -- (n_H, n_W) of the result; the photo is shrunk by averaging blocks of pixels
    gray -- if True, keep a single luminance channel instead of red, green and blue

    Returns:
    photo -- float array of shape (n_H, n_W, n_C) with values in [0, 1], channels last;
             n_C is 3, or 1 when gray=True. ``photo[np.newaxis]`` is a batch of one.
    """
    from sklearn.datasets import load_sample_image

    image = load_sample_image("china.jpg").astype(np.float64) / 255.0  # (427, 640, 3)
    for axis, n in enumerate(size):
        # area averaging: output pixel k is the mean of the input rows (or columns) in its bin
        edges = np.linspace(0, image.shape[axis], n + 1).astype(int)
        sums = np.add.reduceat(image, edges[:-1], axis=axis)
        counts = np.diff(edges).reshape([-1 if a == axis else 1 for a in range(image.ndim)])
        image = sums / counts
    if gray:
        image = image @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma
        image = image[:, :, np.newaxis]
    return image


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    symmetric: bool = False,
    same_scale: bool = True,
    size: float = 3.5,
) -> None:
    """Show images side by side, each drawn pixel for pixel (no smoothing).

    Arguments:
    images -- each of shape (n_H, n_W), (n_H, n_W, 1) or (n_H, n_W, 3); RGB values in [0, 1]
    titles -- one title per image, or None
    cmap -- colour map for single-channel images
    symmetric -- if True, centre the colour map on 0 (for signed maps such as edge responses)
                 and saturate the 1% of pixels with the largest magnitude
    same_scale -- if True, one pixel is as big in every panel (a padded image looks bigger);
                  if False, every panel is as tall as the others (a pooled image looks coarser)
    size -- height in inches of the tallest panel
    """
    import matplotlib.pyplot as plt

    titles = list(titles) if titles is not None else [""] * len(images)
    if len(titles) != len(images):
        raise ValueError(f"show_images got {len(images)} images but {len(titles)} titles; pass one title per image")
    tallest = max(np.shape(im)[0] for im in images)
    if same_scale:  # panel widths in proportion to pixel widths: the same inches per pixel
        widths = [np.shape(im)[1] / tallest for im in images]
    else:  # panel widths in proportion to aspect ratios: the same height
        widths = [np.shape(im)[1] / np.shape(im)[0] for im in images]
    fig, axes = plt.subplots(1, len(images), figsize=(size * sum(widths) + 0.3 * len(images), size + 0.6),
                             gridspec_kw={"width_ratios": widths}, squeeze=False)  # fmt: skip
    for ax, image, title in zip(axes[0], images, titles, strict=True):
        image = np.asarray(image, dtype=np.float64)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 3:
            ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
        else:
            # a robust limit, so that a few extreme pixels don't wash out the rest
            limit = np.percentile(np.abs(image), 99) if symmetric else None
            vmin, vmax = (-limit, limit) if symmetric and limit else (None, None)
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"{title}\n{image.shape[0]}×{image.shape[1]}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    plt.show()


def show_feature_maps(Z: np.ndarray, titles: Sequence[str] | None = None, size: float = 3.5) -> None:
    """Show every channel of one example's feature maps, with a colour map centred on 0.

    Arguments:
    Z -- feature maps of one example, shape (n_H, n_W, n_C)
    titles -- one title per channel, or None for "channel 0", "channel 1", ...
    size -- height of each panel in inches
    """
    if Z.ndim != 3:
        raise ValueError(f"show_feature_maps expects one example of shape (n_H, n_W, n_C), got shape {Z.shape}; "
                         "pass Z[0] rather than the whole batch")  # fmt: skip
    titles = titles if titles is not None else [f"channel {c}" for c in range(Z.shape[2])]
    show_images([Z[:, :, c] for c in range(Z.shape[2])], titles, cmap="RdBu_r", symmetric=True, size=size)


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference estimate of the gradient that backpropagation should return.

    For a function ``out = f(x)`` and an upstream gradient ``df`` (same shape as ``out``),
    this estimates d(sum(f(x) * df)) / dx, entry by entry:

        dx[idx] ≈ sum((f(x + h e_idx) - f(x - h e_idx)) * df) / (2 h)

    It costs two calls of ``f`` per entry of ``x``, so keep ``x`` small.

    Arguments:
    f -- function of one array, returning an array shaped like df
    x -- the input to perturb; changed temporarily and restored before returning
    df -- upstream gradient, the same shape as f(x)
    h -- step size

    Returns:
    dx -- float array with the shape of x
    """
    dx = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.array(f(x), dtype=np.float64)
        x[idx] = old - h
        minus = np.array(f(x), dtype=np.float64)
        x[idx] = old
        dx[idx] = np.sum((plus - minus) * df) / (2 * h)
    return dx


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest entry-wise relative error max(|a - b| / max(1e-8, |a| + |b|)).

    Below about 1e-7 two gradients agree; around 1e-2 or more, one of them is wrong.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error got arrays of shapes {a.shape} and {b.shape}; they must match")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0
