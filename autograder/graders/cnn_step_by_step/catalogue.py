"""The catalogue of cnn_step_by_step: answers the fidelity suite grades (autograder/authoring/catalogue.py).

MUTANTS are realistic wrong answers, each wrong in exactly the function it names:
graded alone, it must lose points on that function and keep full marks elsewhere
(the graders answer cross-function calls with the reference). Each is the reference
answer with one realistic bug edited in (``REFERENCE.edit``: each edit must match the
reference exactly once, so a mutant can't silently stop being one when the reference
changes); a bug that several functions share (the stride ignored, a window one row too
small) is one pair of edits. CORRECT are answers written differently from the
reference; each must earn full marks. ATTACKS are a perfect student plus one attack
each: where the attack lives it scores 0, and nothing raises the score; attacks at
import (``function=None``) must cost nothing at all.

Data only: tests/authoring/test_fidelity.py grades them.
"""

from autograder.authoring.catalogue import (
    GRADER_FILE,
    LOOPBACK_PORT,
    SURVIVOR_TOKEN,
    Attack,
    Variant,
    cell,
    reference_cells,
)

REFERENCE = reference_cells(__file__)

# Bugs that every sliding-window function can have, as edits of its loops.
STRIDE_IGNORED = (("vert_start = h * stride", "vert_start = h"), ("horiz_start = w * stride", "horiz_start = w"))
WINDOW_ONE_SHORT = (
    ("vert_end = vert_start + f", "vert_end = vert_start + f - 1"),
    ("horiz_end = horiz_start + f", "horiz_end = horiz_start + f - 1"),
)
# Lines of the reference that several mutants edit (each occurs once in its function).
ZERO_PAD = 'X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)'
BIAS = "    Z = Z + b.item()  # b.item() is a Python float, so Z stays a scalar\n"
CONV_STEP = "conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])"
POOL_MODES = """                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    elif mode == "average":
                        A[i, h, w, c] = np.mean(a_prev_slice)
                    else:
                        raise ValueError(f'mode must be "max" or "average", not {mode!r}')
"""
UNPAD = """        # cut the padding off; [pad:-pad] would be empty when pad == 0
        dA_prev[i, :, :, :] = da_prev_pad[pad : pad + n_H_prev, pad : pad + n_W_prev, :]
"""
MASK = "mask = x == np.max(x)"
AVERAGE = "average = dz / (n_H * n_W)"
MAX_SLICE = """a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)"""

