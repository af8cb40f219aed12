"""Window geometries for convolution and pooling layers, generated so that none is missed.

A layer with a kernel k, a stride s and a padding p maps a size n to
``(n + 2p - k) // s + 1``. Get the floor wrong (round, ceil, true division) and the
layer is still right whenever ``(n + 2p - k) % s == 0``, which is what hand-picked
cases tend to be. ``windows`` generates cases in which every stride meets every
remainder of that division, on both axes, with non-square inputs, non-square kernels
(where the layer has them), and padding 0 as well as padding above 0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """One geometry: input height and width, kernel height and width, stride, padding."""

    H: int
    W: int
    kh: int
    kw: int
    stride: int
    pad: int

    @property
    def out(self) -> tuple[int, int]:
        """The output's height and width (the floor formula)."""
        return ((self.H + 2 * self.pad - self.kh) // self.stride + 1,
                (self.W + 2 * self.pad - self.kw) // self.stride + 1)  # fmt: skip

    @property
    def remainders(self) -> tuple[int, int]:
        return ((self.H + 2 * self.pad - self.kh) % self.stride, (self.W + 2 * self.pad - self.kw) % self.stride)

    def __str__(self) -> str:
        kernel = f"{self.kh}x{self.kw}" if self.kh != self.kw else f"{self.kh}"
        return f"{self.H}x{self.W} input, kernel {kernel}, stride {self.stride}, pad {self.pad}"


def windows(strides: tuple[int, ...] = (1, 2, 3), pads: tuple[int, ...] = (0, 1, 2), square_kernel: bool = False,
            kernels: tuple[int, ...] = (2, 3), max_size: int = 12) -> list[Window]:  # fmt: skip
    """Cases covering, for every stride, every remainder on each axis, with every pad.

    For each stride s and each remainder r < s, one case per pad: the height gives
    remainder r and the width remainder (r + 1) % s, so the two axes differ and the
    input is never square. Kernels alternate over ``kernels`` (height and width differ
    unless ``square_kernel``), and are always wider than the padding. With ``pads=(0,)`` (pooling without padding) every case
    has pad 0. Sizes stay small (at most ``max_size``) so each case grades in
    milliseconds even when every window crosses the sandbox.
    """
    cases: list[Window] = []
    for s in strides:
        for r in range(s):
            for i, p in enumerate(pads):
                kh = max(kernels[(r + i) % len(kernels)], p + 1)  # a window is never all padding
                kw = kh if square_kernel else max(kernels[(r + i + 1) % len(kernels)], p + 1)
                if kw == kh and not square_kernel:
                    kw = kh + 1
                H = _size(kh, p, s, r, max_size)
                W = _size(kw, p, s, (r + 1) % s, max_size, avoid=H)
                cases.append(Window(H, W, kh, kw, s, p))
    return cases


def _size(k: int, pad: int, stride: int, remainder: int, max_size: int, avoid: int = -1) -> int:
    """The smallest n >= k (and != avoid, if possible) with (n + 2*pad - k) % stride == remainder.

    The input holds at least one whole kernel, and the output has at least 2 rows, so
    that the stride matters.
    """
    options = [n for n in range(k, max_size + 1)
               if (n + 2 * pad - k) % stride == remainder and (n + 2 * pad - k) // stride >= 1]  # fmt: skip
    if not options:
        raise ValueError(f"no size up to {max_size} for kernel {k}, pad {pad}, stride {stride}, remainder {remainder}")
    return next((n for n in options if n != avoid), options[0])
