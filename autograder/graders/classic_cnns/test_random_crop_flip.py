"""random_crop_flip(images, pad, rng) -> array: zero-pad, random crop of the original size, left-right flip with p = 1/2.

``rng`` is a NumPy Generator created in the sandbox (``np.random.default_rng(seed)``),
so the student's function and the reference (with its own generator of the same seed)
draw the same numbers when they follow the contract's order: for each image,
``rng.integers(0, 2 * pad + 1, size=2)`` (top, left), then ``rng.random() < 0.5`` (flip).
Some tests check only properties that hold whatever the order (each output is a crop of
the zero-padded image, mirrored or not; flips about half of the time; every offset occurs).
"""

import numpy as np
import pytest

from autograder.kit import checks

ORDER_HINT = ("for each image in order: top, left = rng.integers(0, 2 * pad + 1, size=2), then flip = rng.random() < 0.5 "
              "(draw both even when pad is 0); crop rows top:top+H and columns left:left+W of the zero-padded image, "
              "and reverse the width axis when flip.")  # fmt: skip
CROP_HINT = ("pad with zeros on every side of the height and width (np.pad's default), crop H x W starting at "
             "(top, left), and flip left-right: reverse the width axis, crop[:, ::-1].")  # fmt: skip


def generator(student, seed):
    """np.random.default_rng(seed), created in the sandbox (a Generator can't cross it)."""
    random = student.getattr(student.ref("np"), "random")
    return student.call_method(student.getattr(random, "default_rng"), "__call__", seed).value


def run(student, images, pad, seed, return_args=False):
    result = student.call("random_crop_flip", images, pad, generator(student, seed), return_args=return_args)
    what = f"random_crop_flip(images, pad={pad}, rng) on images of shape {images.shape}"
    out = checks.shape(result.value, images.shape, what, hint="return an array with the shape of images.")
    return (out, result) if return_args else out


def explain(image, out, pad):
    """(top, left, flipped) such that out is that crop of the zero-padded image, or None."""
    H, W = image.shape[:2]
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    for top in range(2 * pad + 1):
        for left in range(2 * pad + 1):
            crop = padded[top : top + H, left : left + W]
            if np.array_equal(out, crop):
                return top, left, False
            if np.array_equal(out, crop[:, ::-1]):
                return top, left, True
    return None


def explain_all(images, outs, pad, what):
    found = []
    for i, (image, out) in enumerate(zip(images, outs, strict=True)):
        how = explain(image, out, pad)
        if how is None:
            raise checks.Mismatch(f"{what}: output image {i} is not an {image.shape[0]}x{image.shape[1]} crop of the "
                                  f"zero-padded image {i}, mirrored or not.", CROP_HINT)  # fmt: skip
        found.append(how)
    return found


@pytest.mark.share(1)
def test_shape_and_dtype(student, rng):
    """For float32 images of shape (5, 8, 8, 3), a float32 array of the same shape."""
    images = rng.standard_normal((5, 8, 8, 3)).astype(np.float32)
    out = run(student, images, 2, seed=1)
    checks.floating(out, "random_crop_flip(images, 2, rng) for float32 images", dtype=np.float32)


@pytest.mark.share(3)
def test_matches_reference_for_a_seed(student, reference, rng):
    """With the same seed as the reference: the same crops and flips, for pads 0, 1, 2 and 3 and non-square images."""
    cases = [((6, 8, 8, 3), 2, 11), ((5, 7, 9, 1), 0, 12), ((4, 10, 6, 2), 3, 13), ((7, 5, 5, 1), 1, 14)]
    for shape, pad, seed in cases:
        images = rng.standard_normal(shape)
        out = run(student, images, pad, seed)
        expected = reference.random_crop_flip(images, pad, np.random.default_rng(seed))
        checks.close(out, expected, f"random_crop_flip(images, pad={pad}, np.random.default_rng(seed)) on images of "
                     f"shape {shape}", rtol=0, atol=0, hint=ORDER_HINT)  # fmt: skip


@pytest.mark.share(1)
def test_same_seed_same_output(student, rng):
    """Two generators with the same seed give the same output; another seed gives another output."""
    images = rng.standard_normal((6, 6, 6, 1))
    first, second, other = (run(student, images, 2, seed) for seed in (5, 5, 6))
    checks.close(second, first, "the second output for the same seed", rtol=0, atol=0,
                 hint="use only rng for randomness (no np.random.* functions, no new generator).")  # fmt: skip
    if np.array_equal(first, other):
        raise checks.Mismatch("Two different seeds gave exactly the same crops and flips: the randomness should come "
                              "from rng.", ORDER_HINT)  # fmt: skip


@pytest.mark.share(1)
def test_does_not_modify_its_input(student, rng):
    """Leaves images unchanged."""
    images = rng.standard_normal((4, 6, 5, 2))
    _, result = run(student, images.copy(), 2, seed=3, return_args=True)
    checks.unchanged(images, result.args[0], "images")


@pytest.mark.share(2)
def test_padding_is_zeros(student, rng):
    """Every output image is a crop of its zero-padded image (pad 3), mirrored left-right or not."""
    images = 1 + rng.random((40, 6, 5, 2))  # no zeros of their own
    out = run(student, images, 3, seed=7)
    explain_all(images, out, 3, "random_crop_flip(images, 3, rng)")


@pytest.mark.share(1)
def test_flips_about_half(student, rng):
    """With pad=0, each output is the image or its mirror, and about half of 400 images are mirrored."""
    images = rng.standard_normal((400, 4, 5, 1))
    found = explain_all(images, run(student, images, 0, seed=8), 0, "random_crop_flip(images, 0, rng)")
    flipped = sum(f for _, _, f in found)
    if not 150 <= flipped <= 250:
        raise checks.Mismatch(f"{flipped} of 400 images were mirrored; with probability 1/2, about 200 should be.",
                              "flip when rng.random() < 0.5.")  # fmt: skip


@pytest.mark.share(1)
def test_every_offset_occurs(student, rng):
    """With pad=2, over 300 images every crop offset (top, left) from (0, 0) to (4, 4) occurs."""
    images = rng.standard_normal((300, 5, 6, 1))
    found = explain_all(images, run(student, images, 2, seed=9), 2, "random_crop_flip(images, 2, rng)")
    missing = sorted({(t, le) for t in range(5) for le in range(5)} - {(t, le) for t, le, _ in found})
    if missing:
        raise checks.Mismatch(f"Over 300 images, {len(missing)} of the 25 crop offsets never occurred, for example "
                              f"(top, left) = {missing[0]}.", "draw top and left from rng.integers(0, 2 * pad + 1): "
                              "every value from 0 to 2 * pad, for each image.")  # fmt: skip
