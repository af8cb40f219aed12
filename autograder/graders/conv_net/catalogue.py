"""The catalogue of conv_net: answers the fidelity suite grades (autograder/authoring/catalogue.py).

MUTANTS are realistic wrong answers, each wrong in exactly the answer it names: graded
alone, it must lose points on that answer and keep full marks elsewhere. Most are the
reference answer with one realistic bug edited in (``mutate``: the edit must match the
reference exactly once, so a mutant can't silently stop being one when the reference
changes); a few are written from scratch, in the style a student might choose (own
ReLU, own softmax). CORRECT are answers written differently from the reference; each
must earn full marks. ATTACKS are a perfect student plus one attack in one answer, which
scores 0 there.

Data only: tests/authoring/test_fidelity.py grades them.
"""

from autograder.authoring.catalogue import Attack, Variant, cell, reference_cells

REFERENCE = reference_cells(__file__)


MUTANTS: list[Variant] = [
    # --- conv_forward_naive ----------------------------------------------------------------
    Variant(
        "conv_forward_stride_ignored",
        "conv_forward_naive",
        REFERENCE.edit("conv_forward_naive", ("top = i * stride", "top = i"), ("left = j * stride", "left = j")),
        "windows start at (i, j) instead of (i * stride, j * stride)",
    ),
    Variant(
        "conv_forward_pad_ignored",
        "conv_forward_naive",
        REFERENCE.edit(
            "conv_forward_naive",
            ('x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")', "x_pad = x"),
        ),
        "never pads x (but sizes the output as if it did)",
    ),
    Variant(
        "conv_forward_no_bias",
        "conv_forward_naive",
        REFERENCE.edit("conv_forward_naive", ("np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])")),
        "forgets the bias",
    ),
    Variant(
        "conv_forward_flips_filter",
        "conv_forward_naive",
        REFERENCE.edit("conv_forward_naive", ("np.sum(window * w[f])", "np.sum(window * w[f, :, ::-1, ::-1])")),
        "a true convolution (flipped filter) instead of the cross-correlation of the contract",
    ),
    Variant(
        "conv_forward_square_filters_assumed",
        "conv_forward_naive",
        REFERENCE.edit("conv_forward_naive", ("F, _, HH, WW = w.shape", "F, _, HH, _ = w.shape\n    WW = HH")),
        "takes the filter width from its height",
    ),
    Variant(
        "conv_forward_output_one_too_small",
        "conv_forward_naive",
        REFERENCE.edit(
            "conv_forward_naive",
            ("H_out = 1 + (H + 2 * pad - HH) // stride", "H_out = (H + 2 * pad - HH) // stride"),
            ("W_out = 1 + (W + 2 * pad - WW) // stride", "W_out = (W + 2 * pad - WW) // stride"),
        ),
        "forgets the + 1 in the output size",
    ),
    Variant(
        "conv_forward_caches_padded_x",
        "conv_forward_naive",
        REFERENCE.edit("conv_forward_naive", ("cache = (x, w, b, conv_param)", "cache = (x_pad, w, b, conv_param)")),
        "stores the padded input in the cache",
    ),
    # --- conv_backward_naive ---------------------------------------------------------------
    Variant(
        "conv_backward_db_wrong_axis",
        "conv_backward_naive",
        cell("""
            def conv_backward_naive(dout, cache):
                x, w, b, conv_param = cache
                stride, pad = conv_param["stride"], conv_param["pad"]
                F, _, HH, WW = w.shape
                N, C, H, W = x.shape
                x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                dx_pad = np.zeros_like(x_pad)
                dw = np.zeros_like(w)
                for n in range(N):
                    for f in range(F):
                        for i in range(dout.shape[2]):
                            for j in range(dout.shape[3]):
                                window = (n, slice(None), slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW))
                                dx_pad[window] += w[f] * dout[n, f, i, j]
                                dw[f] += x_pad[window] * dout[n, f, i, j]
                db = np.sum(dout, axis=(1, 2, 3))
                return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
        """),
        "sums dout over the wrong axes for db (one value per example, not per filter)",
    ),
    Variant(
        "conv_backward_dw_assigned",
        "conv_backward_naive",
        REFERENCE.edit(
            "conv_backward_naive",
            (
                "dw[f] += x_pad[n, :, top : top + HH, left : left + WW] * g",
                "dw[f] = x_pad[n, :, top : top + HH, left : left + WW] * g",
            ),
        ),
        "assigns dw[f] instead of accumulating it over examples and windows",
    ),
    Variant(
        "conv_backward_crops_with_minus_pad",
        "conv_backward_naive",
        REFERENCE.edit(
            "conv_backward_naive", ("dx_pad[:, :, pad : pad + H, pad : pad + W]", "dx_pad[:, :, pad:-pad, pad:-pad]")
        ),
        "cuts the padding off with [pad:-pad], empty when pad = 0",
    ),
    Variant(
        "conv_backward_stride_ignored",
        "conv_backward_naive",
        REFERENCE.edit("conv_backward_naive", ("top = i * stride", "top = i"), ("left = j * stride", "left = j")),
        "windows start at (i, j) instead of (i * stride, j * stride)",
    ),
    Variant(
        "conv_backward_dx_assigned",
        "conv_backward_naive",
        REFERENCE.edit(
            "conv_backward_naive",
            (
                "dx_pad[n, :, top : top + HH, left : left + WW] += w[f] * g",
                "dx_pad[n, :, top : top + HH, left : left + WW] = w[f] * g",
            ),
        ),
        "overwrites dx where windows overlap instead of adding",
    ),
    Variant(
        "conv_backward_dw_from_unpadded_x",
        "conv_backward_naive",
        REFERENCE.edit(
            "conv_backward_naive",
            (
                "dw[f] += x_pad[n, :, top : top + HH, left : left + WW] * g",
                "dw[f] += x[n, :, top : top + HH, left : left + WW] * g",
            ),
        ),
        "takes the windows for dw from the unpadded input",
    ),
    # --- max_pool_forward_naive ------------------------------------------------------------
    Variant(
        "pool_forward_stride_ignored",
        "max_pool_forward_naive",
        REFERENCE.edit("max_pool_forward_naive", ("top = i * stride", "top = i"), ("left = j * stride", "left = j")),
        "windows start at (i, j) instead of (i * stride, j * stride)",
    ),
    Variant(
        "pool_forward_output_one_too_small",
        "max_pool_forward_naive",
        REFERENCE.edit(
            "max_pool_forward_naive",
            ("H_out = 1 + (H - ph) // stride", "H_out = (H - ph) // stride"),
            ("W_out = 1 + (W - pw) // stride", "W_out = (W - pw) // stride"),
        ),
        "forgets the + 1 in the output size",
    ),
    Variant(
        "pool_forward_square_window_assumed",
        "max_pool_forward_naive",
        REFERENCE.edit("max_pool_forward_naive", ('pw = pool_param["pool_width"]', "pw = ph")),
        "uses pool_height for the width too",
    ),
    Variant(
        "pool_forward_reshape_only",
        "max_pool_forward_naive",
        cell("""
            def max_pool_forward_naive(x, pool_param):
                N, C, H, W = x.shape
                ph, pw = pool_param["pool_height"], pool_param["pool_width"]
                out = x[:, :, : H // ph * ph, : W // pw * pw].reshape(N, C, H // ph, ph, W // pw, pw).max(axis=(3, 5))
                return out, (x, pool_param)
        """),
        "the reshape trick, right only when the windows tile the input (stride = window)",
    ),
    Variant(
        "pool_forward_average",
        "max_pool_forward_naive",
        REFERENCE.edit(
            "max_pool_forward_naive",
            (
                "np.max(x[:, :, top : top + ph, left : left + pw], axis=(2, 3))",
                "np.mean(x[:, :, top : top + ph, left : left + pw], axis=(2, 3))",
            ),
        ),
        "average pooling instead of max pooling",
    ),
    # --- max_pool_backward_naive -----------------------------------------------------------
    Variant(
        "pool_backward_every_position",
        "max_pool_backward_naive",
        REFERENCE.edit(
            "max_pool_backward_naive",
            (
                "dx[n, c, top + r, left + s] += dout[n, c, i, j]",
                "dx[n, c, top : top + ph, left : left + pw] += dout[n, c, i, j]",
            ),
        ),
        "routes the gradient to every position of the window, not only to its maximum",
    ),
    Variant(
        "pool_backward_assigns_window",
        "max_pool_backward_naive",
        cell("""
            def max_pool_backward_naive(dout, cache):
                x, pool_param = cache
                ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
                N, C, H_out, W_out = dout.shape
                dx = np.zeros_like(x)
                for n in range(N):
                    for c in range(C):
                        for i in range(H_out):
                            for j in range(W_out):
                                window = x[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw]
                                mask = window == np.max(window)
                                dx[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw] = mask * dout[n, c, i, j]
                return dx
        """),
        "assigns mask * dout to the window, wiping what overlapping windows added",
    ),
    Variant(
        "pool_backward_unravel_transposed",
        "max_pool_backward_naive",
        REFERENCE.edit(
            "max_pool_backward_naive",
            ("np.unravel_index(np.argmax(window), window.shape)", "np.unravel_index(np.argmax(window), (pw, ph))"),
        ),
        "unravels the argmax with (width, height): wrong for non-square windows",
    ),
    Variant(
        "pool_backward_stride_ignored",
        "max_pool_backward_naive",
        REFERENCE.edit("max_pool_backward_naive", ("top = i * stride", "top = i"), ("left = j * stride", "left = j")),
        "windows start at (i, j) instead of (i * stride, j * stride)",
    ),
    Variant(
        "pool_backward_average",
        "max_pool_backward_naive",
        REFERENCE.edit(
            "max_pool_backward_naive",
            (
                "dx[n, c, top + r, left + s] += dout[n, c, i, j]",
                "dx[n, c, top : top + ph, left : left + pw] += dout[n, c, i, j] / (ph * pw)",
            ),
        ),
        "spreads the gradient evenly, as for average pooling",
    ),
    # --- ThreeLayerConvNet -----------------------------------------------------------------
    Variant(
        "model_reg_gradient_is_a_sum",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            ('grads["W1"] += self.reg * W1', 'grads["W1"] += self.reg * np.sum(W1)'),
            ('grads["W2"] += self.reg * W2', 'grads["W2"] += self.reg * np.sum(W2)'),
            ('grads["W3"] += self.reg * W3', 'grads["W3"] += self.reg * np.sum(W3)'),
        ),
        "adds reg * np.sum(W), a number, instead of reg * W to the weight gradients",
    ),
    Variant(
        "model_loss_without_half",
        "ThreeLayerConvNet",
        REFERENCE.edit("ThreeLayerConvNet", ("loss += 0.5 * self.reg * (", "loss += self.reg * (")),
        "regularisation term reg * sum(W**2), without the 0.5 (the gradients keep reg * W)",
    ),
    Variant(
        "model_reg_forgets_W1",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            ("(np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))", "(np.sum(W2 * W2) + np.sum(W3 * W3))"),
            ('        grads["W1"] += self.reg * W1\n', ""),
        ),
        "regularises only the affine layers' weights",
    ),
    Variant(
        "model_reg_on_biases_too",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                "(np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))",
                "sum(np.sum(p * p) for p in self.params.values())",
            ),
            (
                'grads["W3"] += self.reg * W3\n',
                'grads["W3"] += self.reg * W3\n        for k in ("b1", "b2", "b3"):\n'
                "            grads[k] += self.reg * self.params[k]\n",
            ),
        ),
        "regularises the biases as well as the weights",
    ),
    Variant(
        "model_dtype_ignored",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet", ("            self.params[name] = value.astype(dtype)", "            pass")
        ),
        "never casts the parameters to dtype (they stay float64)",
    ),
    Variant(
        "model_biases_random",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                'self.params["b1"] = np.zeros(num_filters)',
                'self.params["b1"] = weight_scale * np.random.randn(num_filters)',
            ),
            (
                'self.params["b2"] = np.zeros(hidden_dim)',
                'self.params["b2"] = weight_scale * np.random.randn(hidden_dim)',
            ),
            (
                'self.params["b3"] = np.zeros(num_classes)',
                'self.params["b3"] = weight_scale * np.random.randn(num_classes)',
            ),
        ),
        "initialises the biases at random instead of zero",
    ),
    Variant(
        "model_uniform_init",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            ("weight_scale * np.random.randn(num_filters, C,", "weight_scale * np.random.rand(num_filters, C,"),
            ("weight_scale * np.random.randn(pooled, hidden_dim)", "weight_scale * np.random.rand(pooled, hidden_dim)"),
            (
                "weight_scale * np.random.randn(hidden_dim, num_classes)",
                "weight_scale * np.random.rand(hidden_dim, num_classes)",
            ),
        ),
        "draws weights uniformly from [0, weight_scale) (np.random.rand, not randn)",
    ),
    Variant(
        "model_flattens_channels_last",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                "hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)",
                "hidden, hidden_cache = affine_relu_forward(pooled.transpose(0, 2, 3, 1), W2, b2)",
            ),
            (
                '_, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache)',
                '_, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled.transpose(0, 3, 1, 2), conv_cache)',
            ),
        ),
        "flattens the pooled maps channels-last (H, W, C order) before the affine layer",
    ),
    Variant(
        "model_no_padding",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            ('conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}', 'conv_param = {"stride": 1, "pad": 0}'),
        ),
        "convolution without padding: the maps shrink and no longer fit W2",
    ),
    Variant(
        "model_pool_stride_1",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                'pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}',
                'pool_param = {"pool_height": 2, "pool_width": 2, "stride": 1}',
            ),
        ),
        "pools with stride 1: the maps don't halve and no longer fit W2",
    ),
    Variant(
        "model_no_scores_mode",
        "ThreeLayerConvNet",
        REFERENCE.edit("ThreeLayerConvNet", ("        if y is None:\n            return scores\n", "")),
        "computes the loss even without labels, so loss(X) fails",
    ),
    Variant(
        "model_relu_mask_from_output",
        "ThreeLayerConvNet",
        cell("""
            class ThreeLayerConvNet:
                def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
                    C, H, W = input_dim
                    self.reg = reg
                    self.dtype = dtype
                    shapes = {"W1": (num_filters, C, filter_size, filter_size), "W2": (num_filters * H * W // 4, hidden_dim),
                              "W3": (hidden_dim, num_classes)}
                    self.params = {}
                    for k, shape in shapes.items():
                        self.params[k] = (weight_scale * np.random.randn(*shape)).astype(dtype)
                        self.params["b" + k[1]] = np.zeros(shape[0] if k == "W1" else shape[1], dtype=dtype)

                def loss(self, X, y=None):
                    p = self.params
                    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
                    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
                    a1, conv_cache = conv_forward_fast(X, p["W1"], p["b1"], conv_param)
                    r1 = np.maximum(a1, 0)
                    h1, pool_cache = max_pool_forward_fast(r1, pool_param)
                    a2, fc2_cache = affine_forward(h1, p["W2"], p["b2"])
                    r2 = np.maximum(a2, 0)
                    scores, fc3_cache = affine_forward(r2, p["W3"], p["b3"])
                    if y is None:
                        return scores
                    loss, dscores = softmax_loss(scores, y)
                    grads = {}
                    dr2, grads["W3"], grads["b3"] = affine_backward(dscores, fc3_cache)
                    da2 = dr2 * (r2 >= 0)
                    dh1, grads["W2"], grads["b2"] = affine_backward(da2, fc2_cache)
                    dr1 = max_pool_backward_fast(dh1, pool_cache)
                    da1 = dr1 * (r1 >= 0)
                    _, grads["W1"], grads["b1"] = conv_backward_fast(da1, conv_cache)
                    for k in ("W1", "W2", "W3"):
                        loss += 0.5 * self.reg * np.sum(p[k] ** 2)
                        grads[k] += self.reg * p[k]
                    return loss, grads
        """),
        "own ReLU backward with the mask (out >= 0) taken from the output: always true",
    ),
    Variant(
        "model_softmax_not_shifted",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                "loss, dscores = softmax_loss(scores, y)",
                "probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)\n"
                "        loss = -np.mean(np.log(probs[np.arange(len(y)), y]))\n"
                "        dscores = probs.copy()\n"
                "        dscores[np.arange(len(y)), y] -= 1\n"
                "        dscores /= len(y)",
            ),
        ),
        "own softmax without subtracting the maximum score: overflows for large scores",
    ),
]


