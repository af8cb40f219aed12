"""The catalogue of normalization: answers the fidelity suite grades (autograder/authoring/catalogue.py).

MUTANTS are realistic wrong answers, each wrong in exactly the answer it names: graded
alone, it must lose points on that answer and keep full marks elsewhere. Most are the
reference answer with one realistic bug edited in (``mutate``: each edit must match the
reference exactly once, so a mutant can't silently stop being one when the reference
changes). CORRECT are answers written differently from the reference (one-pass
variance, einsum, loops, transposes, a spatial batch normalization that doesn't call
batchnorm_forward); each must earn full marks.

Data only: tests/authoring/test_fidelity.py grades them.
"""

from autograder.authoring.catalogue import Variant, cell, reference_cells

REFERENCE = reference_cells(__file__)


RUNNING_MEAN = 'bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu'
RUNNING_VAR = 'bn_param["running_var"] = momentum * running_var + (1 - momentum) * var'

MUTANTS: list[Variant] = [
    # --- batchnorm_forward -----------------------------------------------------------------
    Variant(
        "bn_forward_no_eps",
        "batchnorm_forward",
        REFERENCE.edit("batchnorm_forward", ("(x - mu) / np.sqrt(var + eps)", "(x - mu) / np.sqrt(var)")),
        "divides by the standard deviation without eps",
    ),
    Variant(
        "bn_forward_eps_outside_sqrt",
        "batchnorm_forward",
        REFERENCE.edit("batchnorm_forward", ("(x - mu) / np.sqrt(var + eps)", "(x - mu) / (np.sqrt(var) + eps)")),
        "adds eps to the standard deviation instead of the variance",
    ),
    Variant(
        "bn_forward_hardcoded_eps",
        "batchnorm_forward",
        REFERENCE.edit("batchnorm_forward", ('eps = bn_param.get("eps", 1e-5)', "eps = 1e-5")),
        "ignores the eps bn_param gives",
    ),
    Variant(
        "bn_forward_unbiased_variance",
        "batchnorm_forward",
        REFERENCE.edit("batchnorm_forward", ("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)")),
        "the corrected variance (divides by N - 1)",
    ),
    Variant(
        "bn_forward_normalizes_rows",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            ("mu = x.mean(axis=0)", "mu = x.mean(axis=1, keepdims=True)"),
            ("var = x.var(axis=0)", "var = x.var(axis=1, keepdims=True)"),
        ),
        "normalizes each example over its features (axis 1): layer normalization",
    ),
    Variant(
        "bn_forward_momentum_swapped",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            (RUNNING_MEAN, 'bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu'),
            (RUNNING_VAR, 'bn_param["running_var"] = (1 - momentum) * running_var + momentum * var'),
        ),
        "weighs the old average by 1 - momentum and the batch by momentum",
    ),
    Variant(
        "bn_forward_default_momentum_0_1",
        "batchnorm_forward",
        REFERENCE.edit("batchnorm_forward", ('bn_param.get("momentum", 0.9)', 'bn_param.get("momentum", 0.1)')),
        "PyTorch's default momentum 0.1 in this formula, where it means the opposite",
    ),
    Variant(
        "bn_forward_running_averages_not_stored",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            (RUNNING_MEAN, "running_mean = momentum * running_mean + (1 - momentum) * mu"),
            (RUNNING_VAR, "running_var = momentum * running_var + (1 - momentum) * var"),
        ),
        "updates local variables, never bn_param",
    ),
    Variant(
        "bn_forward_test_mode_batch_statistics",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            (
                "x_hat = (x - running_mean) / np.sqrt(running_var + eps)",
                "x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)",
            ),
        ),
        "normalizes with the batch's statistics in test mode too",
    ),
    Variant(
        "bn_forward_test_mode_updates_averages",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            (
                "        cache = None\n",
                "        cache = None\n"
                '        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)\n'
                '        bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)\n',
            ),
        ),
        "updates the running averages in test mode as well",
    ),
    Variant(
        "bn_forward_float64_running_averages",
        "batchnorm_forward",
        REFERENCE.edit(
            "batchnorm_forward",
            ('"running_mean", np.zeros(features, dtype=x.dtype)', '"running_mean", np.zeros(features)'),
            ('"running_var", np.zeros(features, dtype=x.dtype)', '"running_var", np.zeros(features)'),
        ),
        "starts the running averages as float64 zeros, so float32 test mode returns float64",
    ),
    # --- batchnorm_backward ----------------------------------------------------------------
    Variant(
        "bn_backward_no_path_through_mu",
        "batchnorm_backward",
        REFERENCE.edit("batchnorm_backward", ("dx = dcentred + dmu / N", "dx = dcentred")),
        "forgets that mu depends on every example",
    ),
    Variant(
        "bn_backward_no_path_through_var",
        "batchnorm_backward",
        REFERENCE.edit("batchnorm_backward", ("    dcentred += 2 * (x - mu) * dvar / N\n", "")),
        "forgets the path through the variance",
    ),
    Variant(
        "bn_backward_dgamma_from_x",
        "batchnorm_backward",
        REFERENCE.edit(
            "batchnorm_backward", ("dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.sum(dout * x, axis=0)")
        ),
        "dgamma from x instead of x_hat",
    ),
    Variant(
        "bn_backward_dbeta_not_summed",
        "batchnorm_backward",
        REFERENCE.edit("batchnorm_backward", ("dbeta = np.sum(dout, axis=0)", "dbeta = dout")),
        "dbeta is dout itself, not its sum over the batch",
    ),
    Variant(
        "bn_backward_no_eps",
        "batchnorm_backward",
        REFERENCE.edit("batchnorm_backward", ("inv_std = 1 / np.sqrt(var + eps)", "inv_std = 1 / np.sqrt(var)")),
        "ignores the cache's eps",
    ),
    # --- batchnorm_backward_alt ------------------------------------------------------------
    Variant(
        "bn_alt_no_x_hat_term",
        "batchnorm_backward_alt",
        REFERENCE.edit("batchnorm_backward_alt", (" - x_hat * (dx_hat * x_hat).sum(axis=0)", "")),
        "drops the term that comes from the variance",
    ),
    Variant(
        "bn_alt_forgets_gamma",
        "batchnorm_backward_alt",
        REFERENCE.edit("batchnorm_backward_alt", ("dx_hat = dout * gamma", "dx_hat = dout")),
        "forgets that x_hat is scaled by gamma",
    ),
    Variant(
        "bn_alt_dgamma_per_example",
        "batchnorm_backward_alt",
        REFERENCE.edit(
            "batchnorm_backward_alt", ("dgamma = (dout * x_hat).sum(axis=0)", "dgamma = (dout * x_hat).sum(axis=1)")
        ),
        "sums dgamma over the features (axis 1): one value per example",
    ),
    # --- layernorm_forward -----------------------------------------------------------------
    Variant(
        "ln_forward_batch_axis",
        "layernorm_forward",
        REFERENCE.edit(
            "layernorm_forward",
            ("mu = x.mean(axis=1, keepdims=True)", "mu = x.mean(axis=0)"),
            ("var = x.var(axis=1, keepdims=True)", "var = x.var(axis=0)"),
        ),
        "normalizes over the batch (axis 0): batch normalization",
    ),
    Variant(
        "ln_forward_unbiased_variance",
        "layernorm_forward",
        REFERENCE.edit(
            "layernorm_forward", ("var = x.var(axis=1, keepdims=True)", "var = x.var(axis=1, keepdims=True, ddof=1)")
        ),
        "the corrected variance (divides by D - 1)",
    ),
    Variant(
        "ln_forward_upcasts_to_float64",
        "layernorm_forward",
        REFERENCE.edit(
            "layernorm_forward",
            ('eps = ln_param.get("eps", 1e-5)', 'eps = ln_param.get("eps", 1e-5)\n    x = x.astype(np.float64)'),
        ),
        "computes in float64 whatever x's dtype",
    ),
    # --- layernorm_backward ----------------------------------------------------------------
    Variant(
        "ln_backward_sums_over_the_batch",
        "layernorm_backward",
        REFERENCE.edit(
            "layernorm_backward",
            ("row_sum = dx_hat.sum(axis=1, keepdims=True)", "row_sum = dx_hat.sum(axis=0)"),
            ("row_dot = (dx_hat * x_hat).sum(axis=1, keepdims=True)", "row_dot = (dx_hat * x_hat).sum(axis=0)"),
        ),
        "batch normalization's sums (axis 0) instead of each row's",
    ),
    Variant(
        "ln_backward_dbeta_keepdims",
        "layernorm_backward",
        REFERENCE.edit("layernorm_backward", ("dbeta = dout.sum(axis=0)", "dbeta = dout.sum(axis=0, keepdims=True)")),
        "dbeta of shape (1, D) instead of (D,)",
    ),
    # --- dropout_forward -------------------------------------------------------------------
    Variant(
        "dropout_p_is_drop_probability",
        "dropout_forward",
        REFERENCE.edit(
            "dropout_forward", ("keep = np.random.rand(*x.shape) < p", "keep = np.random.rand(*x.shape) > p")
        ),
        "drops units with probability p instead of keeping them",
    ),
    Variant(
        "dropout_no_rescaling",
        "dropout_forward",
        REFERENCE.edit("dropout_forward", ("mask = (keep / p).astype(x.dtype)", "mask = keep.astype(x.dtype)")),
        "vanilla dropout's mask: the units kept aren't divided by p",
    ),
    Variant(
        "dropout_test_mode_scales_by_p",
        "dropout_forward",
        REFERENCE.edit("dropout_forward", ("out = x.copy()", "out = x * p")),
        "scales by p at test time, as vanilla dropout does",
    ),
    Variant(
        "dropout_needs_a_seed",
        "dropout_forward",
        REFERENCE.edit(
            "dropout_forward", ('    if "seed" in dropout_param:\n        np.random.seed(', "    np.random.seed(")
        ),
        "always reads dropout_param['seed'] (a KeyError without one)",
    ),
    Variant(
        "dropout_float64_mask",
        "dropout_forward",
        REFERENCE.edit("dropout_forward", ("mask = (keep / p).astype(x.dtype)", "mask = keep / p")),
        "a float64 mask, so float32 x gives float64 out",
    ),
    Variant(
        "dropout_in_place",
        "dropout_forward",
        REFERENCE.edit("dropout_forward", ("        out = x * mask\n", "        x *= mask\n        out = x\n")),
        "applies the mask to x in place",
    ),
    # --- dropout_backward ------------------------------------------------------------------
    Variant(
        "dropout_backward_draws_a_new_mask",
        "dropout_backward",
        REFERENCE.edit(
            "dropout_backward",
            (
                "dx = dout * mask  # dropped units get no gradient; kept ones are scaled like x",
                'dx = dout * (np.random.rand(*dout.shape) < dropout_param["p"]) / dropout_param["p"]',
            ),
        ),
        "draws a new mask instead of using the forward pass's",
    ),
    Variant(
        "dropout_backward_redraws_from_the_seed",
        "dropout_backward",
        cell("""
            def dropout_backward(dout, cache):
                dropout_param, mask = cache
                if dropout_param["mode"] != "train":
                    return dout
                p = dropout_param["p"]
                np.random.seed(dropout_param["seed"])  # "the same mask again"
                return dout * (np.random.rand(*dout.shape) < p) / p
        """),
        "draws the mask again from the seed: right only when the forward pass used the same seed and generator",
    ),
    Variant(
        "dropout_backward_divides_by_p_again",
        "dropout_backward",
        REFERENCE.edit("dropout_backward", ("dx = dout * mask ", 'dx = dout * mask / dropout_param["p"] ')),
        "divides by p although the mask already holds the 1 / p",
    ),
    # --- spatial_batchnorm_forward ---------------------------------------------------------
    Variant(
        "sbn_forward_reshape_without_transpose",
        "spatial_batchnorm_forward",
        REFERENCE.edit(
            "spatial_batchnorm_forward",
            ("x_rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "x_rows = x.reshape(N * H * W, C)"),
            ("out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "out = out_rows.reshape(N, C, H, W)"),
        ),
        "reshapes (N, C, H, W) to (N * H * W, C) without moving the channels last: columns mix channels",
    ),
    Variant(
        "sbn_forward_not_transposed_back",
        "spatial_batchnorm_forward",
        REFERENCE.edit(
            "spatial_batchnorm_forward",
            ("out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "out = out_rows.reshape(N, C, H, W)"),
        ),
        "reshapes the rows straight to (N, C, H, W) without undoing the transpose",
    ),
    Variant(
        "sbn_forward_rows_in_another_order",
        "spatial_batchnorm_forward",
        REFERENCE.edit(
            "spatial_batchnorm_forward",
            ("x.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "x.transpose(0, 3, 2, 1).reshape(N * W * H, C)"),
            (
                "out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
                "out_rows.reshape(N, W, H, C).transpose(0, 3, 2, 1)",
            ),
        ),
        "right out, but the cache's rows in (n, w, h) order, not the documented (n, h, w)",
    ),
    # --- spatial_batchnorm_backward --------------------------------------------------------
    Variant(
        "sbn_backward_reshape_without_transpose",
        "spatial_batchnorm_backward",
        REFERENCE.edit(
            "spatial_batchnorm_backward",
            ("dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "dout.reshape(N * H * W, C)"),
            ("dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx_rows.reshape(N, C, H, W)"),
        ),
        "reshapes dout without moving the channels last: its rows don't match the cache's",
    ),
    Variant(
        "sbn_backward_not_transposed_back",
        "spatial_batchnorm_backward",
        REFERENCE.edit(
            "spatial_batchnorm_backward",
            ("dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx_rows.reshape(N, C, H, W)"),
        ),
        "reshapes dx straight to (N, C, H, W) without undoing the transpose",
    ),
    # --- spatial_groupnorm_forward ---------------------------------------------------------
    Variant(
        "gn_forward_strided_groups",
        "spatial_groupnorm_forward",
        REFERENCE.edit(
            "spatial_groupnorm_forward",
            ("groups = x.reshape(N, G, C // G, H, W)", "groups = x.reshape(N, C // G, G, H, W)"),
            ("groups.mean(axis=(2, 3, 4), keepdims=True)", "groups.mean(axis=(1, 3, 4), keepdims=True)"),
            ("groups.var(axis=(2, 3, 4), keepdims=True)", "groups.var(axis=(1, 3, 4), keepdims=True)"),
        ),
        "groups every G-th channel (c % G) instead of C // G consecutive channels",
    ),
    Variant(
        "gn_forward_statistics_over_the_batch",
        "spatial_groupnorm_forward",
        REFERENCE.edit(
            "spatial_groupnorm_forward",
            ("groups.mean(axis=(2, 3, 4), keepdims=True)", "groups.mean(axis=(0, 2, 3, 4), keepdims=True)"),
            ("groups.var(axis=(2, 3, 4), keepdims=True)", "groups.var(axis=(0, 2, 3, 4), keepdims=True)"),
        ),
        "takes each group's statistics over the whole batch",
    ),
    Variant(
        "gn_forward_hardcoded_eps",
        "spatial_groupnorm_forward",
        REFERENCE.edit("spatial_groupnorm_forward", ('eps = gn_param.get("eps", 1e-5)', "eps = 1e-5")),
        "ignores the eps gn_param gives",
    ),
    # --- spatial_groupnorm_backward --------------------------------------------------------
    Variant(
        "gn_backward_dgamma_flat",
        "spatial_groupnorm_backward",
        REFERENCE.edit(
            "spatial_groupnorm_backward",
            (
                "dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)",
                "dgamma = (dout * x_hat).sum(axis=(0, 2, 3))",
            ),
        ),
        "dgamma of shape (C,) instead of gamma's (1, C, 1, 1)",
    ),
    Variant(
        "gn_backward_no_mean_term",
        "spatial_groupnorm_backward",
        REFERENCE.edit(
            "spatial_groupnorm_backward", ("(M * dx_hat - group_sum - x_hat_groups", "(M * dx_hat - x_hat_groups")
        ),
        "drops the term that comes from each group's mean",
    ),
]

CORRECT: list[Variant] = [
    Variant(
        "bn_forward_one_pass_setdefault",
        "batchnorm_forward",
        cell("""
            def batchnorm_forward(x, gamma, beta, bn_param):
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.9)
                bn_param.setdefault("running_mean", np.zeros(x.shape[1], dtype=x.dtype))
                bn_param.setdefault("running_var", np.zeros(x.shape[1], dtype=x.dtype))
                if bn_param["mode"] == "train":
                    mu = np.sum(x, axis=0) / x.shape[0]
                    var = np.mean(x**2, axis=0) - mu**2  # one pass over the data
                    x_hat = (x - mu) / (var + eps) ** 0.5
                    bn_param["running_mean"] = bn_param["running_mean"] * momentum + mu * (1 - momentum)
                    bn_param["running_var"] = bn_param["running_var"] * momentum + var * (1 - momentum)
                    return x_hat * gamma + beta, (x, x_hat, mu, var, gamma, beta, eps)
                x_hat = (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + eps)
                return gamma * x_hat + beta, None
        """),
        "one-pass variance E[x^2] - E[x]^2, setdefault for the averages, ** 0.5",
    ),
    Variant(
        "bn_backward_nine_steps",
        "batchnorm_backward",
        cell("""
            def batchnorm_backward(dout, cache):
                x, x_hat, mu, var, gamma, beta, eps = cache
                N, D = x.shape
                xmu = x - mu
                sqrtvar = np.sqrt(var + eps)
                ivar = 1.0 / sqrtvar
                dbeta = np.sum(dout, axis=0)
                dgamma = np.sum(dout * x_hat, axis=0)
                dxhat = dout * gamma
                divar = np.sum(dxhat * xmu, axis=0)
                dxmu1 = dxhat * ivar
                dsqrtvar = -1.0 / (sqrtvar**2) * divar
                dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
                dsq = 1.0 / N * np.ones((N, D), dtype=x.dtype) * dvar
                dxmu2 = 2 * xmu * dsq
                dx1 = dxmu1 + dxmu2
                dmu = -1 * np.sum(dx1, axis=0)
                dx2 = 1.0 / N * np.ones((N, D), dtype=x.dtype) * dmu
                return dx1 + dx2, dgamma, dbeta
        """),
        "the well-known nine-step graph, one node per line",
    ),
    Variant(
        "bn_alt_einsum_means",
        "batchnorm_backward_alt",
        cell("""
            def batchnorm_backward_alt(dout, cache):
                x, x_hat, mu, var, gamma, beta, eps = cache
                N = x.shape[0]
                dbeta = np.einsum("nd->d", dout)
                dgamma = np.einsum("nd,nd->d", dout, x_hat)
                dx = gamma / np.sqrt(var + eps) * (dout - dbeta / N - x_hat * dgamma / N)
                return dx, dgamma, dbeta
        """),
        "einsum, and dx written with the means of dout and dout * x_hat",
    ),
    Variant(
        "ln_forward_transposed",
        "layernorm_forward",
        cell("""
            def layernorm_forward(x, gamma, beta, ln_param):
                eps = ln_param.get("eps", 1e-5)
                columns = x.T  # (D, N): each example a column, as in batch normalization
                mu = columns.mean(axis=0)
                var = ((columns - mu) ** 2).mean(axis=0)
                x_hat = ((columns - mu) / np.sqrt(var + eps)).T
                return x_hat * gamma + beta, (x, x_hat, mu[:, np.newaxis], var[:, np.newaxis], gamma, beta, eps)
        """),
        "batch normalization of x.T, transposed back",
    ),
    Variant(
        "ln_backward_transposed",
        "layernorm_backward",
        cell("""
            def layernorm_backward(dout, cache):
                x, x_hat, mu, var, gamma, beta, eps = cache
                D = x.shape[1]
                g = (dout * gamma).T  # (D, N)
                xt = x_hat.T
                dx = (D * g - g.sum(axis=0) - xt * (g * xt).sum(axis=0)) / (D * np.sqrt(var.T + eps))
                return dx.T, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
        """),
        "batch normalization's closed form on the transposed arrays",
    ),
    Variant(
        "dropout_random_sample_where",
        "dropout_forward",
        cell("""
            def dropout_forward(x, dropout_param):
                p = dropout_param["p"]
                if dropout_param.get("seed") is not None:
                    np.random.seed(dropout_param["seed"])
                if dropout_param["mode"] != "train":
                    return x, (dropout_param, None)
                mask = np.where(np.random.random_sample(x.shape) < p, 1 / p, 0).astype(x.dtype)
                return x * mask, (dropout_param, mask)
        """),
        "random_sample and np.where; test mode returns x itself",
    ),
    Variant(
        "dropout_backward_by_mask",
        "dropout_backward",
        cell("""
            def dropout_backward(dout, cache):
                _, mask = cache
                return dout if mask is None else np.multiply(dout, mask)
        """),
        "tells test mode by the missing mask, and returns dout itself there",
    ),
    Variant(
        "sbn_forward_own_statistics",
        "spatial_batchnorm_forward",
        cell("""
            def spatial_batchnorm_forward(x, gamma, beta, bn_param):
                N, C, H, W = x.shape
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.9)
                if bn_param["mode"] == "train":
                    mu = x.mean(axis=(0, 2, 3))
                    var = x.var(axis=(0, 2, 3))
                    old_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
                    old_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))
                    bn_param["running_mean"] = momentum * old_mean + (1 - momentum) * mu
                    bn_param["running_var"] = momentum * old_var + (1 - momentum) * var
                else:
                    mu, var = bn_param["running_mean"], bn_param["running_var"]
                x_hat = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
                out = gamma[None, :, None, None] * x_hat + beta[None, :, None, None]
                if bn_param["mode"] != "train":
                    return out, None

                def rows(a):
                    return a.transpose(0, 2, 3, 1).reshape(-1, C)

                return out, (rows(x), rows(x_hat), mu, var, gamma, beta, eps)
        """),
        "computes the statistics over axes (0, 2, 3) itself, without calling batchnorm_forward",
    ),
    Variant(
        "sbn_backward_moveaxis_graph",
        "spatial_batchnorm_backward",
        cell("""
            def spatial_batchnorm_backward(dout, cache):
                N, C, H, W = dout.shape
                rows = np.moveaxis(dout, 1, -1).reshape(-1, C)
                dx_rows, dgamma, dbeta = batchnorm_backward(rows, cache)
                return np.moveaxis(dx_rows.reshape(N, H, W, C), -1, 1), dgamma, dbeta
        """),
        "np.moveaxis, and the graph version of the backward pass",
    ),
    Variant(
        "gn_forward_loops",
        "spatial_groupnorm_forward",
        cell("""
            def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
                eps = gn_param.get("eps", 1e-5)
                N, C, H, W = x.shape
                size = C // G
                x_hat = np.empty_like(x)
                mu = np.empty((N, G, 1, 1, 1), dtype=x.dtype)
                var = np.empty((N, G, 1, 1, 1), dtype=x.dtype)
                for n in range(N):
                    for g in range(G):
                        block = x[n, g * size : (g + 1) * size]
                        mu[n, g] = block.mean()
                        var[n, g] = block.var()
                        x_hat[n, g * size : (g + 1) * size] = (block - mu[n, g]) / np.sqrt(var[n, g] + eps)
                return gamma * x_hat + beta, (x, x_hat, mu, var, gamma, beta, G, eps)
        """),
        "a loop over examples and groups",
    ),
    Variant(
        "gn_backward_graph",
        "spatial_groupnorm_backward",
        cell("""
            def spatial_groupnorm_backward(dout, cache):
                x, x_hat, mu, var, gamma, beta, G, eps = cache
                N, C, H, W = x.shape
                groups = x.reshape(N, G, C // G, H, W)
                dxhat = (dout * gamma).reshape(N, G, C // G, H, W)
                M = (C // G) * H * W
                inv_std = 1.0 / np.sqrt(var + eps)
                axes = (2, 3, 4)
                dvar = np.sum(dxhat * (groups - mu), axis=axes, keepdims=True) * -0.5 * inv_std**3
                dmu = -np.sum(dxhat * inv_std, axis=axes, keepdims=True) + dvar * np.mean(
                    -2.0 * (groups - mu), axis=axes, keepdims=True
                )
                dx = dxhat * inv_std + dvar * 2.0 * (groups - mu) / M + dmu / M
                dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)
                return dx.reshape(N, C, H, W), dgamma, np.sum(dout, axis=(0, 2, 3), keepdims=True)
        """),
        "through the graph: the paths through each group's mean and variance",
    ),
]
