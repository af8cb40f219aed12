"""Do conv_net's data loaders give the documented, fixed splits, and is the download opt-in?"""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys

import numpy as np
import pytest

from autograder.course.assignments import Assignment

ASSIGNMENT = Assignment("conv_net")

SOURCE = ASSIGNMENT.source_notebook.parent
FETCH = ASSIGNMENT.root / "datasets" / "fetch.py"
KEYS = ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]


@pytest.fixture(scope="module")
def data_utils():
    sys.path.insert(0, str(SOURCE))
    try:
        from cs231n import data_utils
    finally:
        sys.path.remove(str(SOURCE))
    return data_utils


@pytest.fixture(scope="module")
def digits(data_utils):
    return data_utils.get_digits_data()


@pytest.fixture(scope="module")
def raw_digits(data_utils):
    return data_utils.get_digits_data(subtract_mean=False)


@pytest.fixture
def fetch_module(monkeypatch):
    """datasets/fetch.py, imported from its path (datasets/ is not a package)."""
    spec = importlib.util.spec_from_file_location("course_datasets_fetch", FETCH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def rows(X: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in X}


# --- the offline digits ----------------------------------------------------------------


def test_digits_shapes_and_dtypes(digits):
    """Is the default split 4000/500/500 images of (1, 28, 28), float32 images, int64 labels?"""
    assert list(digits) == KEYS
    for split, n in (("train", 4000), ("val", 500), ("test", 500)):
        X, y = digits[f"X_{split}"], digits[f"y_{split}"]
        assert X.shape == (n, 1, 28, 28) and X.dtype == np.float32 and X.flags.c_contiguous
        assert y.shape == (n,) and y.dtype == np.int64 and set(np.unique(y)) <= set(range(10))


def test_digits_splits_are_disjoint_and_cover_distinct_images(data_utils, raw_digits):
    """Does no image appear in two splits (the 5,000 source images are all distinct)?"""
    X_all, _ = data_utils.load_digits()
    assert len(rows(X_all)) == 5000
    train, val, test = (rows(raw_digits[f"X_{s}"]) for s in ("train", "val", "test"))
    assert len(train) == 4000 and len(val) == 500 and len(test) == 500
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test <= rows(X_all)


def test_digits_classes_are_balanced_in_every_split(digits):
    """Does every class give exactly a tenth of each split?"""
    for split, n in (("train", 4000), ("val", 500), ("test", 500)):
        assert np.array_equal(np.bincount(digits[f"y_{split}"], minlength=10), np.full(10, n // 10))


def test_digits_split_is_fixed_and_shuffled(data_utils, digits):
    """Is the split the same on every call, different for another seed, and not sorted by class?"""
    again = data_utils.get_digits_data()
    assert all(np.array_equal(digits[k], again[k]) for k in KEYS)
    other = data_utils.get_digits_data(seed=1)
    assert not np.array_equal(digits["y_train"], other["y_train"])
    assert np.any(np.diff(digits["y_train"]) < 0)  # shuffled, not grouped by label


def test_digits_subtract_the_training_mean_from_every_split(digits, raw_digits):
    """Is the mean image of the training split (and only it) subtracted from all three splits?"""
    mean_image = raw_digits["X_train"].mean(axis=0, dtype=np.float64)
    assert np.allclose(digits["X_train"].mean(axis=0), 0, atol=1e-3)
    for split in ("train", "val", "test"):
        assert np.allclose(digits[f"X_{split}"], raw_digits[f"X_{split}"] - mean_image, atol=1e-3)
        assert np.array_equal(digits[f"y_{split}"], raw_digits[f"y_{split}"])
    assert raw_digits["X_train"].min() == 0 and raw_digits["X_train"].max() == 255


def test_digits_labels_match_their_images(data_utils, raw_digits):
    """Does each image keep its own label through the split and shuffle?"""
    X_all, y_all = data_utils.load_digits()
    label_of = {image.tobytes(): label for image, label in zip(X_all, y_all, strict=True)}
    for split in ("train", "val", "test"):
        labels = [label_of[image.tobytes()] for image in raw_digits[f"X_{split}"]]
        assert np.array_equal(labels, raw_digits[f"y_{split}"])


def test_digits_custom_sizes_and_bad_sizes(data_utils):
    """Do smaller splits work, and do impossible ones fail with a clear message?"""
    small = data_utils.get_digits_data(num_training=100, num_validation=20, num_test=0)
    assert small["X_train"].shape == (100, 1, 28, 28) and small["X_test"].shape == (0, 1, 28, 28)
    with pytest.raises(ValueError, match="multiples of 10"):
        data_utils.get_digits_data(num_training=105)
    with pytest.raises(ValueError, match="at most 5000"):
        data_utils.get_digits_data(num_training=4500, num_validation=500, num_test=500)


def test_importing_the_helpers_downloads_and_loads_nothing():
    """Does importing every cs231n module leave mlxtend, pooch and matplotlib unimported?"""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import cs231n.data_utils, cs231n.solver, cs231n.layer_utils, cs231n.gradient_check;"
        "print(sorted(m for m in ('mlxtend', 'pooch', 'matplotlib', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(SOURCE)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- CIFAR-10, on a small fake copy ----------------------------------------------------


def fake_cifar10(folder, per_batch=20, seed=0):
    """A cifar-10-batches-py folder in the real format (pickled dicts), with few images."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": [int(v) for v in rng.integers(0, 10, per_batch)],
            "batch_label": name,
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


def test_cifar10_loader_reads_the_real_format(data_utils, tmp_path):
    """Does get_CIFAR10_data give cs231n's split of the batches, NCHW float32 minus the train mean?"""
    folder = fake_cifar10(tmp_path / "cifar-10-batches-py")
    data = data_utils.get_CIFAR10_data(num_training=80, num_validation=20, num_test=10, cifar10_dir=folder)
    assert list(data) == KEYS
    assert data["X_train"].shape == (80, 3, 32, 32) and data["X_train"].dtype == np.float32
    assert data["X_val"].shape == (20, 3, 32, 32) and data["X_test"].shape == (10, 3, 32, 32)
    assert data["y_train"].dtype == np.int64
    raw = data_utils.get_CIFAR10_data(80, 20, 10, subtract_mean=False, cifar10_dir=folder)
    first = pickle.loads((folder / "data_batch_1").read_bytes())
    # row layout of the files: 1024 red, then 1024 green, then 1024 blue values, row-major
    assert np.array_equal(raw["X_train"][0, 1, 2, 3], first["data"][0, 1024 + 2 * 32 + 3])
    assert np.array_equal(raw["y_train"][:20], first["labels"])
    last = pickle.loads((folder / "data_batch_5").read_bytes())  # validation: the 20 images after 80
    assert np.array_equal(raw["y_val"], last["labels"])
    assert np.allclose(data["X_val"], raw["X_val"] - raw["X_train"].mean(axis=0), atol=1e-3)


def test_find_cifar10_dir_prefers_course_data_dir(data_utils, tmp_path, monkeypatch):
    """Is $COURSE_DATA_DIR searched (alone) when set, and None returned when CIFAR-10 is absent?"""
    folder = fake_cifar10(tmp_path / "data" / "cifar-10-batches-py")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    assert data_utils.find_cifar10_dir() == folder
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))  # the folder itself works too
    assert data_utils.find_cifar10_dir() == folder
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    assert data_utils.find_cifar10_dir() is None
    with pytest.raises(FileNotFoundError, match="datasets/fetch.py cifar10"):
        data_utils.get_CIFAR10_data()


def test_find_cifar10_dir_walks_up_to_datasets_cache(data_utils, tmp_path, monkeypatch):
    """Is <repo>/datasets/cache found from a notebook's folder (e.g. ../../datasets/cache)?"""
    folder = fake_cifar10(tmp_path / "course" / "datasets" / "cache" / "cifar-10-batches-py")
    notebook_dir = tmp_path / "course" / "release" / "conv_net"
    notebook_dir.mkdir(parents=True)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.chdir(notebook_dir)
    assert data_utils.find_cifar10_dir() == folder


# --- the download command (no network: pooch is replaced) -----------------------------


def test_fetch_cifar10_calls_pooch_with_the_official_checksum(fetch_module, tmp_path, monkeypatch):
    """Does `fetch.py cifar10 --dest DIR` ask pooch for the official URL and MD5, and unpack into DIR?"""
    import pooch

    calls = []

    def fake_retrieve(**kwargs):
        calls.append(kwargs)
        (kwargs["path"] / "cifar-10-batches-py").mkdir()
        return str(kwargs["path"] / kwargs["fname"])

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    assert fetch_module.main(["cifar10", "--dest", str(tmp_path / "cache")]) == 0
    (call,) = calls
    assert call["url"] == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert call["known_hash"] == "md5:c58f30108f718f92721af3b95e74349a"
    assert call["path"] == (tmp_path / "cache").resolve() and call["fname"] == "cifar-10-python.tar.gz"
    assert isinstance(call["processor"], pooch.Untar) and call["processor"].extract_dir == "."


def test_fetch_reports_a_failed_download(fetch_module, tmp_path, monkeypatch, capsys):
    """Does a network or checksum failure end with status 1 and a one-line reason?"""
    import pooch

    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    assert fetch_module.main(["cifar10", "--dest", str(tmp_path)]) == 1
    assert "network unreachable" in capsys.readouterr().err


def test_fetch_list_downloads_nothing(fetch_module, monkeypatch, capsys):
    """Does `fetch.py list` describe the data sets without touching pooch?"""
    import pooch

    monkeypatch.setattr(pooch, "retrieve", lambda **kwargs: pytest.fail("list must not download"))
    assert fetch_module.main(["list"]) == 0
    assert "cifar10" in capsys.readouterr().out
