"""ThreeLayerConvNet: conv - relu - 2x2 max pool - affine - relu - affine - softmax.

The student's class is instantiated in the sandbox. Most tests then load parameters
chosen here into ``model.params``, so that scores, loss and gradients can be compared
with the reference network holding the same parameters, and every gradient with
centred differences of the *reference* loss at coordinates chosen here (with and
without regularisation). The initialisation is checked separately, on the student's
own parameters. ``dtype`` is passed as a NumPy dtype, as in the notebook.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients
from autograder.sandbox.harness.wire import RemoteRef

PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")
# A small network: (3, 2, 6, 8) images -> conv 3x3 (3 filters) -> pool -> 36 -> 5 -> 4 scores
SMALL = {"input_dim": (2, 6, 8), "num_filters": 3, "filter_size": 3, "hidden_dim": 5, "num_classes": 4}
HINTS = {
    "W1": "back-propagate through conv_relu_pool_backward with the cache of conv_relu_pool_forward.",
    "b1": "back-propagate through conv_relu_pool_backward with the cache of conv_relu_pool_forward.",
    "W2": "back-propagate through affine_relu_backward with the cache of affine_relu_forward.",
    "b2": "back-propagate through affine_relu_backward with the cache of affine_relu_forward.",
    "W3": "the last layer is affine_forward (no ReLU): use affine_backward on the gradient from softmax_loss.",
    "b3": "the last layer is affine_forward (no ReLU): use affine_backward on the gradient from softmax_loss.",
}
REG_HINT = ("the regularisation term 0.5 * reg * sum(W ** 2) adds reg * W (an array shaped like W) to the gradient "
            "of each weight W1, W2 and W3, and nothing to the biases.")  # fmt: skip
FORWARD_HINT = ("conv_relu_pool_forward (stride 1, pad (filter_size - 1) // 2, 2x2 pooling with stride 2), "
                "then affine_relu_forward, then affine_forward; the affine layers flatten each image in C order.")  # fmt: skip


def param_shapes(input_dim, num_filters, filter_size, hidden_dim, num_classes):
    C, Hi, Wi = input_dim
    return {
        "W1": (num_filters, C, filter_size, filter_size),
        "b1": (num_filters,),
        "W2": (num_filters * (Hi // 2) * (Wi // 2), hidden_dim),
        "b2": (hidden_dim,),
        "W3": (hidden_dim, num_classes),
        "b3": (num_classes,),
    }


def grader_params(rng, arch=SMALL, scale=1.0, dtype=np.float64):
    """Parameters with activations of order 1 and non-zero biases (weights times scale)."""
    sd = {"W1": 0.4 * scale, "W2": 0.3 * scale, "W3": 0.5 * scale, "b1": 0.1, "b2": 0.1, "b3": 0.1}
    return {k: rng.normal(0.0, sd[k], shape).astype(dtype) for k, shape in param_shapes(**arch).items()}


def batch(rng, arch=SMALL, n=3, dtype=np.float64):
    X = rng.standard_normal((n, *arch["input_dim"])).astype(dtype)
    y = rng.integers(arch["num_classes"], size=n)
    return X, y


def build(student, **kwargs):
    """The student's ThreeLayerConvNet(**kwargs), as a handle."""
    model = student.call("ThreeLayerConvNet", **kwargs).value
    if not isinstance(model, RemoteRef):
        raise checks.Mismatch(
            f"ThreeLayerConvNet(...) should create an object, but it gave {checks.describe_type(model)}."
        )
    return model


def with_params(student, params, reg, arch=SMALL, dtype=np.float64):
    """The student's network with the grader's parameters loaded into model.params."""
    model = build(student, **arch, reg=reg, dtype=dtype)
    student.setattr(model, "params", {k: v.copy() for k, v in params.items()})
    return model


def reference_model(reference, params, reg, arch=SMALL):
    model = reference.ThreeLayerConvNet(**arch, reg=reg, dtype=np.float64)
    model.params = {k: v.astype(np.float64) for k, v in params.items()}
    return model


