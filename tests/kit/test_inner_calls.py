"""Does a Recorder keep only a bounded summary of what a student's code passes, whatever it passes?"""

from __future__ import annotations

import tracemalloc

import numpy as np

from autograder.kit.inner_calls import MAX_ITEMS, SHORT_TEXT, Oversized, Recorder, Shaped, summary
from autograder.sandbox.harness.wire import RemoteRef


def block(X, f, filters, s=2, training=True):  # the signature a Recorder binds calls to
    raise AssertionError("a Recorder never runs the function it stands in for")


def test_what_the_graders_compare_is_kept_as_it_is():
    """Are numbers, short strings, small lists and tuples, small arrays and handles kept (equal to the reference's)?"""
    handle = RemoteRef(7, "keras.src.backend.common.keras_tensor.KerasTensor", "<KerasTensor shape=(None, 4)>")
    assert summary(3) == 3 and summary(True) is True and summary(None) is None and summary(0.5) == 0.5
    assert summary([64, 64, 256]) == [64, 64, 256] and summary((1, 2)) == (1, 2)
    assert summary("same") == "same" and summary(np.int64(3)) == 3
    assert np.array_equal(summary(np.arange(4)), np.arange(4))
    assert summary(handle) == handle


def test_a_huge_string_becomes_a_marker_that_equals_nothing_and_cannot_be_expanded():
    """Is a 3 MB string kept as its length only, unequal to everything (itself too), with a short repr?"""
    kept = summary("x" * 3_000_000)
    assert isinstance(kept, Oversized) and kept.size == 3_000_000
    assert kept != "x" * 3_000_000 and kept != kept and not (kept == [64, 64, 256])
    assert repr(kept) == "<a str of 3,000,000 characters>"
    try:
        tuple(kept)  # how a grader once compared filters: tuple() of a string is 8 bytes a character
        raise AssertionError("a marker must not be iterable")
    except TypeError:
        pass


def test_large_and_deep_values_are_cut_to_a_budget():
    """Are long lists, deep nesting and many short strings kept only up to MAX_ITEMS values in all?"""
    assert isinstance(summary(list(range(10_000))), Oversized)
    deep: list = [1]
    for _ in range(100):
        deep = [deep]
    assert isinstance(_innermost(summary(deep)), Oversized)
    wide = [["y" * SHORT_TEXT] * 16] * 16  # 256 strings of 200 characters: 51 kB, each within the limits
    assert len(repr(summary(wide))) < MAX_ITEMS * (SHORT_TEXT + 10)


def test_arrays_and_tensors_become_their_shape():
    """Is a large array kept as its shape and dtype (enough for the graders), not its values?"""
    kept = summary(np.zeros((1000, 1000), np.float32))
    assert isinstance(kept, Shaped) and kept.shape == (1000, 1000) and kept == Shaped((1000, 1000), "float32")


def test_a_handle_keeps_only_the_start_of_its_type_and_repr():
    """Is a handle whose class name and repr are megabytes long kept with SHORT_TEXT characters of each?"""
    kept = summary(RemoteRef(3, "T" * 1_000_000, "r" * 1_000_000))
    assert kept.id == 3 and len(kept.type) == SHORT_TEXT and len(kept.repr) == SHORT_TEXT


def test_the_log_stays_small_while_the_answer_sees_every_argument():
    """100 calls, each with its own 1 MB string: does the log hold well under 1 MB, while the answer got them all?"""
    seen = []
    recorder = Recorder(block, lambda arguments: seen.append(len(arguments["filters"])) or arguments["X"])
    tracemalloc.start()
    try:
        for i in range(100):
            recorder(f"X{i}", f=3, filters=str(i) * 1_000_000, s=1)  # a new string each time, as the wire decodes
        held = sum(stat.size for stat in tracemalloc.take_snapshot().statistics("filename"))
    finally:
        tracemalloc.stop()
    assert seen == [len(str(i)) * 1_000_000 for i in range(100)]
    assert len(recorder.log) == 100 and all(isinstance(a["filters"], Oversized) for _, a in recorder.log)
    assert held < 1_000_000, f"the log kept {held:,} bytes"


def _innermost(value):
    while isinstance(value, list) and value:
        value = value[0]
    return value
