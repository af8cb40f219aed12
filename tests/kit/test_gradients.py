"""Are the numerical gradients right, and does the gradient check hold an answer to them?
(autograder/kit/gradients.py)"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.kit import gradients
from autograder.kit.checks import Mismatch
from autograder.kit.tolerances import Tolerances
from tests.plugins.record_expected import recording

TOL = Tolerances.declared({})


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def cubes(x: np.ndarray) -> float:
    return float(np.sum(x**3))


# --- numeric and of_output ---------------------------------------------------------------


def test_numeric_matches_the_analytic_gradient_of_every_entry(rng):
    """Is the centred difference of sum(x**3) equal to 3 x**2 at every entry, in x's shape?"""
    x = rng.standard_normal((3, 4))
    grad = gradients.numeric(cubes, x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-7, atol=1e-8)


def test_numeric_at_coordinates_gives_one_value_per_index(rng):
    """With `at`, is the result a 1-d array of the gradient at those indices, in their order?"""
    x = rng.standard_normal((2, 3, 4))
    at = [(1, 2, 3), (0, 0, 0), (1, 0, 2)]
    grad = gradients.numeric(cubes, x, at=at)
    assert grad.shape == (3,)
    np.testing.assert_allclose(grad, [3 * x[i] ** 2 for i in at], rtol=1e-7, atol=1e-8)


def test_numeric_at_coordinates_given_as_lists(rng):
    """Are indices given as lists (as from JSON or np.argwhere) read as indices, not slices?"""
    x = rng.standard_normal((2, 3))
    grad = gradients.numeric(cubes, x, at=[[1, 2], np.array([0, 1])])
    np.testing.assert_allclose(grad, [3 * x[1, 2] ** 2, 3 * x[0, 1] ** 2], rtol=1e-7)


def test_numeric_uses_x_in_place_and_restores_it(rng):
    """Does f see the nudged entries through x itself (a closure), and is x exactly as before afterwards?"""
    w = rng.standard_normal(5)
    original = w.copy()
    grad = gradients.numeric(lambda _: float(np.sum(w**2)), w)  # reads w, not its argument
    np.testing.assert_allclose(grad, 2 * original, rtol=1e-7, atol=1e-8)
    assert np.array_equal(w, original)
    gradients.numeric(lambda _: float(np.sum(w**2)), w, at=[(2,)])
    assert np.array_equal(w, original)


def test_numeric_takes_the_step_it_is_given():
    """Is h the step of the difference (a large step shows the truncation error of a cubic)?"""
    x = np.array([1.0])
    # (f(1 + h) - f(1 - h)) / 2h = 3 + h**2 for f = x**3
    assert gradients.numeric(cubes, x, h=0.5)[0] == pytest.approx(3.25)
    assert gradients.numeric(cubes, x)[0] == pytest.approx(3.0, abs=1e-8)


def test_of_output_of_a_linear_map_is_w_transposed_times_dout(rng):
    """For out = W @ x, is the gradient of sum(out * dout) equal to W.T @ dout?"""
    W = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    dout = rng.standard_normal(4)
    grad = gradients.of_output(lambda v: W @ v, x, dout)
    np.testing.assert_allclose(grad, W.T @ dout, rtol=1e-6, atol=1e-8)
    sparse = gradients.of_output(lambda v: W @ v, x, dout, at=[(2,), (0,)])
    np.testing.assert_allclose(sparse, (W.T @ dout)[[2, 0]], rtol=1e-6, atol=1e-8)


def test_of_output_leaves_x_alone_and_works_in_float64(rng):
    """Is a float32 x left unchanged, and the gradient still taken in float64?"""
    W = rng.standard_normal((2, 3))
    x = rng.standard_normal(3).astype(np.float32)
    original = x.copy()
    seen = []

    def forward(v):
        seen.append(v.dtype)
        return W @ v

    grad = gradients.of_output(forward, x, np.ones(2))
    assert np.array_equal(x, original) and x.dtype == np.float32
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_allclose(grad, W.T @ np.ones(2), rtol=1e-6, atol=1e-8)


# --- coordinates -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5, 2), (50,)])
def test_coordinates_are_distinct_sorted_and_inside_the_shape(shape):
    """Are the k indices all different, in row-major order, and valid for the shape?"""
    picks = gradients.coordinates(np.random.default_rng(1), shape, k=6)
    assert len(picks) == 6 and len(set(picks)) == 6
    assert picks == sorted(picks)
    for index in picks:
        assert len(index) == len(shape) and all(
            type(i) is int and 0 <= i < n for i, n in zip(index, shape, strict=True)
        )


def test_coordinates_are_capped_by_the_size():
    """Asked for more indices than the array has, does it give each index once?"""
    picks = gradients.coordinates(np.random.default_rng(1), (2, 3), k=100)
    assert picks == list(np.ndindex(2, 3))