def get_params(student, model):
    params = student.getattr(model, "params")
    if not isinstance(params, dict):
        raise checks.Mismatch(f"self.params should be a dict, but it is {checks.describe_type(params)}.")
    missing = [k for k in PARAMS if k not in params]
    if missing:
        raise checks.Mismatch(f"self.params has no {', '.join(repr(k) for k in missing)} (it has {sorted(map(str, params))}).",
                              hint="store the parameters under the names W1, b1, W2, b2, W3 and b3.")  # fmt: skip
    return params


def loss_and_grads(student, model, X, y, **kwargs):
    result = student.call_method(model, "loss", X, y, **kwargs)
    loss, grads = checks.parts(result.value, ("loss", "grads"), "loss(X, y)")
    loss = checks.scalar(loss, "the loss returned by loss(X, y)")
    if not isinstance(grads, dict):
        raise checks.Mismatch(
            f"grads should be a dict keyed like self.params, but it is {checks.describe_type(grads)}."
        )
    missing = [k for k in PARAMS if k not in grads]
    if missing:
        raise checks.Mismatch(f"grads has no {', '.join(repr(k) for k in missing)}; give it the keys of self.params.")
    return loss, grads, result


def check_gradient(student, reference, tolerances, rng, name, reg):
    params = grader_params(rng)
    X, y = batch(rng)
    _, grads, _ = loss_and_grads(student, with_params(student, params, reg), X, y)
    ref = reference_model(reference, params, reg)
    _, ref_grads = ref.loss(X, y)
    what = f"grads[{name!r}] (reg = {reg:g})"
    hint = HINTS[name] + (f" Also, {REG_HINT}" if reg and name.startswith("W") else "")
    grad = checks.floating(grads[name], what)
    checks.shape(grad, params[name].shape, what, hint=f"grads[{name!r}] has the shape of params[{name!r}].")
    coords = gradients.coordinates(rng, grad.shape)
    numeric = gradients.numeric(lambda _: ref.loss(X, y)[0], ref.params[name], at=coords)
    gradients.check(tolerances, grad, numeric, ref_grads[name], what, hint, at=coords)


# --- initialisation ----------------------------------------------------------------------


@pytest.mark.share(2)
def test_param_shapes(student):
    """self.params holds W1, b1, W2, b2, W3 and b3 with the documented shapes (non-square input)."""
    arch = {"input_dim": (2, 10, 12), "num_filters": 4, "filter_size": 5, "hidden_dim": 6, "num_classes": 7}
    params = get_params(student, build(student, **arch))
    for name, shape in param_shapes(**arch).items():
        hint = ("W2 maps the pooled maps, num_filters * (H // 2) * (W // 2) values per image, to hidden_dim."
                if name == "W2" else "see the shapes in the docstring of __init__.")  # fmt: skip
        checks.shape(params[name], shape, f"params[{name!r}]", hint=hint)


@pytest.mark.share(2)
def test_init_statistics(student):
    """Weights start with mean 0 and standard deviation weight_scale; biases start at 0."""
    arch = {"input_dim": (3, 8, 8), "num_filters": 20, "filter_size": 5, "hidden_dim": 40, "num_classes": 10}
    weight_scale = 0.05
    params = get_params(student, build(student, **arch, weight_scale=weight_scale, dtype=np.float64))
    for name, shape in param_shapes(**arch).items():
        value = checks.shape(params[name], shape, f"params[{name!r}]")
        if name.startswith("b"):
            if np.any(value != 0):
                raise checks.Mismatch(f"params[{name!r}] should start at zero.", hint="use np.zeros for the biases.")
            continue
        std, mean = float(np.std(value)), float(np.mean(value))
        hint = "draw weights with weight_scale * np.random.randn(...) (a Gaussian with mean 0 and std 1, scaled)."
        if not 0.85 * weight_scale < std < 1.15 * weight_scale:
            raise checks.Mismatch(f"params[{name!r}] has standard deviation {std:.3g}, but should have about "
                                  f"weight_scale = {weight_scale:g}.", hint)  # fmt: skip
        if abs(mean) > 4 * weight_scale / np.sqrt(value.size):
            raise checks.Mismatch(f"params[{name!r}] has mean {mean:.3g}, but should have mean about 0.", hint)