MUTANTS: list[Variant] = [
    # --- zero_pad -------------------------------------------------------------------
    Variant(
        "zero_pad_pads_channels",
        "zero_pad",
        REFERENCE.edit("zero_pad", ("(pad, pad), (0, 0)), mode", "(pad, pad), (pad, pad)), mode")),
        "pads the channel axis as well as height and width",
    ),
    Variant(
        "zero_pad_pads_batch",
        "zero_pad",
        REFERENCE.edit("zero_pad", ("((0, 0), (pad, pad)", "((pad, pad), (pad, pad)")),
        "pads the batch axis instead of leaving it alone",
    ),
    Variant(
        "zero_pad_one_side",
        "zero_pad",
        REFERENCE.edit("zero_pad", ("(pad, pad), (pad, pad), (0, 0))", "(pad, 0), (pad, 0), (0, 0))")),
        "pads only the top and left",
    ),
    Variant(
        "zero_pad_manual_minus_pad",
        "zero_pad",
        REFERENCE.edit(
            "zero_pad",
            (
                ZERO_PAD,
                "m, n_H, n_W, n_C = X.shape\n"
                "    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))\n"
                "    X_pad[:, pad:-pad, pad:-pad, :] = X",
            ),
        ),
        "copies X into [pad:-pad], an empty slice when pad = 0 (raises)",
    ),
    Variant(
        "zero_pad_constant_is_pad",
        "zero_pad",
        REFERENCE.edit("zero_pad", ("constant_values=0", "constant_values=pad")),
        "fills the border with the value pad instead of zeros",
    ),
    Variant(
        "zero_pad_float32_output",
        "zero_pad",
        REFERENCE.edit(
            "zero_pad",
            (
                ZERO_PAD,
                "m, n_H, n_W, n_C = X.shape\n"
                "    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=np.float32)\n"
                "    X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X",
            ),
        ),
        "always builds a float32 array, losing precision for float64 input",
    ),
    # --- conv_single_step -----------------------------------------------------------
    Variant(
        "conv_single_step_returns_array",
        "conv_single_step",
        REFERENCE.edit("conv_single_step", (BIAS, "    Z = Z + b\n")),
        "adds the (1, 1, 1) array b, so the result is an array, not a scalar",
    ),
    Variant(
        "conv_single_step_no_bias",
        "conv_single_step",
        REFERENCE.edit("conv_single_step", (BIAS, "")),
        "forgets the bias",
    ),
    Variant(
        "conv_single_step_bias_per_entry",
        "conv_single_step",
        REFERENCE.edit(
            "conv_single_step",
            ("s = a_slice_prev * W  # element-wise product, shape (f, f, n_C_prev)", "s = a_slice_prev * W + b"),
            (BIAS, ""),
        ),
        "adds b to every product, so the bias counts f*f*n_C_prev times",
    ),
    Variant(
        "conv_single_step_mean",
        "conv_single_step",
        REFERENCE.edit("conv_single_step", ("Z = np.sum(s)", "Z = np.mean(s)")),
        "averages the products instead of summing them",
    ),
    Variant(
        "conv_single_step_hardcoded",
        "conv_single_step",
        REFERENCE.edit(
            "conv_single_step",
            (
                "    s = a_slice_prev * W  # element-wise product, shape (f, f, n_C_prev)\n    Z = np.sum(s)\n" + BIAS,
                "",
            ),
            ("return Z", "return -6.999089450680221"),
        ),
        "returns the public check's answer",
    ),
    # --- conv_forward ---------------------------------------------------------------
    Variant(
        "conv_forward_window_off_by_one",
        "conv_forward",
        REFERENCE.edit("conv_forward", *WINDOW_ONE_SHORT),
        "window one row and column too small (vert_end = vert_start + f - 1)",
    ),
    Variant(
        "conv_forward_stride_ignored",
        "conv_forward",
        REFERENCE.edit("conv_forward", *STRIDE_IGNORED),
        "windows start at (h, w) instead of (h*stride, w*stride)",
    ),
    Variant(
        "conv_forward_pad_from_stride",
        "conv_forward",
        REFERENCE.edit("conv_forward", ('pad = hparameters["pad"]', 'pad = hparameters["stride"]')),
        "reads pad from hparameters['stride'] (copy-paste slip)",
    ),
    Variant(
        "conv_forward_bias_twice",
        "conv_forward",
        REFERENCE.edit("conv_forward", (CONV_STEP, CONV_STEP + " + b[0, 0, 0, c]")),
        "adds the bias again on top of conv_single_step, which already adds it",
    ),
    Variant(
        "conv_forward_first_filter_only",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward",
            (
                f"for c in range(n_C):\n                    Z[i, h, w, c] = {CONV_STEP}",
                "Z[i, h, w, :] = conv_single_step(a_slice_prev, W[:, :, :, 0], b[:, :, :, 0])",
            ),
        ),
        "no loop over filters: channel c is fixed at 0 and copied to every output channel",
    ),
    Variant(
        "conv_forward_loops_over_input_size",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward",
            ("for h in range(n_H):", "for h in range(n_H_prev):"),
            ("for w in range(n_W):", "for w in range(n_W_prev):"),
        ),
        "loops over the input size range(n_H_prev) instead of the output size",
    ),
    Variant(
        "conv_forward_ceil_output_size",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward",
            (
                "n_H = (n_H_prev - f + 2 * pad) // stride + 1",
                "n_H = int(np.ceil((n_H_prev - f + 2 * pad) / stride)) + 1",
            ),
            (
                "n_W = (n_W_prev - f + 2 * pad) // stride + 1",
                "n_W = int(np.ceil((n_W_prev - f + 2 * pad) / stride)) + 1",
            ),
        ),
        "rounds the output size up instead of down",
    ),
    Variant(
        "conv_forward_height_width_swapped",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward",
            (
                "a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]",
                "a_prev_pad[horiz_start:horiz_end, vert_start:vert_end, :]",
            ),
        ),
        "indexes the slice as [w, h] (transposed): only right for square inputs",
    ),
    Variant(
        "conv_forward_filter_transposed",
        "conv_forward",
        REFERENCE.edit("conv_forward", ("W[:, :, :, c], b", "np.transpose(W[:, :, :, c], (1, 0, 2)), b")),
        "transposes each filter's height and width axes",
    ),
    Variant(
        "conv_forward_unpadded_input",
        "conv_forward",
        REFERENCE.edit("conv_forward", ("a_prev_pad = A_prev_pad[i]", "a_prev_pad = A_prev[i]")),
        "pads A_prev but then slides over the unpadded A_prev[i]",
    ),
    Variant(
        "conv_forward_caches_padded_input",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward", ("A_prev_pad = zero_pad(A_prev, pad)", "A_prev = A_prev_pad = zero_pad(A_prev, pad)")
        ),
        "overwrites A_prev with its padded version, so the cache holds the padded input",
    ),
    Variant(
        "conv_forward_float32_output",
        "conv_forward",
        REFERENCE.edit(
            "conv_forward", ("Z = np.zeros((m, n_H, n_W, n_C))", "Z = np.zeros((m, n_H, n_W, n_C), dtype=np.float32)")
        ),
        "stores Z as float32 even for float64 inputs",
    ),
    # --- pool_forward ---------------------------------------------------------------
    Variant(
        "pool_forward_always_max",
        "pool_forward",
        REFERENCE.edit("pool_forward", (POOL_MODES, "                    A[i, h, w, c] = np.max(a_prev_slice)\n")),
        "ignores mode: always max pooling",
    ),
    Variant(
        "pool_forward_average_is_sum",
        "pool_forward",
        REFERENCE.edit("pool_forward", ("np.mean(a_prev_slice)", "np.sum(a_prev_slice)")),
        "average pooling sums the window instead of averaging it",
    ),
    Variant(
        "pool_forward_stride_ignored",
        "pool_forward",
        REFERENCE.edit("pool_forward", *STRIDE_IGNORED),
        "windows start at (h, w) instead of (h*stride, w*stride)",
    ),
    Variant(
        "pool_forward_across_channels",
        "pool_forward",
        REFERENCE.edit("pool_forward", ("horiz_start:horiz_end, c]", "horiz_start:horiz_end, :]")),
        "pools over all channels of the window at once instead of channel by channel",
    ),
    Variant(
        "pool_forward_window_off_by_one",
        "pool_forward",
        REFERENCE.edit("pool_forward", *WINDOW_ONE_SHORT),
        "window one row and column too small (vert_end = vert_start + f - 1)",
    ),
    Variant(
        "pool_forward_caches_output",
        "pool_forward",
        REFERENCE.edit("pool_forward", ("cache = (A_prev, hparameters)", "cache = (A, hparameters)")),
        "caches the output A instead of the input A_prev",
    ),
    Variant(
        "pool_forward_default_average",
        "pool_forward",
        REFERENCE.edit("pool_forward", ('mode="max"):', 'mode="average"):')),
        "changes the default mode to 'average'",
    ),
    Variant(
        "pool_forward_hardcoded_f3",
        "pool_forward",
        REFERENCE.edit("pool_forward", ('f = hparameters["f"]', "f = 3")),
        "hard-codes the public check's window size f = 3",
    ),
    Variant(
        "pool_forward_average_divides_in_place",
        "pool_forward",
        REFERENCE.edit(
            "pool_forward",
            (
                "A[i, h, w, c] = np.mean(a_prev_slice)",
                "a_prev_slice /= f * f\n                        A[i, h, w, c] = np.sum(a_prev_slice)",
            ),
        ),
        "averages with /= on a view: divides A_prev itself in place (wrong again where windows overlap)",
    ),
    # --- conv_backward --------------------------------------------------------------
    Variant(
        "conv_backward_pad_from_stride",
        "conv_backward",
        REFERENCE.edit("conv_backward", ('pad = hparameters["pad"]', 'pad = hparameters["stride"]')),
        "reads pad from hparameters['stride']: passes the public check, where pad = stride = 2",
    ),
    Variant(
        "conv_backward_unpad_minus_pad",
        "conv_backward",
        REFERENCE.edit("conv_backward", (UNPAD, "        dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]\n")),
        "unpads with [pad:-pad], which is empty (and raises) when pad = 0",
    ),
    Variant(
        "conv_backward_dW_overwritten",
        "conv_backward",
        REFERENCE.edit("conv_backward", ("dW[:, :, :, c] += ", "dW[:, :, :, c] = ")),
        "dW[:, :, :, c] = ... overwrites instead of accumulating",
    ),
    Variant(
        "conv_backward_db_overwritten",
        "conv_backward",
        REFERENCE.edit("conv_backward", ("db[:, :, :, c] += ", "db[:, :, :, c] = ")),
        "db[:, :, :, c] = ... keeps only the last window's gradient",
    ),
    Variant(
        "conv_backward_db_summed_over_filters",
        "conv_backward",
        REFERENCE.edit(
            "conv_backward",
            ("                    db[:, :, :, c] += dZ[i, h, w, c]\n", ""),
            ("    return dA_prev, dW, db", "    db = np.sum(dZ) * np.ones(b.shape)\n    return dA_prev, dW, db"),
        ),
        "db sums dZ over every filter instead of one sum per filter",
    ),
    Variant(
        "conv_backward_dA_prev_still_padded",
        "conv_backward",
        REFERENCE.edit("conv_backward", ("return dA_prev, dW, db", "return dA_prev_pad, dW, db")),
        "returns the padded gradient without cutting the padding off",
    ),
    Variant(
        "conv_backward_stride_ignored",
        "conv_backward",
        REFERENCE.edit("conv_backward", *STRIDE_IGNORED),
        "windows start at (h, w) instead of (h*stride, w*stride)",
    ),
    Variant(
        "conv_backward_unpadded_slice",
        "conv_backward",
        REFERENCE.edit("conv_backward", ("a_slice = a_prev_pad[", "a_slice = A_prev[i, ")),
        "takes a_slice for dW from the unpadded A_prev: shifted windows (right only when pad = 0)",
    ),
    Variant(
        "conv_backward_reuses_A_prev",
        "conv_backward",
        REFERENCE.edit(
            "conv_backward",
            ("    dA_prev = np.zeros(A_prev.shape)\n", ""),
            (
                "    A_prev_pad = zero_pad(A_prev, pad)\n",
                "    A_prev_pad = zero_pad(A_prev, pad)\n    dA_prev = A_prev  # same shape, so reuse it\n    dA_prev[:] = 0\n",
            ),
        ),
        "right gradients, but dA_prev aliases A_prev and overwrites the cache in place",
    ),
    Variant(
        "conv_backward_hardcoded_public_hparameters",
        "conv_backward",
        REFERENCE.edit(
            "conv_backward", ('stride = hparameters["stride"]', "stride = 2"), ('pad = hparameters["pad"]', "pad = 2")
        ),
        "hard-codes the public check's stride = pad = 2",
    ),
    # --- create_mask_from_window ----------------------------------------------------
    Variant(
        "create_mask_greater_than_max",
        "create_mask_from_window",
        REFERENCE.edit("create_mask_from_window", (MASK, "mask = x > np.max(x)")),
        "uses > instead of ==, so nothing is marked",
    ),
    Variant(
        "create_mask_inverted",
        "create_mask_from_window",
        REFERENCE.edit("create_mask_from_window", (MASK, "mask = x < np.max(x)")),
        "marks everything except the maximum",
    ),
    Variant(
        "create_mask_of_minimum",
        "create_mask_from_window",
        REFERENCE.edit("create_mask_from_window", (MASK, "mask = x == np.min(x)")),
        "marks the minimum",
    ),
    Variant(
        "create_mask_column_maxima",
        "create_mask_from_window",
        REFERENCE.edit("create_mask_from_window", (MASK, "mask = x == np.max(x, axis=0)")),
        "compares with each column's maximum, so one entry per column is marked",
    ),
    Variant(
        "create_mask_largest_magnitude",
        "create_mask_from_window",
        REFERENCE.edit("create_mask_from_window", (MASK, "mask = np.abs(x) == np.max(np.abs(x))")),
        "marks the entry of largest absolute value (wrong for negative windows)",
    ),
    Variant(
        "create_mask_in_place",
        "create_mask_from_window",
        REFERENCE.edit(
            "create_mask_from_window",
            (MASK, "biggest = np.max(x)\n    x[x != biggest] = 0\n    x[x == biggest] = 1\n    mask = x"),
        ),
        "right 0/1 mask, built by overwriting the window x in place",
    ),
    # --- distribute_value -----------------------------------------------------------
    Variant(
        "distribute_value_divides_by_n_H",
        "distribute_value",
        REFERENCE.edit("distribute_value", (AVERAGE, "average = dz / n_H")),
        "divides by n_H only",
    ),
    Variant(
        "distribute_value_divides_by_sum",
        "distribute_value",
        REFERENCE.edit("distribute_value", (AVERAGE, "average = dz / (n_H + n_W)")),
        "divides by n_H + n_W (happens to be right for 2x2 windows)",
    ),
    Variant(
        "distribute_value_integer_division",
        "distribute_value",
        REFERENCE.edit("distribute_value", (AVERAGE, "average = dz // (n_H * n_W)")),
        "floor division",
    ),
    Variant(
        "distribute_value_not_divided",
        "distribute_value",
        REFERENCE.edit("distribute_value", (AVERAGE, "average = dz")),
        "copies dz to every entry without dividing",
    ),
    Variant(
        "distribute_value_shape_swapped",
        "distribute_value",
        REFERENCE.edit("distribute_value", ("np.full(shape, ", "np.full((n_W, n_H), ")),
        "builds the array with height and width swapped",
    ),
    # --- pool_backward --------------------------------------------------------------
    Variant(
        "pool_backward_assigns",
        "pool_backward",
        REFERENCE.edit(
            "pool_backward", ("c] += mask * ", "c] = mask * "), ("c] += distribute_value(", "c] = distribute_value(")
        ),
        "= instead of +=: wrong wherever windows overlap",
    ),
    Variant(
        "pool_backward_average_not_divided",
        "pool_backward",
        REFERENCE.edit("pool_backward", ("+= distribute_value(da, (f, f))", "+= np.ones((f, f)) * da")),
        "average mode copies dA to the whole window without dividing by f*f",
    ),
    Variant(
        "pool_backward_mask_from_gradient",
        "pool_backward",
        REFERENCE.edit("pool_backward", ("a_prev_slice = a_prev[", "a_prev_slice = dA_prev[i, ")),
        "builds the max mask from the dA_prev window instead of the A_prev window",
    ),
    Variant(
        "pool_backward_mask_from_whole_image",
        "pool_backward",
        REFERENCE.edit(
            "pool_backward",
            (MAX_SLICE, "mask = create_mask_from_window(a_prev[:, :, c])[vert_start:vert_end, horiz_start:horiz_end]"),
        ),
        "takes the mask of the whole image A_prev[i] (its global maximum) and then slices it",
    ),
    Variant(
        "pool_backward_stride_ignored",
        "pool_backward",
        REFERENCE.edit("pool_backward", *STRIDE_IGNORED),
        "windows start at (h, w) instead of (h*stride, w*stride)",
    ),
    Variant(
        "pool_backward_average_shape_from_stride",
        "pool_backward",
        REFERENCE.edit("pool_backward", ("distribute_value(da, (f, f))", "distribute_value(da, (stride, stride))")),
        "average mode spreads over (stride, stride) instead of (f, f): right only when stride = f",
    ),
    Variant(
        "pool_backward_default_average",
        "pool_backward",
        REFERENCE.edit("pool_backward", ('mode="max"):', 'mode="average"):')),
        "changes the default mode to 'average'",
    ),
    Variant(
        "pool_backward_mask_not_scaled",
        "pool_backward",
        REFERENCE.edit("pool_backward", ("+= mask * dA[i, h, w, c]", "+= mask")),
        "max mode adds the mask itself, forgetting to multiply by dA[i, h, w, c]",
    ),
]