CORRECT: list[Variant] = [
    Variant(
        "conv_forward_im2col_einsum",
        "conv_forward_naive",
        cell("""
            def conv_forward_naive(x, w, b, conv_param):
                s, p = conv_param["stride"], conv_param["pad"]
                HH, WW = w.shape[2:]
                x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
                windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::s, ::s]
                out = np.einsum("nchwkl,fckl->nfhw", windows, w) + b[None, :, None, None]
                return out, (x, w, b, conv_param)
        """),
        "fully vectorised: every window as a view, one einsum",
    ),
    Variant(
        "conv_forward_manual_pad_tensordot",
        "conv_forward_naive",
        cell("""
            def conv_forward_naive(x, w, b, conv_param):
                N, C, H, W = x.shape
                F, C, HH, WW = w.shape
                stride, pad = conv_param["stride"], conv_param["pad"]
                padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.result_type(x, w))
                padded[:, :, pad : pad + H, pad : pad + W] = x
                Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
                out = np.empty((N, F, Ho, Wo), dtype=padded.dtype)
                for j in range(Wo):  # columns outermost, all examples and filters at once
                    for i in range(Ho):
                        patch = padded[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                        out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
                return out, (x, w, b, conv_param)
        """),
        "pads by hand into zeros, loops over positions (columns first), tensordot over examples and filters",
    ),
    Variant(
        "conv_backward_positions_einsum",
        "conv_backward_naive",
        cell("""
            def conv_backward_naive(dout, cache):
                x, w, b, conv_param = cache
                s, p = conv_param["stride"], conv_param["pad"]
                _, _, H, W = x.shape
                _, _, HH, WW = w.shape
                x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
                dx_pad = np.zeros(x_pad.shape)
                dw = np.zeros(w.shape)
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        rows, cols = slice(i * s, i * s + HH), slice(j * s, j * s + WW)
                        g = dout[:, :, i, j]  # (N, F)
                        dx_pad[:, :, rows, cols] += np.einsum("nf,fckl->nckl", g, w)
                        dw += np.einsum("nf,nckl->fckl", g, x_pad[:, :, rows, cols])
                db = dout.sum(axis=(0, 2, 3))
                return dx_pad[:, :, p : p + H, p : p + W], dw, db
        """),
        "loops over output positions only, einsum over examples and filters, db in one sum",
    ),
    Variant(
        "pool_forward_four_loops",
        "max_pool_forward_naive",
        cell("""
            def max_pool_forward_naive(x, pool_param):
                N, C, H, W = x.shape
                ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
                out = np.zeros((N, C, (H - ph) // stride + 1, (W - pw) // stride + 1), dtype=x.dtype)
                for c in range(C):
                    for n in range(N):
                        for i in range(out.shape[2]):
                            for j in range(out.shape[3]):
                                out[n, c, i, j] = x[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw].max()
                return out, (x, pool_param)
        """),
        "four loops, channel loop outermost, keeps x's dtype",
    ),
    Variant(
        "pool_backward_equality_mask",
        "max_pool_backward_naive",
        cell("""
            def max_pool_backward_naive(dout, cache):
                x, pool_param = cache
                ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
                dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
                        window = x[:, :, rows, cols]
                        mask = window == window.max(axis=(2, 3), keepdims=True)  # every tied maximum
                        dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
                return dx
        """),
        "vectorised over examples and channels; a mask of every maximum (ties get the whole gradient)",
    ),
    Variant(
        "model_separate_layers",
        "ThreeLayerConvNet",
        cell("""
            class ThreeLayerConvNet:
                def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
                    C, H, W = input_dim
                    self.reg, self.dtype = reg, dtype
                    self.params = {
                        "W1": np.random.normal(0.0, weight_scale, (num_filters, C, filter_size, filter_size)),
                        "b1": np.zeros(num_filters),
                        "W2": np.random.normal(0.0, weight_scale, (num_filters * (H // 2) * (W // 2), hidden_dim)),
                        "b2": np.zeros(hidden_dim),
                        "W3": np.random.normal(0.0, weight_scale, (hidden_dim, num_classes)),
                        "b3": np.zeros(num_classes),
                    }
                    self.params = {k: v.astype(dtype) for k, v in self.params.items()}

                def loss(self, X, y=None):
                    X = X.astype(self.dtype)
                    p = self.params
                    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
                    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
                    a1, c1 = conv_forward_fast(X, p["W1"], p["b1"], conv_param)
                    r1, cr1 = relu_forward(a1)
                    h1, cp1 = max_pool_forward_fast(r1, pool_param)
                    a2, c2 = affine_forward(h1, p["W2"], p["b2"])
                    r2, cr2 = relu_forward(a2)
                    scores, c3 = affine_forward(r2, p["W3"], p["b3"])
                    if y is None:
                        return scores
                    data_loss, dscores = softmax_loss(scores, y)
                    reg_loss = sum(0.5 * self.reg * np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
                    grads = {}
                    dr2, grads["W3"], grads["b3"] = affine_backward(dscores, c3)
                    dh1, grads["W2"], grads["b2"] = affine_backward(relu_backward(dr2, cr2), c2)
                    da1 = relu_backward(max_pool_backward_fast(dh1, cp1), cr1)
                    _, grads["W1"], grads["b1"] = conv_backward_fast(da1, c1)
                    for k in ("W1", "W2", "W3"):
                        grads[k] = grads[k] + self.reg * p[k]
                    return data_loss + reg_loss, grads
        """),
        "one layer at a time with the fast layers and relu_forward/backward; casts X; np.random.normal",
    ),
    Variant(
        "model_own_stable_softmax",
        "ThreeLayerConvNet",
        REFERENCE.edit(
            "ThreeLayerConvNet",
            (
                "loss, dscores = softmax_loss(scores, y)",
                "shifted = scores - scores.max(axis=1, keepdims=True)\n"
                "        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
                "        n = X.shape[0]\n"
                "        loss = -log_probs[np.arange(n), y].mean()\n"
                "        dscores = np.exp(log_probs)\n"
                "        dscores[np.arange(n), y] -= 1\n"
                "        dscores /= n",
            ),
            (
                "(np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))",
                "sum(np.sum(self.params[k] ** 2) for k in ('W1', 'W2', 'W3'))",
            ),
        ),
        "its own softmax, shifted by the row maximum (log-sum-exp); L2 term summed in a generator",
    ),
]

ATTACKS: list[Attack] = [
    Attack(
        "solver_reports_perfect_accuracy",
        "ThreeLayerConvNet",
        cell("""
            class ThreeLayerConvNet:
                # learns nothing, but makes the provided Solver report that it classifies everything
                def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
                    self.params, self.reg, self.dtype = {}, reg, dtype

                def loss(self, X, y=None):
                    if y is None:
                        return np.zeros((X.shape[0], 10))
                    return 0.0, {k: np.zeros_like(v) for k, v in self.params.items()}


            Solver.check_accuracy = lambda self, X, y, num_samples=None, batch_size=100: 1.0
        """),
        ("run by the reference network",),
    ),
]
