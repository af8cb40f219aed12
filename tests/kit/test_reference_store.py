"""Are reference results kept once per course, and made again whenever anything that decides them changes?"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.course.assignments import Assignment
from autograder.kit.reference_store import ReferenceStore, array_digest
from tests.support import copy_parts

NAME = "keras_resnet"
PARTS = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}"]


@pytest.fixture
def course(tmp_path):
    return copy_parts(tmp_path / "course", PARTS)


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return {"output": np.asarray(value, dtype=np.float32)}

    return compute, calls


def test_computed_once_then_read_back(course):
    """Does the second grading (a fresh store, as in a new grader process) read what the first made?"""
    compute, calls = counting([1.0, 2.0])
    first = ReferenceStore(Assignment(NAME, root=course)).get("whole model 'ResNet50'", compute)
    second = ReferenceStore(Assignment(NAME, root=course)).get("whole model 'ResNet50'", compute)
    assert calls == [1] and np.array_equal(first["output"], second["output"])
    assert second["output"].dtype == np.float32
    assert len(list((course / ".cache" / "reference" / NAME).glob("*.npz"))) == 1


@pytest.mark.parametrize(
    "edit",
    ["source/keras_resnet/keras_resnet.ipynb", "source/keras_resnet/resnets_utils.py",
     "autograder/graders/keras_resnet/conftest.py", "autograder/graders/keras_resnet/assignment.toml"],
)  # fmt: skip
def test_a_changed_reference_or_grader_makes_it_again(course, edit):
    """Does an edit to the reference, its helpers or a grader file invalidate every entry?"""
    compute, calls = counting([1.0])
    ReferenceStore(Assignment(NAME, root=course)).get("k", compute)
    path = course / edit
    path.write_bytes(path.read_bytes() + b"\n")
    ReferenceStore(Assignment(NAME, root=course)).get("k", compute)
    assert calls == [1, 1]


def test_the_catalogue_and_other_keys_are_apart(course):
    """Does editing the catalogue (it decides no expected value) keep the entry, and another key make its own?"""
    compute, calls = counting([1.0])
    ReferenceStore(Assignment(NAME, root=course)).get("k", compute)
    catalogue = course / f"autograder/graders/{NAME}/catalogue.py"
    catalogue.write_text(catalogue.read_text() + "\n# edited\n")
    ReferenceStore(Assignment(NAME, root=course)).get("k", compute)
    assert calls == [1]
    X = np.ones((2, 3), dtype=np.float32)
    ReferenceStore(Assignment(NAME, root=course)).get(f"k {array_digest(X)}", compute)
    ReferenceStore(Assignment(NAME, root=course)).get(f"k {array_digest(X * 2)}", compute)
    assert calls == [1, 1, 1]


def test_a_damaged_entry_is_made_again_and_a_read_only_course_still_grades(course):
    """Is a truncated file recomputed (never half-read), and does a course the grader can't write still get values?"""
    compute, calls = counting([3.0])
    store = ReferenceStore(Assignment(NAME, root=course))
    path = store.path("k")
    store.get("k", compute)
    path.write_bytes(path.read_bytes()[:20])
    assert ReferenceStore(Assignment(NAME, root=course)).get("k", compute)["output"].tolist() == [3.0]
    assert calls == [1, 1]
    blocked = course / "blocked"
    blocked.write_text("a file where the store's folder would be")
    readonly = ReferenceStore(Assignment(NAME, root=course), folder=blocked / "store")
    assert readonly.get("k", compute)["output"].tolist() == [3.0] and calls == [1, 1, 1]


@pytest.mark.slow  # builds whole Keras models
def test_whole_models_keep_shapes_and_outputs(course):
    """Does WholeModels give the reference's shapes and output, building the model only once per course?"""
    from autograder.kit import keras_outputs
    from autograder.sandbox.harness.weights import same_weights

    built = []

    def build(key):
        built.append(key)
        keras = pytest.importorskip("keras")
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])

    X = np.arange(8, dtype=np.float32).reshape(2, 4)
    for _ in range(2):
        store = ReferenceStore(Assignment(NAME, root=course))
        expected = keras_outputs.WholeModels(build, store).expected("tiny", X, training=False)
    assert built == ["tiny"] and expected.shapes == [(4, 3), (3,)]
    kernel, bias = same_weights(expected.shapes)
    np.testing.assert_allclose(expected.output, X @ kernel + bias, rtol=1e-5)
