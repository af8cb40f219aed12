"""Is the wire format data-only? Values round-trip; anything else is refused."""

from __future__ import annotations

import json
import os
import struct
import threading
import time

import numpy as np
import pytest

from autograder.sandbox.harness import wire


def roundtrip(value):
    frame = wire.encode_frame({"v": value})
    return wire.decode_payload(frame[8:])["v"]


@pytest.mark.parametrize(
    "dtype", ["bool", "int8", "uint16", "int32", "int64", "float16", "float32", "float64", "complex128"]
)
def test_arrays_roundtrip_with_dtype_and_shape(dtype):
    """Do arrays come back with the same dtype, shape and values?"""
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    b = roundtrip(a)
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_python_and_numpy_values_keep_their_kind():
    """Is a NumPy scalar still a scalar, a (1,1,1) array still an array, a tuple a tuple?"""
    value = {
        "scalar": np.float64(1.5),
        "zero_d": np.array(2.5),
        "cube": np.ones((1, 1, 1)),
        "tuple": (1, 2.5, "x", None, True),
        "nested": [{"a": (np.int32(3),)}],
        (1, 2): "tuple key",
        "big": 2**80,
        "special": [float("nan"), float("inf"), -float("inf")],
        "empty": np.zeros((0, 3)),
        "noncontig": np.arange(12.0).reshape(3, 4).T,
        "dtypes": [np.float32, np.dtype("int64")],
    }
    out = roundtrip(value)
    assert isinstance(out["scalar"], np.float64) and out["scalar"] == 1.5
    assert isinstance(out["zero_d"], np.ndarray) and out["zero_d"].shape == () and out["zero_d"] == 2.5
    assert isinstance(out["cube"], np.ndarray) and out["cube"].shape == (1, 1, 1)
    assert out["tuple"] == (1, 2.5, "x", None, True)
    assert isinstance(out["nested"][0]["a"][0], np.int32)
    assert out[(1, 2)] == "tuple key" and out["big"] == 2**80
    assert np.isnan(out["special"][0]) and out["special"][1:] == [float("inf"), -float("inf")]
    assert out["empty"].shape == (0, 3)
    assert np.array_equal(out["noncontig"], np.arange(12.0).reshape(3, 4).T)
    assert out["dtypes"] == [np.dtype("float32"), np.dtype("int64")]


def test_unknown_objects_become_handles_or_are_refused():
    """Is an arbitrary object (say, one whose __eq__ is always True) never sent as itself?"""

    class Liar:
        def __eq__(self, other):
            return True

    with pytest.raises(wire.WireError):
        wire.encode_frame({"v": Liar()})  # the grader side has no registry: refused
    frame = wire.encode_frame(
        {"v": Liar()}, register=lambda o, enc: {"$": "ref", "id": 7, "type": "x.Liar", "repr": "?"}
    )
    ref = wire.decode_payload(frame[8:])["v"]
    assert isinstance(ref, wire.RemoteRef) and ref.type == "x.Liar" and ref != object()


def forged(body: dict, buffers: list[bytes] = ()) -> bytes:
    header = json.dumps({"body": body, "buffers": [len(b) for b in buffers]}).encode()
    return struct.pack("<I", len(header)) + header + b"".join(buffers)


@pytest.mark.parametrize(
    "body",
    [
        {"$": "nd", "dtype": "|O", "shape": [1], "buf": 0},  # object arrays could hold code
        {"$": "nd", "dtype": "V8", "shape": [1], "buf": 0},
        {"$": "nd", "dtype": "[('a', '<f8')]", "shape": [1], "buf": 0},
        {"$": "nd", "dtype": "<f8", "shape": [2], "buf": 0},  # size mismatch
        {"$": "nd", "dtype": "<f8", "shape": [-1], "buf": 0},
        {"$": "pickle", "data": "gASVAAAAAAAAAAA="},
        {"$": "dict", "k": [[1, 2]], "v": [1]},  # unhashable key
        {"no": "tag"},
        {"$": "float", "v": "__import__('os')"},
        {"$": "dtype", "v": "|O"},
    ],
)
def test_forged_frames_are_refused(body):
    """Does decoding refuse anything but plain data, whatever a hostile worker sends?"""
    with pytest.raises(wire.WireError):
        wire.decode_payload(forged({"v": body}, [b"\0" * 8]))


def test_truncated_and_oversized_frames_are_refused():
    """Is a frame with a lying length, or one over the size limit, refused?"""
    with pytest.raises(wire.WireError):
        wire.decode_payload(b"\xff\xff\xff\x00{}")
    r, w = os.pipe()
    os.write(w, struct.pack("<Q", wire.MAX_FRAME_BYTES + 1))
    with pytest.raises(wire.WireError):
        wire.FrameReader(r).read(deadline=None)
    os.close(r)
    os.close(w)


def test_reader_times_out_and_sees_eof():
    """Does reading stop at the deadline, and report a closed pipe?"""
    import time

    r, w = os.pipe()
    reader = wire.FrameReader(r)
    with pytest.raises(wire.FrameTimeout):
        reader.read(deadline=time.monotonic() + 0.1)
    wire.write_frame(w, wire.encode_frame({"ok": True}))
    assert wire.decode_payload(reader.read(deadline=time.monotonic() + 1)) == {"ok": True}
    os.close(w)
    with pytest.raises(wire.StreamClosed):
        reader.read(deadline=time.monotonic() + 1)
    os.close(r)


def test_a_reader_that_stops_reading_cannot_block_a_write():
    """Does a write with a deadline give up when the other side never reads?"""
    r, w = os.pipe()
    try:
        frame = wire.encode_frame({"value": np.zeros(1_000_000)})  # 8 MB: far more than a pipe holds
        started = time.monotonic()
        with pytest.raises(wire.FrameTimeout):
            wire.write_frame(w, frame, deadline=started + 0.5)
        assert 0.4 < time.monotonic() - started < 2
    finally:
        os.close(r)
        os.close(w)


def test_a_write_with_a_deadline_still_delivers_whole_frames():
    """With a reader that keeps up, does the non-blocking write send every byte?"""
    r, w = os.pipe()
    frame = wire.encode_frame({"value": np.arange(300_000.0)})
    got = []
    reader = threading.Thread(target=lambda: got.append(wire.FrameReader(r).read(time.monotonic() + 10)))
    reader.start()
    wire.write_frame(w, frame, deadline=time.monotonic() + 10)
    reader.join()
    os.close(r)
    os.close(w)
    np.testing.assert_array_equal(wire.decode_payload(got[0])["value"], np.arange(300_000.0))
