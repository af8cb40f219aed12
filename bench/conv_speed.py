"""How fast are conv_net's layers? Naive loops vs the fast NumPy layers vs TensorFlow.

    .venv/bin/python bench/conv_speed.py                  # 2 threads everywhere (this machine's cores)
    .venv/bin/python bench/conv_speed.py --threads 1 -v   # single-threaded, with every timing
    .venv/bin/python bench/conv_speed.py --markdown       # the table for docs/bench/conv_speed.md

Times the forward pass and forward + backward of a convolution and a max-pooling layer:

- naive: the reference solution of source/conv_net (loops), on a smaller batch, scaled
  linearly to the full batch (their cost is exactly proportional to N);
- fast: source/conv_net/cs231n/fast_layers.py (NumPy, im2col, reshape pooling);
- tf: tf.nn.conv2d + tf.nn.bias_add and tf.nn.max_pool2d in a tf.function on the CPU,
  gradients with tf.GradientTape; inputs in TensorFlow's native NHWC layout (the
  transposition is not timed).

Every library gets the same number of threads: OMP/OpenBLAS/MKL through the
environment (set here, before NumPy is imported) and TensorFlow's intra- and inter-op
pools. Each figure is the fastest of --repeat runs after one warm-up run (the minimum
is the least disturbed by other processes; -v also shows the median). float32 for all.

--keep-memory tells glibc's malloc to keep freed memory instead of returning it to the
system (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD, like the MALLOC_MMAP_THRESHOLD_
environment variable). NumPy allocates every large temporary with malloc, and by
default each one comes back as fresh pages that fault in on first touch; TensorFlow
keeps its own pool and doesn't pay that. Where page faults are expensive (virtual
machines), this changes the NumPy figures a lot: docs/bench/conv_speed.md shows both.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

# (name, x shape, w shape, conv_param, images for the naive layers)
CONV_CASES = [
    ("cs231n: x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1", (100, 3, 31, 31), (25, 3, 3, 3), 2, 1, 10),
    ("larger: x (50, 32, 32, 32), w (64, 32, 3, 3), stride 1, pad 1", (50, 32, 32, 32), (64, 32, 3, 3), 1, 1, 2),
]
# (name, x shape, pool size, stride, images for the naive layer)
POOL_CASES = [
    ("cs231n: x (100, 3, 32, 32), 2x2, stride 2", (100, 3, 32, 32), 2, 2, 20),
    ("larger: x (50, 64, 32, 32), 2x2, stride 2", (50, 64, 32, 32), 2, 2, 5),
    ("overlapping: x (50, 64, 32, 32), 3x3, stride 2 (im2col)", (50, 64, 32, 32), 3, 2, 5),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time conv_net's naive and fast layers against TensorFlow.")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS, OpenMP and TensorFlow (default: 2)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure; the fastest counts (default: 7)")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive layers")
    parser.add_argument("--no-tf", action="store_true", help="skip TensorFlow")
    parser.add_argument(
        "--keep-memory",
        action="store_true",
        help="make glibc's malloc keep freed memory (fewer page faults for NumPy; see above)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table instead of plain text")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show median times")
    return parser.parse_args(argv)


def timed(fn, repeat: int) -> tuple[float, float]:
    """(fastest, median) seconds of fn() over `repeat` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        import numpy as np

        self.np = np
        sys.path.insert(0, str(ROOT))
        sys.path.insert(0, str(ROOT / "source" / "conv_net"))
        from cs231n import fast_layers

        self.fast = fast_layers
        self.naive = None
        if not args.no_naive:
            from autograder.course.assignments import Assignment, load_reference

            self.naive = load_reference(Assignment("conv_net"))
        self.tf = None
        if not args.no_tf:
            try:
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                import tensorflow as tf

                tf.config.threading.set_intra_op_parallelism_threads(args.threads)
                tf.config.threading.set_inter_op_parallelism_threads(args.threads)
                tf.config.set_visible_devices([], "GPU")
                self.tf = tf
            except ImportError as e:
                print(f"(TensorFlow not available: {e}; its column is skipped)", file=sys.stderr)
        self.rows: list[dict] = []

    def time(self, fn) -> tuple[float, float]:
        return timed(fn, self.args.repeat)

    # --- convolution ------------------------------------------------------------------

    def conv(self, name, x_shape, w_shape, stride, pad, naive_images) -> None:
        np, fast = self.np, self.fast
        rng = np.random.default_rng(0)
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        b = rng.standard_normal(w_shape[0], dtype=np.float32)
        conv_param = {"stride": stride, "pad": pad}
        out, cache = fast.conv_forward_fast(x, w, b, conv_param)
        dout = rng.standard_normal(out.shape, dtype=np.float32)

        def fast_both():
            o, c = fast.conv_forward_fast(x, w, b, conv_param)
            fast.conv_backward_fast(dout, c)

        row = {"layer": "conv", "case": name,
               "fast": (self.time(lambda: fast.conv_forward_fast(x, w, b, conv_param)), self.time(fast_both))}  # fmt: skip
        if self.naive is not None:
            scale = x_shape[0] / naive_images
            xs, ds = x[:naive_images].astype(np.float64), dout[:naive_images].astype(np.float64)
            wd, bd = w.astype(np.float64), b.astype(np.float64)
            fwd = timed(lambda: self.naive.conv_forward_naive(xs, wd, bd, conv_param), 1)
            cache_n = self.naive.conv_forward_naive(xs, wd, bd, conv_param)[1]
            bwd = timed(lambda: self.naive.conv_backward_naive(ds, cache_n), 1)
            row["naive"] = ((fwd[0] * scale,) * 2, ((fwd[0] + bwd[0]) * scale,) * 2)
            row["naive_images"] = naive_images
        if self.tf is not None:
            row["tf"] = self.tf_conv(x, w, b, dout, stride, pad)
        self.rows.append(row)

    def tf_conv(self, x, w, b, dout, stride, pad):
        tf = self.tf
        xt = tf.constant(x.transpose(0, 2, 3, 1))  # NHWC
        wt = tf.constant(w.transpose(2, 3, 1, 0))  # (HH, WW, C, F)
        bt = tf.constant(b)
        dt = tf.constant(dout.transpose(0, 2, 3, 1))
        padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]]

        @tf.function
        def forward(xt, wt, bt):
            return tf.nn.bias_add(tf.nn.conv2d(xt, wt, strides=stride, padding=padding), bt)

        @tf.function
        def both(xt, wt, bt, dt):
            with tf.GradientTape() as tape:
                tape.watch([xt, wt, bt])
                out = tf.nn.bias_add(tf.nn.conv2d(xt, wt, strides=stride, padding=padding), bt)
            return tape.gradient(out, [xt, wt, bt], output_gradients=dt)

        return (self.time(lambda: forward(xt, wt, bt).numpy()),
                self.time(lambda: [g.numpy() for g in both(xt, wt, bt, dt)]))  # fmt: skip

    # --- max pooling ------------------------------------------------------------------

    def pool(self, name, x_shape, size, stride, naive_images) -> None:
        np, fast = self.np, self.fast
        rng = np.random.default_rng(1)
        x = rng.standard_normal(x_shape, dtype=np.float32)
        pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
        out, cache = fast.max_pool_forward_fast(x, pool_param)
        dout = rng.standard_normal(out.shape, dtype=np.float32)

        def fast_both():
            o, c = fast.max_pool_forward_fast(x, pool_param)
            fast.max_pool_backward_fast(dout, c)

        row = {"layer": "max pool", "case": name,
               "fast": (self.time(lambda: fast.max_pool_forward_fast(x, pool_param)), self.time(fast_both))}  # fmt: skip
        if self.naive is not None:
            scale = x_shape[0] / naive_images
            xs, ds = x[:naive_images].astype(np.float64), dout[:naive_images].astype(np.float64)
            fwd = timed(lambda: self.naive.max_pool_forward_naive(xs, pool_param), 1)
            cache_n = self.naive.max_pool_forward_naive(xs, pool_param)[1]
            bwd = timed(lambda: self.naive.max_pool_backward_naive(ds, cache_n), 1)
            row["naive"] = ((fwd[0] * scale,) * 2, ((fwd[0] + bwd[0]) * scale,) * 2)
            row["naive_images"] = naive_images
        if self.tf is not None:
            tf = self.tf
            xt, dt = tf.constant(x.transpose(0, 2, 3, 1)), tf.constant(dout.transpose(0, 2, 3, 1))

            @tf.function
            def forward(xt):
                return tf.nn.max_pool2d(xt, ksize=size, strides=stride, padding="VALID")

            @tf.function
            def both(xt, dt):
                with tf.GradientTape() as tape:
                    tape.watch(xt)
                    out = tf.nn.max_pool2d(xt, ksize=size, strides=stride, padding="VALID")
                return tape.gradient(out, xt, output_gradients=dt)

            row["tf"] = (self.time(lambda: forward(xt).numpy()), self.time(lambda: both(xt, dt).numpy()))
        self.rows.append(row)

    # --- report -----------------------------------------------------------------------

    def report(self) -> None:
        ms = lambda t: f"{t * 1e3:,.1f}"  # noqa: E731
        header = [
            "layer",
            "case",
            "pass",
            "naive (ms)",
            "fast NumPy (ms)",
            "TensorFlow (ms)",
            "fast / TF",
            "naive / fast",
        ]
        lines = []
        for row in self.rows:
            for k, label in enumerate(("forward", "forward + backward")):
                fast_t = row["fast"][k]
                naive_t = row["naive"][k] if "naive" in row else None
                tf_t = row["tf"][k] if "tf" in row else None
                cells = [row["layer"], row["case"], label,
                         ms(naive_t[0]) if naive_t else "-",
                         ms(fast_t[0]) + (f" (median {ms(fast_t[1])})" if self.args.verbose else ""),
                         (ms(tf_t[0]) + (f" (median {ms(tf_t[1])})" if self.args.verbose else "")) if tf_t else "-",
                         f"{fast_t[0] / tf_t[0]:.2f}x" if tf_t else "-",
                         f"{naive_t[0] / fast_t[0]:,.0f}x" if naive_t else "-"]  # fmt: skip
                lines.append(cells)
        if self.args.markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
            for cells in lines:
                print("| " + " | ".join(cells) + " |")
        else:
            widths = [max(len(c[i]) for c in [header, *lines]) for i in range(len(header))]
            for cells in [header, *lines]:
                print("  ".join(c.ljust(wd) for c, wd in zip(cells, widths, strict=True)))
        naive = {r["case"]: r["naive_images"] for r in self.rows if "naive_images" in r}
        if naive:
            print("\nNaive layers timed once on the first N images, scaled to the full batch: "
                  + "; ".join(f"N = {n} for {case.split(':')[0]} {layer}" for (case, n), layer in
                              zip(naive.items(), [r["layer"] for r in self.rows if "naive_images" in r], strict=True)))  # fmt: skip


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks for reuse (no-op elsewhere); True if it could."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for var in THREAD_VARS:  # before NumPy (and its BLAS) is imported
        os.environ[var] = str(args.threads)
    kept = keep_freed_memory() if args.keep_memory else False
    if "numpy" in sys.modules:
        print("warning: NumPy was imported before the thread settings; BLAS may use other counts", file=sys.stderr)
    bench = Bench(args)
    np = bench.np
    tf_version = bench.tf.__version__ if bench.tf is not None else "not used"
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.threads} thread(s); "
          f"Python {platform.python_version()}, NumPy {np.__version__}, TensorFlow {tf_version}; "
          f"load average {os.getloadavg()[0]:.1f}; malloc keeps freed memory: {'yes' if kept else 'no'}")  # fmt: skip
    for case in CONV_CASES:
        bench.conv(*case)
    for case in POOL_CASES:
        bench.pool(*case)
    bench.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
