"""Fast convolution and max-pooling layers in pure NumPy (no compiler needed).

Same contracts as the naive layers you write in the notebook, but vectorised:

- Convolution is "im2col": every receptive field of the padded input is copied into
  one row of a matrix (a strided view from ``sliding_window_view``, then one copy), so
  the whole layer becomes a single matrix product, which BLAS does very fast. The
  backward pass is two more matrix products and a "col2im" that adds the columns back
  into the image, one filter offset at a time.
- Max pooling uses a reshape when the windows tile the input exactly (2x2 windows with
  stride 2 on an even-sized input, the usual case), and im2col otherwise.

Ties in max pooling: the reshape method splits the gradient evenly between tied
maxima; the im2col method gives it all to the first maximum in row-major order.

The caches are NOT the naive layers' caches: pass them only to the matching fast
backward function.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x: np.ndarray, height: int, width: int, stride: int) -> np.ndarray:
    """View of every (height, width) window of x's last two axes, at the given stride.

    x of shape (N, C, H, W) gives a read-only view of shape
    (N, C, out_h, out_w, height, width), with out_h = (H - height) // stride + 1.
    """
    return sliding_window_view(x, (height, width), axis=(2, 3))[:, :, ::stride, ::stride]


def conv_forward_fast(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict) -> tuple[np.ndarray, tuple]:
    """Fast forward pass of a convolution layer (im2col and one matrix product).

    Inputs:
    - x: input data, of shape (N, C, H, W)
    - w: filter weights, of shape (F, C, HH, WW)
    - b: biases, of shape (F,)
    - conv_param: dict with "stride" (int >= 1) and "pad" (int >= 0, zeros on each side
      of H and W)

    Returns a tuple of:
    - out: output, of shape (N, F, H', W') with H' = 1 + (H + 2 * pad - HH) // stride
      and W' = 1 + (W + 2 * pad - WW) // stride
    - cache: (x, w, b, conv_param, cols), for conv_backward_fast only
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    n_images = x.shape[0]
    n_filters = w.shape[0]
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _windows(x_padded, w.shape[2], w.shape[3], stride)  # (N, C, H', W', HH, WW), a view
    out_h, out_w = windows.shape[2:4]
    # im2col: a row per (channel, row, column) of a receptive field, a column per
    # (image, output row, output column). Copying in this order reads the input along
    # its rows, and the whole layer becomes ONE matrix product, which BLAS runs fast
    # (and spreads over several threads) however many images there are.
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(-1, n_images * out_h * out_w)
    out = w.reshape(n_filters, -1) @ cols  # (F, N * H' * W')
    out += b.reshape(-1, 1)
    out = out.reshape(n_filters, n_images, out_h, out_w).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), (x, w, b, conv_param, cols)


def conv_backward_fast(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast backward pass of a convolution layer.

    Inputs:
    - dout: upstream derivatives, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param, cols) from conv_forward_fast

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dw: gradient with respect to w, of shape (F, C, HH, WW)
    - db: gradient with respect to b, of shape (F,)
    """
    x, w, _, conv_param, cols = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    n_images, n_chans, height, width = x.shape
    n_filters, _, field_h, field_w = w.shape
    out_h, out_w = dout.shape[2:]

    dout_rows = dout.transpose(1, 0, 2, 3).reshape(n_filters, -1)  # (F, N * H' * W'), like out
    db = dout_rows.sum(axis=1)
    dw = (dout_rows @ cols.T).reshape(w.shape)

    # col2im: the gradient of every receptive field, (C, HH, WW, N, H', W'), added back
    # into the padded input one filter offset (i, j) at a time. The sum is built with
    # channels first, (C, N, H, W), so that every addition reads contiguous memory.
    dfields = (w.reshape(n_filters, -1).T @ dout_rows).reshape(n_chans, field_h, field_w, n_images, out_h, out_w)
    dtype = np.result_type(dout.dtype, w.dtype)
    dx_padded = np.zeros((n_chans, n_images, height + 2 * pad, width + 2 * pad), dtype=dtype)
    for i in range(field_h):
        rows = slice(i, i + stride * out_h, stride)
        for j in range(field_w):
            dx_padded[:, :, rows, j : j + stride * out_w : stride] += dfields[:, i, j]
    dx = dx_padded[:, :, pad : pad + height, pad : pad + width].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dx), dw, db


def max_pool_forward_fast(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Fast forward pass of a max-pooling layer.

    Uses a reshape when the windows are square, as wide as the stride and tile the
    input; im2col otherwise.

    Inputs:
    - x: input data, of shape (N, C, H, W)
    - pool_param: dict with "pool_height", "pool_width" and "stride"

    Returns a tuple of:
    - out: output, of shape (N, C, H', W') with H' = 1 + (H - pool_height) // stride
      and W' = 1 + (W - pool_width) // stride
    - cache: for max_pool_backward_fast only
    """
    pool_h, pool_w, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    height, width = x.shape[2:]
    if pool_h == pool_w == stride and height % pool_h == 0 and width % pool_w == 0:
        out, cache = max_pool_forward_reshape(x, pool_param)
        return out, ("reshape", cache)
    out, cache = max_pool_forward_im2col(x, pool_param)
    return out, ("im2col", cache)