@pytest.mark.share(1)
def test_default_dtype_is_float32(student, rng):
    """With the default dtype, the parameters and the gradients (of float32 inputs) are float32."""
    params = get_params(student, build(student, **SMALL))
    hint = "cast every parameter with .astype(dtype); the default dtype is np.float32."
    for name in PARAMS:
        value = checks.array(params[name], f"params[{name!r}]")
        if value.dtype != np.float32:
            raise checks.Mismatch(f"params[{name!r}] has dtype {value.dtype}, but should be float32 by default.", hint)
    model = with_params(student, grader_params(rng, dtype=np.float32), reg=0.1, dtype=np.float32)
    X, y = batch(rng, dtype=np.float32)
    _, grads, _ = loss_and_grads(student, model, X, y)
    for name in PARAMS:
        checks.floating(grads[name], f"grads[{name!r}] for float32 parameters and inputs", dtype=np.float32)


@pytest.mark.share(1)
def test_float64_dtype(student, reference, rng):
    """With dtype float64, the parameters, the loss and the gradients are float64 and right."""
    model = build(student, **SMALL, reg=0.2, dtype=np.float64, weight_scale=0.3)
    params = get_params(student, model)
    for name in PARAMS:
        checks.floating(params[name], f"params[{name!r}] with dtype float64", dtype=np.float64)
    X, y = batch(rng)
    loss, grads, _ = loss_and_grads(student, model, X, y)
    ref_loss, ref_grads = reference_model(reference, params, 0.2).loss(X, y)
    checks.close(np.array(loss), ref_loss, "the loss with dtype float64", hint=FORWARD_HINT)
    for name in PARAMS:
        checks.floating(grads[name], f"grads[{name!r}] with dtype float64", dtype=np.float64)
        checks.close(grads[name], ref_grads[name], f"grads[{name!r}] with dtype float64", hint=HINTS[name])


@pytest.mark.share(2)
def test_initial_loss(student, rng):
    """With tiny weights and no regularisation, the loss starts at about log(num_classes)."""
    arch = {"input_dim": (3, 8, 8), "num_filters": 4, "filter_size": 3, "hidden_dim": 10, "num_classes": 7}
    model = build(student, **arch, weight_scale=1e-3, reg=0.0, dtype=np.float64)
    X, y = batch(rng, arch, n=5)
    loss, _, _ = loss_and_grads(student, model, X, y)
    checks.close(np.array(loss), np.log(arch["num_classes"]), "the initial loss", rtol=0, atol=0.01,
                 hint="with scores all about 0, softmax gives every class probability 1 / num_classes: "
                      "use softmax_loss on the scores of the last affine layer.")  # fmt: skip


# --- forward pass and loss, with the grader's parameters -------------------------------


@pytest.mark.share(2)
def test_scores_mode(student, reference, rng):
    """Without labels, loss(X) returns the scores, shape (N, num_classes), and they are right."""
    params = grader_params(rng)
    X, _ = batch(rng, n=4)
    scores = student.call_method(with_params(student, params, reg=0.3), "loss", X).value
    want = reference_model(reference, params, 0.3).loss(X)
    checks.close(scores, want, "the scores returned by loss(X)",
                 hint="when y is None, return the scores of the last affine layer (no softmax, no loss). " + FORWARD_HINT)  # fmt: skip


@pytest.mark.share(2)
def test_loss_without_regularisation(student, reference, rng):
    """The loss is right with reg = 0 (the mean softmax loss of the scores)."""
    params = grader_params(rng)
    X, y = batch(rng)
    loss, _, _ = loss_and_grads(student, with_params(student, params, reg=0.0), X, y)
    want, _ = reference_model(reference, params, 0.0).loss(X, y)
    checks.close(np.array(loss), want, "the loss (reg = 0)", hint=FORWARD_HINT)


@pytest.mark.share(2)
def test_loss_with_regularisation(student, reference, rng):
    """The loss includes exactly 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))."""
    params = grader_params(rng)
    X, y = batch(rng)
    loss, _, _ = loss_and_grads(student, with_params(student, params, reg=0.7), X, y)
    want, _ = reference_model(reference, params, 0.7).loss(X, y)
    checks.close(np.array(loss), want, "the loss (reg = 0.7)",
                 hint="add 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2) + np.sum(W3 ** 2)): "
                      "the weights of all three layers, not the biases, with the factor 0.5.")  # fmt: skip


