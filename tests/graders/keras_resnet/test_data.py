"""Do the keras_resnet data loaders give what the notebook expects, offline?"""

from __future__ import annotations

import importlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

FOLDER = Path(__file__).resolve().parents[3] / "source" / "keras_resnet"


@pytest.fixture
def utils(monkeypatch, tmp_path):
    """resnets_utils with its data folders pointed at an empty temporary folder."""
    monkeypatch.syspath_prepend(str(FOLDER))
    module = importlib.import_module("resnets_utils")
    monkeypatch.setattr(module, "data_dirs", lambda: [tmp_path])
    return module


@pytest.mark.slow  # builds the hand-digit images
def test_hand_digits_are_shaped_like_signs(utils):
    """64x64x3 floats in [0, 1], six classes, the documented 2,400 / 600 split, 400 / 100 per class."""
    X_train, y_train, X_test, y_test, classes = utils.load_hand_digits()
    assert X_train.shape == (2400, 64, 64, 3) and X_test.shape == (600, 64, 64, 3)
    assert X_train.dtype == np.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0 and X_train.max() > 0.9
    assert np.array_equal(np.bincount(y_train), [400] * 6) and np.array_equal(np.bincount(y_test), [100] * 6)
    assert list(classes) == [0, 1, 2, 3, 4, 5]
    assert np.array_equal(X_train[..., 0], X_train[..., 2])  # gray copied into 3 channels


@pytest.mark.slow  # builds the hand-digit images
def test_split_is_fixed_and_disjoint(utils):
    """Two calls give the same split, and no test image is also a training image."""
    a, b = utils.load_hand_digits(size=16), utils.load_hand_digits(size=16)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    train = {x.tobytes() for x in a[0]}
    assert not any(x.tobytes() in train for x in a[2])


@pytest.mark.slow  # builds the hand-digit images
def test_default_dataset_without_signs(utils):
    """Without SIGNS on disk, load_dataset() falls back to the hand digits."""
    *_, name = utils.load_dataset(verbose=False)
    assert name.startswith("hand digits")


def test_signs_is_used_when_present(utils, tmp_path):
    """SIGNS files in the data folder are read: uint8 images scaled to [0, 1], flat labels."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    for split, m in (("train", 12), ("test", 6)):
        with h5py.File(tmp_path / f"{split}_signs.h5", "w") as f:
            f[f"{split}_set_x"] = rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8)
            f[f"{split}_set_y"] = rng.integers(0, 6, m)
            f["list_classes"] = np.arange(6)
    X_train, y_train, X_test, y_test, classes, name = utils.load_dataset(verbose=False)
    assert name == "SIGNS" and X_train.shape == (12, 64, 64, 3) and y_test.shape == (6,)
    assert X_train.dtype == np.float32 and X_train.max() <= 1.0 and list(classes) == list(range(6))


@pytest.mark.slow  # builds the hand-digit images
def test_small_images_fall_back_to_ten_digits(utils):
    """Without CIFAR-10, ResNet18 gets the ten digits at 32x32x3."""
    X_train, y_train, X_test, y_test, names, name = utils.load_small_images(verbose=False)
    assert X_train.shape[1:] == (32, 32, 3) and len(names) == 10 and name.startswith("digits")
    assert np.array_equal(np.unique(y_train), np.arange(10))


def test_cifar10_is_read_when_present(utils, tmp_path):
    """A CIFAR-10 folder in the cs231n pickle layout is read as (m, 32, 32, 3) floats."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": list(rng.integers(0, 10, 4))}, f)
    X_train, y_train, X_test, y_test, names, name = utils.load_small_images(verbose=False)
    assert name == "CIFAR-10" and X_train.shape == (20, 32, 32, 3) and X_test.shape == (4, 32, 32, 3)
    raw = pickle.load(open(folder / "test_batch", "rb"))["data"][0]
    assert np.isclose(X_test[0, 0, 0, 0], raw[0] / 255) and np.isclose(X_test[0, 0, 0, 1], raw[1024] / 255)


def test_confusion_matrix_counts(utils):
    counts = utils.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]), 3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_signs_fetch_requires_a_checksum(tmp_path, capsys):
    """datasets/signs.py refuses to fetch without --sha256, and copies only matching files."""
    sys.path.insert(0, str(FOLDER.parents[1] / "datasets"))
    try:
        signs = importlib.import_module("signs")
    finally:
        sys.path.pop(0)
    with pytest.raises(SystemExit):
        signs.main(["--base-url", "https://example.invalid/signs", "--dest", str(tmp_path)])
    assert "--sha256" in capsys.readouterr().err
    src = tmp_path / "src"
    src.mkdir()
    for name in signs.FILES:
        (src / name).write_bytes(name.encode())
    good = [signs.sha256(src / n) for n in signs.FILES]
    with pytest.raises(SystemExit):
        signs.main(["--from-dir", str(src), "--sha256", good[0], "0" * 64, "--dest", str(tmp_path / "out")])
    assert signs.main(["--from-dir", str(src), "--sha256", *good, "--dest", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "train_signs.h5").read_bytes() == b"train_signs.h5"