def max_pool_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Fast backward pass of a max-pooling layer.

    Inputs:
    - dout: upstream derivatives, of shape (N, C, H', W')
    - cache: from max_pool_forward_fast

    Returns:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    """
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    return max_pool_backward_im2col(dout, real_cache)


def max_pool_forward_reshape(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling when the windows tile the input: split each axis in (blocks, block size).

    Needs pool_height == pool_width == stride, dividing H and W. The reshape is free (a
    view); the maximum is then taken over the pool_height * pool_width offsets inside
    the blocks with element-wise np.maximum, much faster than a reduction over two
    short, strided axes.
    """
    pool_h, pool_w, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n_images, n_chans, height, width = x.shape
    if not (pool_h == pool_w == stride and height % pool_h == 0 and width % pool_w == 0):
        raise ValueError("max_pool_forward_reshape needs square windows as wide as the stride that tile the input")
    blocks = x.reshape(n_images, n_chans, height // pool_h, pool_h, width // pool_w, pool_w)
    out = blocks[:, :, :, 0, :, 0].copy()
    for i in range(pool_h):
        for j in range(pool_w):
            if i or j:
                np.maximum(out, blocks[:, :, :, i, :, j], out=out)
    return out, (x, blocks, out)


def max_pool_backward_reshape(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of max_pool_forward_reshape; tied maxima share the gradient evenly."""
    x, blocks, out = cache
    pool_h, pool_w = blocks.shape[3], blocks.shape[5]
    is_max = [[blocks[:, :, :, i, :, j] == out for j in range(pool_w)] for i in range(pool_h)]
    ties = sum(m.astype(np.int32) for row in is_max for m in row)  # maxima per window, usually 1
    share = dout / ties.astype(dout.dtype)
    dx = np.zeros(blocks.shape, dtype=np.result_type(x.dtype, dout.dtype))
    for i in range(pool_h):
        for j in range(pool_w):
            dx[:, :, :, i, :, j] = is_max[i][j] * share
    return dx.reshape(x.shape)


def max_pool_forward_im2col(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling for any window and stride, with im2col.

    cols[k] holds, for every window, its entry at offset k = i * pool_width + j (a copy
    of a strided slice of x), so the maximum over windows is a maximum over the first
    axis of cols: element-wise and fast.
    """
    pool_h, pool_w, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = _windows(x, pool_h, pool_w, stride)  # (N, C, H', W', pool_h, pool_w), a view
    cols = windows.transpose(4, 5, 0, 1, 2, 3).reshape(pool_h * pool_w, *windows.shape[:4])
    out = cols.max(axis=0)
    return out, (x.shape, cols, out, pool_param)


def max_pool_backward_im2col(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of max_pool_forward_im2col: each gradient goes to its window's first maximum."""
    shape, cols, out, pool_param = cache
    pool_w, stride = pool_param["pool_width"], pool_param["stride"]
    out_h, out_w = dout.shape[2:]
    dx = np.zeros(shape, dtype=np.result_type(cols.dtype, dout.dtype))
    routed = np.zeros(out.shape, dtype=bool)  # windows whose maximum got its gradient already
    for k in range(cols.shape[0]):  # one offset (i, j) inside the window at a time
        i, j = divmod(k, pool_w)
        first_max = (cols[k] == out) & ~routed
        routed |= first_max
        dx[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += dout * first_max
    return dx