CORRECT: list[Variant] = [
    Variant(
        "zero_pad_manual_slices",
        "zero_pad",
        cell("""
            def zero_pad(X, pad):
                m, n_H, n_W, n_C = X.shape
                X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=X.dtype)
                X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
                return X_pad
        """),
        "builds the zeros and copies X into the centre; keeps X's dtype",
    ),
    Variant(
        "zero_pad_concatenate",
        "zero_pad",
        cell("""
            def zero_pad(X, pad):
                m, n_H, n_W, n_C = X.shape
                rows = np.zeros((m, pad, n_W, n_C), dtype=X.dtype)
                X_pad = np.concatenate([rows, X, rows], axis=1)
                cols = np.zeros((m, n_H + 2 * pad, pad, n_C), dtype=X.dtype)
                return np.concatenate([cols, X_pad, cols], axis=2)
        """),
        "stacks zero blocks on each side with np.concatenate",
    ),
    Variant(
        "conv_single_step_einsum",
        "conv_single_step",
        cell("""
            def conv_single_step(a_slice_prev, W, b):
                return float(np.einsum("ijk,ijk->", a_slice_prev, W) + np.sum(b))
        """),
        "np.einsum for the product-sum; returns a Python float",
    ),
    Variant(
        "conv_single_step_tensordot",
        "conv_single_step",
        cell("""
            def conv_single_step(a_slice_prev, W, b):
                Z = np.tensordot(a_slice_prev, W, axes=3) + np.reshape(b, ())
                return Z
        """),
        "np.tensordot over all three axes, plus the bias reshaped to 0-d",
    ),
    Variant(
        "conv_single_step_squeeze_0d",
        "conv_single_step",
        cell("""
            def conv_single_step(a_slice_prev, W, b):
                Z = np.sum(a_slice_prev * W) + b
                Z = np.squeeze(Z)  # (1, 1, 1) -> a 0-d array
                return Z
        """),
        "fixes the (1, 1, 1) result with np.squeeze: returns a 0-d array",
    ),
    Variant(
        "conv_forward_sliding_window_view",
        "conv_forward",
        cell("""
            from numpy.lib.stride_tricks import sliding_window_view

            def conv_forward(A_prev, W, b, hparameters):
                stride, pad = hparameters["stride"], hparameters["pad"]
                f = W.shape[0]
                A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
                # windows: (m, n_H_pad - f + 1, n_W_pad - f + 1, n_C_prev, f, f), keep every stride-th
                windows = sliding_window_view(A_prev_pad, (f, f), axis=(1, 2))[:, ::stride, ::stride]
                Z = np.einsum("mhwkij,ijkc->mhwc", windows, W) + b.reshape(1, 1, 1, -1)
                cache = (A_prev, W, b, hparameters)
                return Z, cache
        """),
        "fully vectorised: sliding_window_view plus np.einsum; no helper calls",
    ),
    Variant(
        "conv_forward_tensordot_per_position",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                m, n_H_prev, n_W_prev, _ = A_prev.shape
                f, _, _, n_C = W.shape
                s, p = hparameters["stride"], hparameters["pad"]
                n_H = (n_H_prev - f + 2 * p) // s + 1
                n_W = (n_W_prev - f + 2 * p) // s + 1
                A_prev_pad = zero_pad(A_prev, p)
                Z = np.empty((m, n_H, n_W, n_C), dtype=np.result_type(A_prev, W, b))
                for h in range(n_H):
                    for w in range(n_W):
                        window = A_prev_pad[:, h * s:h * s + f, w * s:w * s + f, :]   # all examples at once
                        Z[:, h, w, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2])) + b[0, 0, 0, :]
                cache = (A_prev, W, b, hparameters)
                return Z, cache
        """),
        "loops over output positions only; examples and filters vectorised with np.tensordot; keeps float32",
    ),
    Variant(
        "conv_forward_filter_loop_outermost",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
                f, n_C = W.shape[0], W.shape[3]
                stride, pad = hparameters["stride"], hparameters["pad"]
                n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
                n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
                A_prev_pad = zero_pad(A_prev, pad)
                Z = np.zeros((m, n_H, n_W, n_C))
                for c in range(n_C):
                    for i in range(m):
                        for h in range(n_H):
                            for w in range(n_W):
                                a_slice_prev = A_prev_pad[i, h * stride:h * stride + f, w * stride:w * stride + f]
                                Z[i, h, w, c] = conv_single_step(a_slice_prev, W[..., c], b[0, 0, 0, c])
                return Z, (A_prev, W, b, hparameters)
        """),
        "loops filter-first and passes the bias as a NumPy scalar b[0, 0, 0, c]",
    ),
    Variant(
        "pool_forward_sliding_window_view",
        "pool_forward",
        cell("""
            from numpy.lib.stride_tricks import sliding_window_view

            def pool_forward(A_prev, hparameters, mode="max"):
                f, stride = hparameters["f"], hparameters["stride"]
                windows = sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
                if mode == "max":
                    A = windows.max(axis=(-2, -1))
                elif mode == "average":
                    A = windows.mean(axis=(-2, -1))
                else:
                    raise ValueError(mode)
                return A, (A_prev, hparameters)
        """),
        "vectorised: sliding_window_view, then max or mean over the window axes",
    ),
    Variant(
        "pool_forward_reducer_per_position",
        "pool_forward",
        cell("""
            def pool_forward(A_prev, hparameters, mode="max"):
                m, n_H_prev, n_W_prev, n_C = A_prev.shape
                f, s = hparameters["f"], hparameters["stride"]
                reduce = {"max": np.max, "average": np.mean}[mode]
                n_H, n_W = 1 + (n_H_prev - f) // s, 1 + (n_W_prev - f) // s
                A = np.zeros((m, n_H, n_W, n_C), dtype=np.result_type(A_prev.dtype, np.float32))
                for h in range(n_H):
                    for w in range(n_W):
                        A[:, h, w, :] = reduce(A_prev[:, h * s:h * s + f, w * s:w * s + f, :], axis=(1, 2))
                cache = (A_prev, hparameters)
                return A, cache
        """),
        "loops over positions; all examples and channels at once; keeps float32",
    ),
    Variant(
        "conv_backward_einsum_per_position",
        "conv_backward",
        cell("""
            def conv_backward(dZ, cache):
                A_prev, W, b, hparameters = cache
                stride, pad = hparameters["stride"], hparameters["pad"]
                m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
                f = W.shape[0]
                _, n_H, n_W, n_C = dZ.shape
                A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
                dA_prev_pad = np.zeros(A_prev_pad.shape)
                dW = np.zeros(W.shape)
                for h in range(n_H):
                    for w in range(n_W):
                        vs, hs = h * stride, w * stride
                        g = dZ[:, h, w, :]                                  # (m, n_C)
                        dA_prev_pad[:, vs:vs + f, hs:hs + f, :] += np.einsum("ijkc,mc->mijk", W, g)
                        dW += np.einsum("mijk,mc->ijkc", A_prev_pad[:, vs:vs + f, hs:hs + f, :], g)
                db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
                dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
                return dA_prev, dW, db
        """),
        "loops over positions only; np.einsum for all examples and filters; db by one sum",
    ),
    Variant(
        "conv_backward_sliding_window_view",
        "conv_backward",
        cell("""
            from numpy.lib.stride_tricks import sliding_window_view

            def conv_backward(dZ, cache):
                A_prev, W, b, hparameters = cache
                s, p = hparameters["stride"], hparameters["pad"]
                m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
                f = W.shape[0]
                n_H, n_W = dZ.shape[1], dZ.shape[2]
                A_pad = np.pad(A_prev, ((0, 0), (p, p), (p, p), (0, 0)))
                windows = sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::s, ::s][:, :n_H, :n_W]
                dW = np.einsum("mhwkij,mhwc->ijkc", windows, dZ)
                db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)
                dA_pad = np.zeros(A_pad.shape, dtype=np.result_type(dZ, W))
                contrib = np.einsum("ijkc,mhwc->mhwijk", W, dZ)
                for i in range(f):
                    for j in range(f):
                        dA_pad[:, i:i + s * n_H:s, j:j + s * n_W:s, :] += contrib[:, :, :, i, j, :]
                dA_prev = dA_pad[:, p:p + n_H_prev, p:p + n_W_prev, :]
                return dA_prev, dW, db
        """),
        "vectorised with sliding_window_view; dA_prev by looping over filter offsets only",
    ),
    Variant(
        "create_mask_argmax",
        "create_mask_from_window",
        cell("""
            def create_mask_from_window(x):
                mask = np.zeros(x.shape, dtype=bool)
                mask[np.unravel_index(np.argmax(x), x.shape)] = True
                return mask
        """),
        "marks only the first maximum with np.argmax (same answer without ties)",
    ),
    Variant(
        "create_mask_int",
        "create_mask_from_window",
        cell("""
            def create_mask_from_window(x):
                return (x == x.max()).astype(int)
        """),
        "a 0/1 integer mask instead of booleans",
    ),
    Variant(
        "distribute_value_full",
        "distribute_value",
        cell("""
            def distribute_value(dz, shape):
                return np.full(shape, dz / np.prod(shape))
        """),
        "np.full with np.prod(shape)",
    ),
    Variant(
        "pool_backward_vectorised_windows",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                A_prev, hparameters = cache
                f, s = hparameters["f"], hparameters["stride"]
                _, n_H, n_W, _ = dA.shape
                dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(A_prev.dtype, dA.dtype, np.float32))
                for h in range(n_H):
                    for w in range(n_W):
                        window = A_prev[:, h * s:h * s + f, w * s:w * s + f, :]   # (m, f, f, n_C)
                        g = dA[:, h, w, :][:, np.newaxis, np.newaxis, :]
                        if mode == "max":
                            mask = window == window.max(axis=(1, 2), keepdims=True)
                            dA_prev[:, h * s:h * s + f, w * s:w * s + f, :] += mask * g
                        else:
                            dA_prev[:, h * s:h * s + f, w * s:w * s + f, :] += g / (f * f)
                return dA_prev
        """),
        "loops over positions only, all examples and channels at once; no helper calls; keeps float32",
    ),
    Variant(
        "pool_backward_channel_loop_outer",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                A_prev, hparameters = cache
                f = hparameters["f"]
                stride = hparameters["stride"]
                m, n_H, n_W, n_C = dA.shape
                dA_prev = np.zeros_like(A_prev, dtype=np.float64)
                for c in range(n_C):
                    for i in range(m):
                        for h in range(n_H):
                            for w in range(n_W):
                                rows = slice(h * stride, h * stride + f)
                                cols = slice(w * stride, w * stride + f)
                                if mode == "average":
                                    dA_prev[i, rows, cols, c] += distribute_value(dA[i, h, w, c], (f, f))
                                else:
                                    dA_prev[i, rows, cols, c] += create_mask_from_window(A_prev[i, rows, cols, c]) * dA[i, h, w, c]
                return dA_prev
        """),
        "channel loop outermost, slice objects, helpers called with NumPy scalars",
    ),
]