def test_coordinates_follow_the_generator():
    """Do equal seeds give equal picks, and different seeds (almost surely) different ones?"""
    pick = [gradients.coordinates(np.random.default_rng(seed), (20, 20), k=8) for seed in (5, 5, 6)]
    assert pick[0] == pick[1] and pick[0] != pick[2]


# --- check -------------------------------------------------------------------------------


@pytest.fixture
def problem(rng):
    """x, the gradient of sum(x**3) (the reference's) and its numerical gradient."""
    x = rng.standard_normal((3, 4))
    return x, 3 * x**2, gradients.numeric(cubes, x)


def test_check_passes_a_right_gradient(problem):
    """Is the exact gradient accepted, whole and at a few coordinates?"""
    x, expected, numerical = problem
    gradients.check(TOL, expected.copy(), numerical, expected, "dx")
    at = [(0, 1), (2, 3)]
    gradients.check(TOL, expected.copy(), numerical[tuple(np.array(at).T)], expected, "dx", at=at)


def test_check_fails_a_wrong_gradient_counting_entries(problem):
    """Does a gradient wrong at two entries fail, saying how many and the first index, with the hint?"""
    x, expected, numerical = problem
    wrong = expected.copy()
    wrong[1, 3] += 0.1
    wrong[2, 0] -= 0.1
    with pytest.raises(Mismatch) as excinfo:
        gradients.check(TOL, wrong, numerical, expected, "dx", hint="use the cache.")
    e = excinfo.value
    assert "2 of 12 entries are wrong" in e.message and "first wrong entry is at index (1, 3)" in e.message
    assert e.hint == "use the cache."


def test_check_holds_the_answer_to_the_reference_too(problem):
    """Is an answer within numeric tolerance of the numbers but not tight to the reference refused?"""
    x, expected, numerical = problem
    nearly = expected * (1 + 3e-6)  # inside numeric (1e-5), outside tight (1e-6)
    with pytest.raises(Mismatch, match="entries are wrong"):
        gradients.check(TOL, nearly, numerical, expected, "dx")
    loose = Tolerances.declared({"tight": {"rtol": 1e-4}})
    gradients.check(loose, nearly, numerical, expected, "dx")


def test_check_refuses_a_gradient_that_is_not_floating(problem):
    """Is an integer or non-array gradient refused before any comparison?"""
    x, expected, numerical = problem
    with pytest.raises(Mismatch, match="should hold floating-point numbers"):
        gradients.check(TOL, np.zeros((3, 4), dtype=int), numerical, expected, "dx")
    with pytest.raises(Mismatch, match="should be a NumPy array"):
        gradients.check(TOL, expected.tolist(), numerical, expected, "dx")


def test_sparse_check_names_how_many_checked_entries_disagree(problem):
    """At coordinates, does a wrong gradient fail naming how many of the checked entries disagree, and the first?"""
    x, expected, numerical = problem
    at = [(0, 0), (1, 1), (1, 3), (2, 2)]
    wrong = expected.copy()
    wrong[1, 3] += 1.0
    wrong[2, 2] += 1.0
    with pytest.raises(Mismatch) as excinfo:
        gradients.check(TOL, wrong, numerical[tuple(np.array(at).T)], expected, "dw", hint="h", at=at)
    assert excinfo.value.message == (
        "dw disagrees with a numerical gradient at 2 of the 4 entries checked, the first at index (1, 3)."
    )
    assert excinfo.value.hint == "h"


def test_sparse_check_still_compares_every_entry_with_the_reference(problem):
    """An answer right at the checked coordinates but wrong elsewhere: is it refused by the reference check?"""
    x, expected, numerical = problem
    at = [(0, 0), (1, 1)]
    wrong = expected.copy()
    wrong[2, 3] += 1.0
    with pytest.raises(Mismatch, match=r"1 of 12 entries are wrong.*index \(2, 3\)"):
        gradients.check(TOL, wrong, numerical[tuple(np.array(at).T)], expected, "dw", at=at)


def test_sparse_check_refuses_the_wrong_shape(problem):
    """At coordinates, is a gradient of the wrong shape refused as a shape (not an IndexError)?"""
    x, expected, numerical = problem
    at = [(2, 3)]
    with pytest.raises(Mismatch, match=r"has shape \(4, 3\), but should have shape \(3, 4\)"):
        gradients.check(TOL, expected.T.copy(), numerical[tuple(np.array(at).T)], expected, "dw", at=at)


def test_check_records_the_numerical_gradient_as_expected(problem):
    """Are the numerical values a check compares against announced as expected, whole and sparse?"""
    x, expected, numerical = problem
    at = [(0, 2)]
    sparse = numerical[tuple(np.array(at).T)]
    with recording() as recorded:
        gradients.check(TOL, expected.copy(), sparse, expected, "dx", at=at)
    assert any(np.array_equal(r, sparse) for r in recorded)
    assert any(r is expected for r in recorded)


# --- check_backward --------------------------------------------------------------------------

