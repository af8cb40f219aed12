"""train_step(model, optimizer, x, y, lam) -> float: one GradientTape step of cross-entropy + L2 on the kernels.

The grader builds a small model (convolution, batch norm, two dense layers) and an SGD
optimiser in the sandbox, and the same model and optimiser here; both models get the
same weights (``keras_models.same_weights``). After train_step on the same batch, the
returned loss and all the weights (batch norm's running averages included) must match
the reference's own train_step.

A wrong l2_penalty costs points in l2_penalty only: a test here that fails passes when
the student's own l2_penalty is wrong on this model's kernels (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_models

SHAPE, CLASSES, BATCH = (6, 6, 2), 4, 8
LAYERS = [("Conv2D", (3, (3, 3)), {"activation": "relu"}), ("BatchNormalization", (), {}), ("Flatten", (), {}),
          ("Dense", (5,), {"activation": "relu"}), ("Dense", (CLASSES,), {"activation": "softmax"})]  # fmt: skip
WEIGHT_NAMES = ["the convolution's kernel", "the convolution's bias", "batch norm's gamma", "batch norm's beta",
                "batch norm's moving mean", "batch norm's moving variance", "the first dense kernel",
                "the first dense bias", "the last dense kernel", "the last dense bias"]  # fmt: skip
HINT = ("under tf.GradientTape: loss = mean sparse categorical cross-entropy of model(x, training=True) against y, "
        "plus l2_penalty of the trainable weights named 'kernel'; then optimizer.apply_gradients(zip(grads, "
        "model.trainable_weights)) with the gradients of that loss.")  # fmt: skip
LOSS_HINT = "return the loss computed under the tape (cross-entropy plus penalty, before the update) as a float."
PENALTY_HINT = ("penalise only the kernels ([w for w in model.trainable_weights if w.name == 'kernel']), not the "
                "biases or batch norm's gamma and beta; " + HINT)  # fmt: skip
BN_HINT = (
    "call the model with training=True, so that batch norm uses (and updates its averages with) the batch's statistics."
)


def sandbox_model(student):
    X = student.call("Input", shape=SHAPE).value
    Y = X
    for name, args, kwargs in LAYERS:
        layer = student.call(name, *args, **kwargs).value
        Y = student.call_method(layer, "__call__", Y).value
    return student.call("Model", inputs=X, outputs=Y).value


def reference_model():
    import keras

    X = keras.Input(SHAPE)
    Y = X
    for name, args, kwargs in LAYERS:
        Y = getattr(keras.layers, name)(*args, **kwargs)(Y)
    return keras.Model(X, Y)


def run(student, reference, rng, lam, lr=0.1, momentum=0.0, steps=1):
    """The student's and the reference's losses and weights after ``steps`` train_steps on one batch."""
    import keras

    model, ref = sandbox_model(student), reference_model()
    keras_models.give_same_weights(student, model)
    keras_models.give_reference_same_weights(ref)
    optimizer = student.call("SGD", learning_rate=lr, momentum=momentum).value
    ref_optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    x = (1 + rng.standard_normal((BATCH, *SHAPE))).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    losses, ref_losses = [], []
    for _ in range(steps):
        value = student.call("train_step", model, optimizer, x, y, lam).value
        losses.append(checks.scalar(value, "train_step(...)", LOSS_HINT))
        ref_losses.append(reference.train_step(ref, ref_optimizer, x, y, lam))
    weights = student.call_method(model, "get_weights").value
    if not isinstance(weights, list) or len(weights) != len(WEIGHT_NAMES):
        raise checks.Mismatch("After train_step, the model's get_weights() is not the list of its 10 weight arrays.")
    return {"model": model, "lam": lam, "losses": losses, "ref_losses": ref_losses, "weights": weights,
            "ref_weights": ref.get_weights()}  # fmt: skip


def l2_penalty_is_wrong(student, reference, model, lam):
    """Is the student's own l2_penalty wrong on this model's kernels (as arrays, or as its variables)?"""
    try:
        variables = student.getattr(model, "trainable_weights")
        kernels = [v for v in variables if student.getattr(v, "name") == "kernel"]
        values = [student.call_method(v, "numpy").value for v in kernels]
        want = float(reference.l2_penalty(values, lam))
        for weights in (values, kernels):
            got = checks.scalar(student.call("l2_penalty", weights, lam).value, "l2_penalty(kernels, lam)")
            if not np.isclose(got, want, rtol=1e-4, atol=1e-7):
                return True
    except (checks.StudentCodeError, checks.Mismatch):
        return True
    return False


def judged(student, reference, result, check):
    """Run ``check``; a failure caused by the student's own l2_penalty is not charged here."""
    try:
        check()
    except checks.Mismatch:
        if l2_penalty_is_wrong(student, reference, result["model"], result["lam"]):
            return
        raise


