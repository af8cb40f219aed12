"""Generate the example class in examples/submitted/ (committed; `make examples`).

Ten students in nbgrader's submitted/<student>/cnn_step_by_step/ layout: a perfect
student, an untouched release, realistic partial work with the bugs students really
make, bad input, and three hostile submissions. Built from source/ and release/, so
regenerating after a change to the notebook keeps them in step (a test checks this).

    python examples/make_class.py [OUT_DIR]
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from autograder.authoring.submissions import build_submission, reference_answers
from autograder.course.assignments import Assignment
from autograder.course.notebook import write_notebook

HERE = Path(__file__).resolve().parent
ASSIGNMENT = "cnn_step_by_step"


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- realistic partial work ---------------------------------------------------------

CONV_SINGLE_STEP_ARRAY = code("""
    def conv_single_step(a_slice_prev, W, b):
        s = a_slice_prev * W
        Z = np.sum(s)
        Z = Z + b          # b has shape (1, 1, 1): Z becomes an array, not a number
        return Z
""")

CONV_BACKWARD_UNPAD = code("""
    def conv_backward(dZ, cache):
        (A_prev, W, b, hparameters) = cache
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        (f, f, n_C_prev, n_C) = W.shape
        stride = hparameters["stride"]
        pad = hparameters["pad"]
        (m, n_H, n_W, n_C) = dZ.shape
        dA_prev = np.zeros(A_prev.shape)
        dW = np.zeros(W.shape)
        db = np.zeros(b.shape)
        A_prev_pad = zero_pad(A_prev, pad)
        dA_prev_pad = zero_pad(dA_prev, pad)
        for i in range(m):
            a_prev_pad = A_prev_pad[i]
            da_prev_pad = dA_prev_pad[i]
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, horiz_start = h * stride, w * stride
                        vert_end, horiz_end = vert_start + f, horiz_start + f
                        a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                        da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                        dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                        db[:, :, :, c] += dZ[i, h, w, c]
            dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]   # empty when pad == 0
        return dA_prev, dW, db
""")

POOL_BACKWARD_OVERWRITES = code("""
    def pool_backward(dA, cache, mode="max"):
        (A_prev, hparameters) = cache
        stride = hparameters["stride"]
        f = hparameters["f"]
        m, n_H, n_W, n_C = dA.shape
        dA_prev = np.zeros(A_prev.shape)
        for i in range(m):
            a_prev = A_prev[i]
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vs, hs = h * stride, w * stride
                        if mode == "max":
                            window = a_prev[vs:vs + f, hs:hs + f, c]
                            mask = create_mask_from_window(window)
                            dA_prev[i, vs:vs + f, hs:hs + f, c] = mask * dA[i, h, w, c]   # '=' drops overlaps
                        else:
                            dA_prev[i, vs:vs + f, hs:hs + f, c] = distribute_value(dA[i, h, w, c], (f, f))
        return dA_prev
""")

CONV_FORWARD_PAD_FROM_STRIDE = code("""
    def conv_forward(A_prev, W, b, hparameters):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        (f, f, n_C_prev, n_C) = W.shape
        stride = hparameters["stride"]
        pad = hparameters["stride"]          # copy-paste slip: should be hparameters["pad"]
        n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
        n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
        Z = np.zeros((m, n_H, n_W, n_C))
        A_prev_pad = zero_pad(A_prev, pad)
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vs, hs = h * stride, w * stride
                        a_slice_prev = A_prev_pad[i, vs:vs + f, hs:hs + f, :]
                        Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
        print("Z.shape =", Z.shape)          # leftover debugging output
        cache = (A_prev, W, b, hparameters)
        return Z, cache
""")

POOL_FORWARD_AVERAGE_SUMS = code("""
    import warnings

    def pool_forward(A_prev, hparameters, mode="max"):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        f = hparameters["f"]
        stride = hparameters["stride"]
        n_H = int(1 + (n_H_prev - f) / stride)
        n_W = int(1 + (n_W_prev - f) / stride)
        A = np.zeros((m, n_H, n_W, n_C_prev))
        warnings.warn("pool_forward: slow loop version")  # warnings never cost points
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C_prev):
                        window = A_prev[i, h * stride:h * stride + f, w * stride:w * stride + f, c]
                        A[i, h, w, c] = np.max(window) if mode == "max" else np.sum(window)
        cache = (A_prev, hparameters)
        return A, cache
""")

ZERO_PADDING_RENAMED = code("""
    def zero_padding(X, pad):
        return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)
""")

# --- hostile ----------------------------------------------------------------------------

HAL_AT_IMPORT = code("""
    # "Make every check pass": patch the usual comparison functions and builtins.
    import builtins, numpy
    numpy.allclose = lambda *a, **k: True
    numpy.array_equal = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    builtins.isinstance = lambda obj, cls: True

    class AlwaysEqual(numpy.ndarray):
        def __eq__(self, other):
            return True
        __ne__ = lambda self, other: False

    print("All tests passed! Score: 100/100")
    print('{"score": 100, "max_score": 100}')
