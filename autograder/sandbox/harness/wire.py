"""The wire format between the grader and a sandboxed worker: data only, never code.

A frame is ``u64 length`` + ``u32 header length`` + a JSON header + raw array buffers.
Values are JSON with tagged objects (``{"$": "nd", ...}``) for everything JSON can't
say directly. Decoding never imports, calls or unpickles anything, and rejects any
array dtype that is not plain bool/int/float/complex, so a hostile worker can send
wrong *answers* but never code.

This module is shared: the worker (inside the sandbox) and the grader both import it.
It needs only the standard library and NumPy.
"""

from __future__ import annotations

import json
import os
import re
import select
import struct
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_FRAME_BYTES = 256 * 2**20  # a frame bigger than this is an attack or a bug
MAX_DEPTH = 64
# What one decoded message may cost the side that reads it, checked before it is kept.
# Python objects are far bigger than their JSON (``[[],[],...]``: 3 bytes of JSON, a
# 56-byte list each), so the JSON header is capped in bytes and in values before it is
# parsed, and the decoded leaves (text, arrays, containers) against one budget while it
# is walked. Honest replies are far below: at most 120 KB of header, 10,000 values and
# 6 MB in all, measured grading each assignment's reference (docs/sandbox.md).
MAX_HEADER_BYTES = 4 * 2**20  # the JSON part: every string, key and container of a message
MAX_VALUES = 500_000  # JSON values (bounded from above by its commas, brackets and braces)
MAX_DECODED_BYTES = 256 * 2**20  # text + array bytes + 64 per container, all leaves together
CONTAINER_COST = 64  # bytes charged per list, tuple or dict (about what Python spends on a small one)
_DTYPE_RE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|c(8|16))$")
# Bound now, before any student code runs: a submission that replaces
# builtins.isinstance (say) must not break the encoding of everyone's replies.
_isinstance, _type = isinstance, type
_json_encode = json.JSONEncoder().iterencode  # unlike json.dumps/loads, these two never
_json_decode = json.JSONDecoder().decode  # call isinstance, which a submission may patch
_LEN = struct.Struct("<Q")
_HDR = struct.Struct("<I")


class WireError(Exception):
    """A frame or value that breaks the wire format (a broken or hostile worker)."""


class StreamClosed(WireError):
    """The other side closed its end of the pipe (usually: the worker died)."""


class TooLarge(WireError):
    """A message over the reader's budget (``MAX_HEADER_BYTES``, ``MAX_VALUES``, ``MAX_DECODED_BYTES``)."""


class FrameTimeout(WireError):
    """No complete frame arrived before the deadline."""


@dataclass(frozen=True)
class RemoteRef:
    """A handle to an object that lives in the worker (a model, a layer, ...)."""

    id: int
    type: str
    repr: str = ""


# --- values ---------------------------------------------------------------------------