def compare_losses(result, tolerances, what):
    checks.close(np.array(result["losses"]), np.array(result["ref_losses"]), what, hint=LOSS_HINT + " " + HINT,
                 **tolerances.float32)  # fmt: skip


def compare_weights(result, tolerances, what, hint, indices=None):
    for i in indices if indices is not None else range(len(WEIGHT_NAMES)):
        checks.close(checks.floating(result["weights"][i], f"{WEIGHT_NAMES[i]} {what}"), result["ref_weights"][i],
                     f"{WEIGHT_NAMES[i]} {what}", hint=hint, **tolerances.float32)  # fmt: skip


@pytest.mark.points(2)
def test_returns_the_loss(student, reference, tolerances, rng):
    """The loss it returns: the batch's mean cross-entropy plus the L2 penalty of the kernels (lam = 0.01), before the update."""
    result = run(student, reference, rng, lam=0.01)
    judged(
        student,
        reference,
        result,
        lambda: compare_losses(result, tolerances, "the loss train_step returns (lam = 0.01)"),
    )


@pytest.mark.points(3)
def test_weights_after_one_step(student, reference, tolerances, rng):
    """After one SGD step (learning rate 0.1, lam = 0.01), every weight of the model equals the reference's."""
    result = run(student, reference, rng, lam=0.01)
    judged(student, reference, result,
           lambda: compare_weights(result, tolerances, "after one train_step (SGD, lr 0.1, lam 0.01)", HINT))  # fmt: skip


@pytest.mark.points(1)
def test_without_penalty(student, reference, tolerances, rng):
    """With lam = 0: the plain cross-entropy step (loss and weights)."""
    result = run(student, reference, rng, lam=0.0)

    def check():
        compare_losses(result, tolerances, "the loss train_step returns (lam = 0)")
        compare_weights(result, tolerances, "after one train_step with lam = 0", HINT)

    judged(student, reference, result, check)


@pytest.mark.points(2)
def test_penalty_on_kernels_only(student, reference, tolerances, rng):
    """With a strong penalty (lam = 0.5) only the kernels decay: biases, gamma and beta move with the cross-entropy alone."""
    result = run(student, reference, rng, lam=0.5)
    judged(student, reference, result,
           lambda: compare_weights(result, tolerances, "after one train_step with lam = 0.5", PENALTY_HINT))  # fmt: skip


@pytest.mark.points(1)
def test_batch_norm_in_training_mode(student, reference, tolerances, rng):
    """Batch norm runs in training mode: its running mean and variance move towards the batch's statistics."""
    result = run(student, reference, rng, lam=0.01)
    judged(student, reference, result,
           lambda: compare_weights(result, tolerances, "after one train_step", BN_HINT, indices=(4, 5)))  # fmt: skip


@pytest.mark.points(1)
def test_two_steps_with_momentum(student, reference, tolerances, rng):
    """Two steps of SGD with momentum 0.9 (the optimiser keeps its state): both losses and the final weights."""
    result = run(student, reference, rng, lam=0.01, lr=0.05, momentum=0.9, steps=2)

    def check():
        compare_losses(result, tolerances, "the losses of two train_steps")
        compare_weights(result, tolerances, "after two train_steps with momentum", HINT)

    judged(student, reference, result, check)