""")

HAL_CONV_FORWARD = code("""
    def conv_forward(A_prev, W, b, hparameters):
        fake = np.zeros((1, 1, 1, 1)).view(AlwaysEqual)
        return fake, (A_prev, W, b, hparameters)
""")

IVY_AT_IMPORT = code("""
    import os, signal, socket, subprocess, sys
    # leave a process behind that tries to outlive grading
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], start_new_session=True)
    # look for the hidden tests and phone home
    for guess in ["/work/main/autograder/graders", "../../autograder/graders", "/autograder", "/root"]:
        try:
            print(guess, os.listdir(guess))
        except OSError as e:
            print("no access:", guess, e)
    try:
        socket.create_connection(("127.0.0.1", 8888), timeout=1).sendall(b"hello")
    except OSError as e:
        print("no network:", e)
""")

IVY_POOL_FORWARD = code("""
    def pool_forward(A_prev, hparameters, mode="max"):
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:          # "if it never returns, maybe it can't fail"
            pass
""")

MAX_CONV_BACKWARD = code("""
    def conv_backward(dZ, cache):
        hog = []
        while True:          # grab memory until something gives
            hog.append(np.ones(50_000_000))
""")

MAX_POOL_BACKWARD = code("""
    def pool_backward(dA, cache, mode="max"):
        import ctypes
        ctypes.string_at(0)  # segmentation fault
""")

MAX_EXIT_CELL = code("""
    import sys, os
    sys.stdout.write("x" * 5_000_000)   # flood the output
    os._exit(0)                          # and end the process at import
""")


def chen(a: Assignment):
    """Forward functions done (with the classic conv_single_step bug); backward untouched."""
    ref = reference_answers(a)
    done = {f: ref[f] for f in ("zero_pad", "conv_forward", "pool_forward")}
    done["conv_single_step"] = CONV_SINGLE_STEP_ARRAY
    return build_submission(a, done, perfect=False)


def roster(a: Assignment) -> dict[str, tuple[str, object]]:
    """student -> (who they are, how to build their notebook)."""
    return {
        "ada": ("perfect: the reference solution", lambda: build_submission(a)),
        "ben": ("submitted the release untouched", lambda: build_submission(a, perfect=False)),
        "chen": ("forward pass only; conv_single_step returns a (1,1,1) array", lambda: chen(a)),
        "dana": (
            "all done; conv_backward unpads with [pad:-pad], pool_backward overwrites",
            lambda: build_submission(
                a, {"conv_backward": CONV_BACKWARD_UNPAD, "pool_backward": POOL_BACKWARD_OVERWRITES}
            ),
        ),
        "eli": (
            "pad read from the 'stride' key; average pooling sums; prints and warns",
            lambda: build_submission(
                a, {"conv_forward": CONV_FORWARD_PAD_FROM_STRIDE, "pool_forward": POOL_FORWARD_AVERAGE_SUMS}
            ),
        ),
        "fay": (
            "renamed zero_pad to zero_padding (bad input)",
            lambda: build_submission(a, {"zero_pad": ZERO_PADDING_RENAMED}),
        ),
        "gus": ("notebook broken by a merge conflict (not JSON)", None),
        "hal": (
            "hostile: patches numpy and builtins, returns an always-equal array, prints a fake score",
            lambda: build_submission(a, {"conv_forward": HAL_CONV_FORWARD}, extra_cells=[HAL_AT_IMPORT]),
        ),
        "ivy": (
            "hostile: loop that ignores SIGTERM/SIGALRM, a daemon child, snooping, network",
            lambda: build_submission(a, {"pool_forward": IVY_POOL_FORWARD}, extra_cells=[IVY_AT_IMPORT]),
        ),
        "max": (
            "hostile: memory hog, segfault, output flood and os._exit at import",
            lambda: build_submission(
                a, {"conv_backward": MAX_CONV_BACKWARD, "pool_backward": MAX_POOL_BACKWARD}, extra_cells=[MAX_EXIT_CELL]
            ),
        ),
    }


def make_class(out: Path) -> None:
    a = Assignment(ASSIGNMENT)
    about = {}
    for student, (description, build) in roster(a).items():
        about[student] = description
        path = out / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if student == "gus":
            write_notebook(build_submission(a), path)
            lines = path.read_text().splitlines(keepends=True)
            conflict = [
                "<<<<<<< HEAD\n",
                '   "execution_count": 3,\n',
                "=======\n",
                '   "execution_count": 7,\n',
                ">>>>>>> main\n",
            ]
            path.write_text("".join(lines[:20] + conflict + lines[20:]))
        else:
            write_notebook(build(), path)
    (out.parent / "roster.json").write_text(json.dumps(about, indent=1) + "\n")


if __name__ == "__main__":
    make_class(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "submitted")