class _Encoder:
    def __init__(self, register: Any = None):
        self.buffers: list[bytes] = []
        self.register = register  # worker side: (obj, encoder) -> encoding of a non-data object

    def array(self, a: np.ndarray, tag: str) -> dict:
        a = np.asarray(a)
        if not a.flags.c_contiguous:  # (not ascontiguousarray: it turns 0-d into 1-d)
            a = a.copy(order="C")
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if not _DTYPE_RE.match(dt.str):
            raise WireError(f"cannot send arrays of dtype {a.dtype}")
        self.buffers.append(a.astype(dt, copy=False).tobytes())
        out = {"$": tag, "dtype": dt.str, "buf": len(self.buffers) - 1}
        if tag == "nd":
            out["shape"] = list(a.shape)
        return out

    def value(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        # exact type checks: a subclass of float/int/str may override anything
        t = _type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if abs(v) < 2**63 else {"$": "bigint", "v": str(v)}
        if t is float:
            return v if np.isfinite(v) else {"$": "float", "v": repr(v)}
        if _isinstance(v, np.ndarray):
            if v.dtype.kind not in "biufc":
                return self.other(v, depth)
            return self.array(np.asarray(v), "nd")
        if _isinstance(v, np.generic) and np.dtype(t).kind in "biufc":
            return self.array(np.asarray(v), "np")
        if t is list:
            return [self.value(x, depth + 1) for x in v]
        if t is tuple:
            return {"$": "tuple", "v": [self.value(x, depth + 1) for x in v]}
        if t is dict:
            return {
                "$": "dict",
                "k": [self.value(k, depth + 1) for k in v],
                "v": [self.value(x, depth + 1) for x in v.values()],
            }
        if _isinstance(v, RemoteRef):
            return {"$": "ref", "id": v.id}
        if _isinstance(v, np.dtype) or (t is type and issubclass(v, np.generic)):
            dt = np.dtype(v)  # np.float32 and np.dtype("float32") both travel as a dtype
            if _DTYPE_RE.match(dt.str):
                return {"$": "dtype", "v": dt.str}
        return self.other(v, depth)

    def other(self, v: Any, depth: int) -> Any:
        if self.register is None:
            raise WireError(f"cannot send a {_type(v).__name__}")
        return self.register(v, self)


def encode_frame(message: dict, register: Any = None) -> bytes:
    """Serialise a message (a dict of values) into one frame."""
    enc = _Encoder(register)
    body = enc.value(message)
    header = "".join(_json_encode({"body": body, "buffers": [len(b) for b in enc.buffers]}, True)).encode()
    payload = b"".join([_HDR.pack(len(header)), header, *enc.buffers])
    return _LEN.pack(len(payload)) + payload


class _Decoder:
    def __init__(self, buffers: list[memoryview], resolve: Any = None):
        self.buffers = buffers
        self.resolve = resolve  # worker side: turns {"$": "ref"} back into the object
        self.left = MAX_DECODED_BYTES  # the message's budget over all its leaves

    def charge(self, cost: int) -> None:
        self.left -= cost
        if self.left < 0:
            raise TooLarge(f"a message that decodes to more than {MAX_DECODED_BYTES // 2**20} MiB")

    def array(self, d: dict, scalar: bool) -> Any:
        dtype_str = d.get("dtype")
        if not _isinstance(dtype_str, str) or not _DTYPE_RE.match(dtype_str):
            raise WireError(f"refused array dtype {dtype_str!r}")
        dtype = np.dtype(dtype_str)
        shape = [] if scalar else d.get("shape")
        if not _isinstance(shape, list) or not all(_type(n) is int and n >= 0 for n in shape):
            raise WireError("bad array shape")
        buf = self._buffer(d.get("buf"))
        if len(buf) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise WireError("array size does not match its shape")
        self.charge(len(buf) + CONTAINER_COST)
        a = np.frombuffer(buf, dtype=dtype).reshape(shape).copy()
        return a[()] if scalar else a

    def _buffer(self, i: Any) -> memoryview:
        if _type(i) is not int or not 0 <= i < len(self.buffers):
            raise WireError("bad buffer index")
        return self.buffers[i]

    def value(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if v is None or _type(v) in (bool, int, float):
            return v
        if _type(v) is str:
            self.charge(len(v))
            return v
        if _type(v) is list:
            self.charge(CONTAINER_COST + 8 * len(v))
            return [self.value(x, depth + 1) for x in v]
        if _type(v) is not dict:
            raise WireError("unexpected JSON value")
        self.charge(CONTAINER_COST)
        tag = v.get("$")
        if tag == "nd" or tag == "np":
            return self.array(v, scalar=tag == "np")
        if tag == "tuple":
            return tuple(self.value(x, depth + 1) for x in self._list(v, "v"))
        if tag == "dict":
            keys = [self.value(k, depth + 1) for k in self._list(v, "k")]
            vals = [self.value(x, depth + 1) for x in self._list(v, "v")]
            if len(keys) != len(vals) or not all(_hashable(k) for k in keys):
                raise WireError("bad dict")
            return dict(zip(keys, vals, strict=False))
        if tag == "dtype":
            s = v.get("v")
            if not _isinstance(s, str) or not _DTYPE_RE.match(s):
                raise WireError(f"refused dtype {s!r}")
            return np.dtype(s)
        if tag == "bigint":
            return int(str(v.get("v")))
        if tag == "float":
            s = v.get("v")
            if s not in ("nan", "inf", "-inf"):
                raise WireError("bad float")
            return float(s)
        if tag == "ref":
            ref = RemoteRef(id=int(v.get("id")), type=str(v.get("type", "")), repr=str(v.get("repr", ""))[:500])
            return self.resolve(ref) if self.resolve else ref
        raise WireError(f"unknown tag {tag!r}")

    def _list(self, v: dict, key: str) -> list:
        x = v.get(key)
        if _type(x) is not list:
            raise WireError("bad container")
        self.charge(8 * len(x))
        return x


def _hashable(k: Any) -> bool:
    return _type(k) in (str, int, float, bool, tuple) or k is None


def _check_header(raw: bytes) -> None:
    """Refuse a JSON header that would cost too much to parse, before parsing it."""
    if len(raw) > MAX_HEADER_BYTES:
        raise TooLarge(f"a message with {len(raw):,} bytes of text and structure (at most {MAX_HEADER_BYTES:,})")
    # every JSON value but the first follows a comma, a colon or an opening bracket or brace
    # (those inside strings count too: an over-estimate, never an under-estimate)
    values = raw.count(b",") + raw.count(b":") + raw.count(b"[") + raw.count(b"{") + 1
    if values > MAX_VALUES:
        raise TooLarge(f"a message with more than {MAX_VALUES:,} values")


def decode_payload(payload: bytes, resolve: Any = None) -> dict:
    """Parse one frame's payload (without its length prefix) back into a message."""
    try:
        (hlen,) = _HDR.unpack_from(payload, 0)
        raw = bytes(payload[_HDR.size : _HDR.size + hlen])
        _check_header(raw)
        header = _json_decode(raw.decode("utf-8"))
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise WireError(f"unreadable frame header ({e})") from None
    sizes = header.get("buffers") if _isinstance(header, dict) else None
    if not _isinstance(sizes, list) or not all(_type(n) is int and n >= 0 for n in sizes):
        raise WireError("bad buffer table")
    view = memoryview(payload)
    buffers, pos = [], _HDR.size + hlen
    for n in sizes:
        buffers.append(view[pos : pos + n])
        pos += n
    if pos != len(payload):
        raise WireError("frame length does not match its buffers")
    message = _Decoder(buffers, resolve).value(header.get("body"))
    if not _isinstance(message, dict):
        raise WireError("a message must be a dict")
    return message


# --- framing over pipes ---------------------------------------------------------------


def write_frame(fd: int, frame: bytes, deadline: float | None = None) -> None:
    """Write one whole frame. With a deadline (the grader's side), ``fd`` is made
    non-blocking, so a reader that stopped reading costs FrameTimeout, never a hang."""
    view = memoryview(frame)
    if deadline is not None:
        os.set_blocking(fd, False)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise FrameTimeout("the other side stopped reading")
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                continue
        else:
            n = os.write(fd, view)
        view = view[n:]


class FrameReader:
    """Reads whole frames from a pipe, with an optional deadline per frame."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def read(self, deadline: float | None = None) -> bytes:
        """Return the next frame's payload; raise FrameTimeout or StreamClosed."""
        need = _LEN.size
        length = None
        while True:
            if length is None and len(self.buf) >= _LEN.size:
                (length,) = _LEN.unpack_from(self.buf, 0)
                if length > MAX_FRAME_BYTES:
                    raise WireError(f"frame of {length} bytes is over the {MAX_FRAME_BYTES} byte limit")
                need = _LEN.size + length
            if length is not None and len(self.buf) >= _LEN.size + _HDR.size:
                (hlen,) = _HDR.unpack_from(self.buf, _LEN.size)  # refused before the rest is read
                if hlen > MAX_HEADER_BYTES:
                    raise TooLarge(
                        f"a message with {hlen:,} bytes of text and structure (at most {MAX_HEADER_BYTES:,})"
                    )
            if len(self.buf) >= need and length is not None:
                payload = bytes(self.buf[_LEN.size : need])
                del self.buf[:need]
                return payload
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                    raise FrameTimeout("no reply before the deadline")
            chunk = os.read(self.fd, max(need - len(self.buf), 1 << 16))
            if not chunk:
                raise StreamClosed("the other side closed the pipe")
            self.buf += chunk