# --- gradients, with the grader's parameters ---------------------------------------------


@pytest.mark.share(1)
@pytest.mark.parametrize("name", PARAMS)
def test_gradients_without_regularisation(student, reference, tolerances, rng, name):
    """grads['{name}'] is right with reg = 0 (checked against numerical gradients of the loss)."""
    check_gradient(student, reference, tolerances, rng, name, reg=0.0)


@pytest.mark.share(1)
@pytest.mark.parametrize("name", PARAMS)
def test_gradients_with_regularisation(student, reference, tolerances, rng, name):
    """grads['{name}'] is right with reg = 0.5 (checked against numerical gradients of the loss)."""
    check_gradient(student, reference, tolerances, rng, name, reg=0.5)


# --- robustness --------------------------------------------------------------------------


@pytest.mark.share(1)
def test_large_scores_give_a_finite_loss(student, reference, rng):
    """Large weights (scores in the thousands) still give a finite, right loss (a stable softmax)."""
    params = grader_params(rng, scale=30.0)
    X, y = batch(rng)
    loss, _, _ = loss_and_grads(student, with_params(student, params, reg=0.0), X, y)
    want, _ = reference_model(reference, params, 0.0).loss(X, y)
    checks.close(np.array(loss), want, "the loss for large scores",
                 hint="use the provided softmax_loss, which subtracts each row's maximum score before np.exp.")  # fmt: skip


@pytest.mark.share(1)
def test_does_not_modify_inputs(student, reference, rng):
    """loss(X, y) leaves X and y unchanged."""
    params = grader_params(rng)
    X, y = batch(rng)
    model = with_params(student, params, reg=0.1)
    loss, _, result = loss_and_grads(student, model, X.copy(), y.copy(), return_args=True)
    want, _ = reference_model(reference, params, 0.1).loss(X, y)
    checks.close(np.array(loss), want, "the loss (reg = 0.1)", hint=FORWARD_HINT)
    checks.unchanged(X, result.args[0], "X")
    checks.unchanged(y, result.args[1], "y")


@pytest.mark.share(2)
def test_overfits_a_small_batch(student, reference, rng):
    """Trained with the provided Solver on 40 digits, the network learns them all by heart (its trained parameters, run by the reference network, classify at least 90% of them)."""
    digits = reference.get_digits_data(num_training=40, num_validation=40, num_test=0)
    arch = {"input_dim": (1, 28, 28), "num_filters": 8, "filter_size": 5, "hidden_dim": 50, "num_classes": 10}
    params = {k: (v * 0.025 if k.startswith("W") else v * 0).astype(np.float32)
              for k, v in grader_params(rng, arch).items()}  # fmt: skip
    model = build(student, **arch, weight_scale=1e-2)
    student.setattr(model, "params", params)
    # validated on the training digits, the Solver keeps the parameters that classify them best
    small = {"X_train": digits["X_train"], "y_train": digits["y_train"], "X_val": digits["X_train"],
             "y_val": digits["y_train"]}  # fmt: skip
    solver = student.call("Solver", model, small, update_rule="adam", optim_config={"learning_rate": 1e-3},
                          num_epochs=10, batch_size=20, verbose=False, seed=0).value  # fmt: skip
    student.call_method(solver, "train", call_timeout=30)
    # the accuracy the Solver reports is the sandbox's word; the grader runs the trained parameters itself
    trained = get_params(student, model)
    for name, shape in param_shapes(**arch).items():
        checks.shape(checks.floating(trained[name], f"params[{name!r}] after training"), shape,
                     f"params[{name!r}] after training")  # fmt: skip
    scores = reference_model(reference, trained, 0.0, arch).loss(digits["X_train"].astype(np.float64))
    final = float(np.mean(np.argmax(scores, axis=1) == digits["y_train"]))
    if final < 0.9:
        raise checks.Mismatch(f"After 10 epochs of Adam on 40 digits your network's parameters classify {final:.0%} "
                              "of them right (run by the reference network); a correct network learns them all.",
                              hint="check the gradients first (the tests above), then the scores returned by loss(X).")  # fmt: skip
