"""dropout_forward(x, dropout_param) -> (out, cache), inverted dropout; p is the probability of keeping a unit.

Graded by its properties, never against one particular random mask: on large arrays
the fraction of units kept is p and the mean is preserved, the units kept are x / p,
the same seed gives the same mask (and a missing seed works), test mode returns x,
cache = (dropout_param, mask) with out = x * mask, float32 stays float32, and x is
left unchanged.
"""

import numpy as np
import pytest

from autograder.kit import checks

FUNCTION = "dropout_forward"
SHAPE = (200, 500)  # 100,000 units: the fraction kept is p give or take 0.15 % (one standard deviation)
HINTS = {
    "p": "p is the probability of KEEPING a unit: keep it where np.random.rand(*x.shape) < p.",
    "scale": "inverted dropout divides the units kept by p (mask = (np.random.rand(*x.shape) < p) / p), so that the "
    "mean stays the same.",
    "seed": "when dropout_param has a 'seed', call np.random.seed(dropout_param['seed']) before drawing the mask; "
    "when it has none, don't.",
    "test": "in 'test' mode, return x as it is (a copy is fine): no mask, no scaling.",
    "cache": "set cache = (dropout_param, mask), with mask of x's shape: 1 / p where a unit is kept, 0 where it is "
    "dropped, so that out = x * mask.",
}


def positive(rng, shape=SHAPE, dtype=np.float64):
    """Inputs in [1, 2): a unit is dropped exactly where out is 0."""
    return rng.uniform(1.0, 2.0, shape).astype(dtype)


def dropout(norm, x, dropout_param, **kwargs):
    out, cache, result = norm.forward(FUNCTION, x, dropout_param, **kwargs)
    return checks.shape(out, x.shape, f"out (mode {dropout_param['mode']!r})", HINTS["cache"]), cache, result


def check_kept(out, x, p, what, hint):
    """About a fraction p of the units kept: within 5 standard deviations (0.7 % for 100,000 units)."""
    kept = np.mean(out != 0)
    if abs(kept - p) > 5 * np.sqrt(p * (1 - p) / out.size):
        raise checks.Mismatch(f"{what} keeps {kept:.1%} of the units for p = {p}, not about {p:.0%}.", hint)


@pytest.mark.share(2)
def test_keeps_a_fraction_p(norm, rng):
    """Keeps about a fraction p of 100,000 units, for p = 0.3 with a seed and p = 0.8 without."""
    x = positive(rng)
    for dropout_param in [{"mode": "train", "p": 0.3, "seed": 17}, {"mode": "train", "p": 0.8}]:
        out, _, _ = dropout(norm, x, dropout_param)
        label = f"out for p = {dropout_param['p']}" + (" and no seed" if "seed" not in dropout_param else "")
        check_kept(out, x, dropout_param["p"], label, HINTS["p"])


@pytest.mark.share(2)
def test_kept_units_are_scaled_by_one_over_p(norm, rng):
    """The units kept are x / p and the others 0, so that the mean stays about the same (p = 0.4)."""
    x = positive(rng)
    out, _, _ = dropout(norm, x, {"mode": "train", "p": 0.4, "seed": 3})
    kept = out != 0
    checks.close(out[kept], x[kept] / 0.4, "out at the kept units", hint=HINTS["scale"])
    if abs(out.mean() - x.mean()) > 0.02 * x.mean():
        raise checks.Mismatch(f"The mean of out is {out.mean():.3f} for p = 0.4, but the mean of x is {x.mean():.3f}.",
                              HINTS["scale"])  # fmt: skip


@pytest.mark.share(1)
def test_same_seed_same_mask(norm, rng):
    """The same seed gives the same out; another seed, another out."""
    x = positive(rng, (30, 40))
    first, _, _ = dropout(norm, x, {"mode": "train", "p": 0.5, "seed": 7})
    again, _, _ = dropout(norm, x, {"mode": "train", "p": 0.5, "seed": 7})
    other, _, _ = dropout(norm, x, {"mode": "train", "p": 0.5, "seed": 8})
    checks.close(again, first, "out for the same seed as before", rtol=0, atol=0, hint=HINTS["seed"])
    if np.array_equal(other, first):
        raise checks.Mismatch("out is the same for seeds 7 and 8.", HINTS["seed"])


@pytest.mark.share(2)
def test_test_mode_returns_x(norm, rng):
    """In test mode, out is x itself, in float64 and in float32 (p = 0.3)."""
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((20, 30)).astype(dtype)
        out, _, _ = dropout(norm, x, {"mode": "test", "p": 0.3})
        checks.floating(out, f"out in test mode for {np.dtype(dtype).name} x", dtype=dtype)
        checks.close(out, x, f"out in test mode for {np.dtype(dtype).name} x", rtol=0, atol=0, hint=HINTS["test"])


@pytest.mark.share(1)
def test_cache(norm, rng):
    """Returns cache = (dropout_param, mask), with out = x * mask and the mask 0 or 1 / p."""
    x = positive(rng, (50, 60))
    dropout_param = {"mode": "train", "p": 0.6, "seed": 11}
    out, cache, _ = dropout(norm, x, dict(dropout_param))
    param, mask = checks.parts(cache, ("dropout_param", "mask"), "dropout_forward's cache")
    if param != dropout_param:
        raise checks.Mismatch("cache item `dropout_param` is not the dropout_param the function was given.",
                              HINTS["cache"])  # fmt: skip
    mask = checks.shape(mask, x.shape, "cache item `mask`", HINTS["cache"])
    checks.close(out, x * mask, "out compared with x * mask", hint=HINTS["cache"])
    if not np.all(np.isclose(mask, 0) | np.isclose(mask, 1 / 0.6)):
        raise checks.Mismatch("cache item `mask` holds values other than 0 and 1 / p.", HINTS["cache"])


@pytest.mark.share(1)
def test_float32(norm, rng, tolerances):
    """Keeps float32 inputs in float32, the units kept scaled by 1 / p."""
    x = positive(rng, (40, 50), dtype=np.float32)
    out, _, _ = dropout(norm, x, {"mode": "train", "p": 0.7, "seed": 5})
    checks.floating(out, "out for float32 x", dtype=np.float32)
    kept = out != 0
    checks.close(out[kept], x[kept].astype(np.float64) / 0.7, "out at the kept units, for float32 x,",
                 hint="make the mask x's dtype (mask.astype(x.dtype)), then out = x * mask.", **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_does_not_modify_its_inputs(norm, rng):
    """Leaves x and dropout_param unchanged."""
    x = positive(rng, (30, 20))
    dropout_param = {"mode": "train", "p": 0.5, "seed": 1}
    out, _, result = dropout(norm, x.copy(), dict(dropout_param), return_args=True)
    check_kept(out, x, 0.5, "out", HINTS["p"])
    checks.unchanged(x, result.args[0], "x")
    checks.unchanged(dropout_param, result.args[1], "dropout_param")
