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
        assert 0.4 < time.monotonic() - started < 60  # gave up at its deadline, never blocked (on any machine)
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


# --- what one message may cost the grader (wire.MAX_HEADER_BYTES, MAX_VALUES, MAX_DECODED_BYTES) ---


def test_a_header_over_the_cap_is_refused_before_it_is_parsed():
    """Is a message with more JSON than MAX_HEADER_BYTES (a 57 MB string, say) refused?"""
    frame = wire.encode_frame({"v": "x" * (wire.MAX_HEADER_BYTES + 1)})
    with pytest.raises(wire.WireError, match="bytes of text and structure"):
        wire.decode_payload(frame[8:])


def raw_payload(body: bytes) -> bytes:
    """A frame's payload whose message is ``{"v": body}``, ``body`` being raw JSON."""
    header = b'{"body": {"v": ' + body + b'}, "buffers": []}'
    return struct.pack("<I", len(header)) + header


@pytest.mark.parametrize(
    "body",
    [b"[" + b"[]," * 600_000 + b"[]]", b"[" + b"0," * 600_000 + b"0]",
     b'{"$": "dict", "k": [' + b'"",' * 300_000 + b'""], "v": [' + b"0," * 300_000 + b"0]}"],
    ids=["empty lists", "numbers", "dict"],
)  # fmt: skip
def test_many_small_values_are_refused_before_they_are_parsed(body):
    """Do 600,000 empty lists (1.8 MB of JSON, 34 MB as Python lists) fail the value count?"""
    with pytest.raises(wire.WireError, match="more than 500,000 values"):
        wire.decode_payload(raw_payload(body))


def test_the_decoded_budget_counts_every_leaf(monkeypatch):
    """Do text, arrays and containers all draw on one budget, so no mix of them gets past it?"""
    monkeypatch.setattr(wire, "MAX_DECODED_BYTES", 100_000)
    assert roundtrip(["x" * 40_000, np.zeros(4_000)]) is not None  # 40 KB + 32 KB: within
    for value in (["x" * 60_000, np.zeros(6_000)], [np.zeros(7_000), np.zeros(7_000)],
                  ["y" * 30_000] * 4, [[] for _ in range(2_000)]):  # fmt: skip
        frame = wire.encode_frame({"v": value})
        with pytest.raises(wire.WireError, match="decodes to more than"):
            wire.decode_payload(frame[8:])


def test_honest_replies_fit_well_within_the_budget():
    """Does the largest reply the graders get (a Keras model's description, about 120 KB) pass?"""
    description = [{"class": "Conv2D", "name": f"conv{i}", "config": {"filters": 64, "kernel_size": [3, 3],
                    "strides": [1, 1], "padding": "same", "activation": "relu"}, "output_shape": [None, 8, 8, 64],
                    "weights": [[3, 3, 64, 64], [64]]} for i in range(500)]  # fmt: skip
    assert roundtrip(description) == json.loads(json.dumps(description))


def test_a_refused_message_never_makes_the_reader_hold_much_memory():
    """Measured in a fresh process: how much do the worst messages raise the reader's peak memory?

    Five 57 MB strings (the attack that took a grader to 4 GiB), 5,000,000 empty lists
    (15 MB of JSON, 280 MB as Python lists) and the largest messages the caps let through.
    """
    code = """
import resource, struct, json
from autograder.sandbox.harness import wire
def payload(body):
    header = b'{"body": {"v": ' + body + b'}, "buffers": []}'
    return struct.pack("<I", len(header)) + header
bodies = [b'"' + b"x" * 57_000_000 + b'"', b"[" + b"[]," * 5_000_000 + b"[]]",
          b"[" + b"[]," * 100_000 + b"[]]", b'"' + b"x" * (4 * 2**20 - 40) + b'"']
payloads = [payload(b) for b in bodies]
del bodies
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kept = []
for p in payloads:
    for _ in range(5):
        try:
            kept.append(wire.decode_payload(p))
        except wire.WireError:
            pass
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024))
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    grew = json.loads(out.stdout)
    assert grew <= 96 * 2**20, f"peak memory grew by {grew / 2**20:.0f} MiB"


def test_an_oversized_header_is_refused_before_the_rest_of_its_frame_is_read():
    """Does the reader refuse a 57 MB header from its first 12 bytes, without waiting for (or holding) the rest?"""
    r, w = os.pipe()
    try:
        os.write(w, struct.pack("<Q", 57_000_100) + struct.pack("<I", 57_000_000))  # and nothing more, ever
        with pytest.raises(wire.TooLarge, match="57,000,000 bytes of text"):
            wire.FrameReader(r).read(deadline=time.monotonic() + 5)
    finally:
        os.close(r)
        os.close(w)