NAMES = ("dx", "dw", "db")
HINTS = {"dx": "dout @ w.T", "dw": "x.T @ dout", "db": "sum dout over the examples"}


def affine(x, w, b, param):
    """out = scale * x @ w + b; the forward pass changes its param dict, as a batch norm's does."""
    param["calls"] = param.get("calls", 0) + 1
    return param["scale"] * x @ w + b


@pytest.fixture
def layer(rng):
    """(inputs, dout, the exact gradients) of ``affine`` on a small case."""
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    dout, scale = rng.standard_normal((4, 2)), 1.5
    return (x, w, b, {"scale": scale}), dout, (scale * dout @ w.T, scale * x.T @ dout, dout.sum(axis=0))


def check_affine(layer, got, **kwargs):
    inputs, dout, exact = layer
    gradients.check_backward(TOL, NAMES, got, exact, lambda *a: affine(*a[:3], dict(a[3])), inputs, dout, HINTS,
                             **kwargs)  # fmt: skip


def test_check_backward_passes_the_exact_gradients_and_leaves_the_inputs_alone(layer):
    """Are right gradients accepted, with the param dict never changed (forward copies it) and x not nudged?"""
    inputs, _, exact = layer
    before = [a.copy() for a in inputs[:3]]
    check_affine(layer, [g.copy() for g in exact])
    assert inputs[3] == {"scale": 1.5}
    assert all(np.array_equal(a, b) for a, b in zip(inputs[:3], before, strict=True))


def test_check_backward_names_the_first_wrong_gradient_with_its_label_and_hint(layer):
    """Is a wrong dw refused as `dw` plus the label, with dw's hint, after a right dx?"""
    _, _, exact = layer
    got = [exact[0].copy(), exact[1] * 2, exact[2].copy()]
    with pytest.raises(Mismatch) as excinfo:
        check_affine(layer, got, label=" (scale 1.5)")
    assert excinfo.value.message.startswith("dw (scale 1.5) ") and excinfo.value.hint == HINTS["dw"]


def test_check_backward_checks_only_the_gradients_it_is_asked_to(layer):
    """With only=("dx", "db"), is a wrong dw let through, and a wrong db still refused?"""
    _, _, exact = layer
    check_affine(layer, [exact[0].copy(), exact[1] * 2, exact[2].copy()], only=("dx", "db"))
    with pytest.raises(Mismatch, match="^db "):
        check_affine(layer, [exact[0].copy(), exact[1] * 2, exact[2] + 1], only=("dx", "db"))


def test_check_backward_holds_each_gradient_to_the_numbers_not_only_to_expected(layer):
    """If the 'reference' gradients were wrong, would a student's equal ones still fail against the maths?"""
    inputs, dout, exact = layer
    wrong = (exact[0], exact[1] + 0.5, exact[2])
    with pytest.raises(Mismatch, match="^dw "):
        gradients.check_backward(TOL, NAMES, [g.copy() for g in wrong], wrong, lambda *a: affine(*a[:3], dict(a[3])),
                                 inputs, dout, HINTS)  # fmt: skip


def test_check_backward_takes_the_numerical_gradient_at_the_coordinates_given(layer):
    """With at={"dw": ...}, is a dw wrong at one of those entries refused, counted among the entries checked?"""
    _, _, exact = layer
    dw = exact[1].copy()
    dw[2, 1] += 1.0
    with pytest.raises(Mismatch) as excinfo:
        check_affine(layer, [exact[0].copy(), dw, exact[2].copy()], at={"dw": [(0, 0), (2, 1)]})
    assert excinfo.value.message == (
        "dw disagrees with a numerical gradient at 1 of the 2 entries checked, the first at index (2, 1)."
    )


def test_check_backward_takes_float32_inputs_in_float64(layer):
    """Are float32 inputs differentiated in float64 (so the numbers stay tight)?"""
    inputs, dout, _ = layer
    x, w, b, param = inputs
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    seen = []

    def forward(*a):
        seen.extend(v.dtype for v in a[:3])
        return affine(*a[:3], dict(a[3]))

    exact = [1.5 * dout @ w32.T.astype(np.float64), 1.5 * x32.T.astype(np.float64) @ dout, dout.sum(axis=0)]
    gradients.check_backward(TOL, NAMES, [g.copy() for g in exact], exact, forward, (x32, w32, b32, param), dout, HINTS)
    assert set(seen) == {np.dtype(np.float64)}


def test_check_backward_gives_a_known_bug_its_own_hint(layer):
    """Does a wrong db equal to a known bug's answer get that bug's hint instead of db's?"""
    _, dout, exact = layer
    bug = dout.sum()  # one sum over everything: a scalar broadcast to db's shape
    bugs = {"db": lambda: [(np.full(2, bug), "db summed over every axis")]}
    with pytest.raises(Mismatch) as excinfo:
        check_affine(layer, [exact[0].copy(), exact[1].copy(), np.full(2, bug)], known_bugs=bugs)
    assert excinfo.value.hint == "db summed over every axis"