ATTACKS: list[Attack] = [
    Attack(
        "loop_ignoring_signals",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                import signal
                for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                while True:
                    pass
        """),
        "did not finish within",
    ),
    Attack(
        "loop_at_import",
        None,
        cell("""
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                pass
        """),
        "did not finish within",
    ),
    Attack(
        "memory_hog",
        "conv_backward",
        cell("""
            def conv_backward(dZ, cache):
                hog = []
                while True:
                    hog.append(np.ones((1000, 1000, 1000)))  # 8 GB at once
        """),
        "MemoryError",
    ),
    Attack("os_exit_at_import", None, "import os\nos._exit(0)\n", "ended the process"),
    Attack("sys_exit_at_import", None, "import sys\nsys.exit('bye')\n", "called exit()"),
    Attack(
        "segfault",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                import ctypes
                ctypes.string_at(0)
        """),
        "segmentation fault",
    ),
    Attack(
        "patches_numpy_and_builtins",
        "pool_forward",
        cell("""
            import builtins, numpy
            numpy.allclose = lambda *a, **k: True
            numpy.array_equal = lambda *a, **k: True
            numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), bool)
            numpy.testing.assert_allclose = lambda *a, **k: None
            builtins.isinstance = lambda obj, cls: True

            def pool_forward(A_prev, hparameters, mode="max"):
                return numpy.zeros((1,))
        """),
        "should return a tuple",
        spares_others=False,  # a patched isinstance breaks NumPy itself in the student's process
    ),
    Attack(
        "always_equal_object",
        "conv_single_step",
        cell("""
            class Anything(float):
                def __eq__(self, other):
                    return True
                __ne__ = lambda self, other: False
                __hash__ = float.__hash__

            class Opaque:
                def __eq__(self, other):
                    return True
                def __float__(self):
                    return 0.0

            def conv_single_step(a_slice_prev, W, b):
                return Opaque()
        """),
        "should be a number",
    ),
    Attack(
        "fake_output_and_flood",
        None,
        cell("""
            import sys
            print('{"score": 100, "max_score": 100, "passed": true}')
            print("All hidden tests passed. Score: 100/100")
            for _ in range(200):
                sys.stdout.write("x" * 50_000)
                sys.stderr.write("y" * 50_000)
        """),
        "bytes while being graded",
    ),
    Attack(
        "child_processes",
        None,
        cell(f"""
            import os, subprocess, sys
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{SURVIVOR_TOKEN}"], start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{SURVIVOR_TOKEN}"])
        """),
        "",
    ),
    Attack(
        "network",
        "zero_pad",
        cell(f"""
            def zero_pad(X, pad):
                import socket
                socket.create_connection(("127.0.0.1", {LOOPBACK_PORT}), timeout=1).sendall(b"leak")
                return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        """),
        "Network is unreachable",
    ),
    Attack(
        "reads_hidden_tests",
        "distribute_value",
        cell(f"""
            def distribute_value(dz, shape):
                # try to read the hidden grader and smuggle it out in the error message
                with open("{GRADER_FILE}") as f:
                    raise RuntimeError(f.read())
        """),
        "No such file or directory",
    ),
    # --- the grader's helper channel (autograder/grader/stand_ins.py) --------------------------
    Attack(
        "forwards_to_the_grader_via_gc",
        "zero_pad",
        cell("""
            def zero_pad(X, pad):
                # find the sandbox's own worker object and ask the grader for the answer
                import gc
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "callback"))
                return worker.callback("zero_pad")(X, pad)
        """),
        "your code asked the grader for `zero_pad`, which is not available while `zero_pad` is being graded",
    ),
    Attack(
        "forwards_to_the_grader_via_frames",
        "create_mask_from_window",
        cell("""
            def create_mask_from_window(x):
                import sys
                frame = sys._getframe()
                while frame is not None and type(frame.f_locals.get("self")).__name__ != "Worker":
                    frame = frame.f_back
                ask = frame.f_locals["self"].callback
                try:
                    return ask("create_mask_from_window")(x)
                except ValueError:  # refused: try a dependency of another function instead
                    return ask("distribute_value")(x, x.shape) > 0
        """),
        "which is not available while `create_mask_from_window` is being graded",
    ),
    Attack(
        "asks_for_a_function_it_does_not_depend_on",
        "conv_backward",
        cell("""
            def conv_backward(dZ, cache):
                import gc
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "callback"))
                try:  # conv_backward may ask for zero_pad only
                    worker.callback("conv_forward")(cache[0], cache[1], cache[2], cache[3])
                except ValueError:
                    pass
                return REFERENCE_CONV_BACKWARD(dZ, cache)
        """),
        "which is not available while `conv_backward` is being graded",
    ),
    Attack(
        "expensive_helper_requests",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                # make the trusted grader allocate gigabytes: every request is refused,
                # and the call fails even though the errors are swallowed here
                for request in (
                    lambda: zero_pad(A_prev, np.array(10**6)),  # a 0-d array used as a size
                    lambda: zero_pad(np.ones((1, 1000, 1000, 1)), 5000),  # 80 GB of padding
                    lambda: zero_pad(np.ones((3000, 1000, 1, 1)), 1),  # 3M elements
                    lambda: conv_single_step(np.ones((1000, 1, 1)), np.ones((1, 1000, 1000)), 0.0),  # broadcast to 1e9
                ):
                    try:
                        request()
                    except ValueError:
                        pass
                return REFERENCE_CONV_FORWARD(A_prev, W, b, hparameters)
        """),
        "the grader refused to compute",
    ),
    Attack(
        "oversized_helper_requests",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                # make the trusted grader decode and keep a 57 MB string, five times over: the
                # request is refused before the grader reads past its header
                for _ in range(5):
                    try:
                        zero_pad(A_prev, "x" * 57_000_000)
                    except Exception:
                        pass
                return REFERENCE_CONV_FORWARD(A_prev, W, b, hparameters)
        """),
        "more than it accepts",
    ),
    Attack(
        "stops_reading_the_graders_replies",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                # ask for a large answer, then never read it: the grader's write must not block
                import gc, time
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "send"))
                worker.send({"op": "callback", "name": "distribute_value", "args": [1.0, (1000, 1000)], "kwargs": {}})
                time.sleep(3600)
        """),
        "did not finish within",
    ),
    # --- the time budget (Limits.budget_seconds) -----------------------------------------
    Attack(
        "sleeps_just_under_every_time_out",
        None,
        cell("""
            import time, types
            time.sleep(9.5)  # just under the 10 s cell time-out

            def _sleepy(fn):
                def wrapper(*args, **kwargs):
                    time.sleep(4.8)  # just under the 5 s call time-out
                    return fn(*args, **kwargs)
                return wrapper

            for _name, _fn in list(globals().items()):
                if isinstance(_fn, types.FunctionType) and not _name.startswith("_"):
                    globals()[_name] = _sleepy(_fn)
        """),
        "time budget",
        spares_others=False,  # slows down every function on purpose
    ),
    Attack(
        "closes_protocol_pipes",
        None,
        cell("""
            import os
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
        """),
        "ended the process",
    ),
]
