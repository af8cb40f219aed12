"""train_step(model, optimizer, x, y, lam) -> float: one GradientTape step of cross-entropy + L2 on the kernels.

The grader builds a small model (convolution, batch norm, two dense layers) and an SGD
optimiser in the sandbox, and the same model and optimiser here; both models get the
same weights (``keras_outputs.give_same_weights``). After train_step on the same batch, the
returned loss and all the weights (batch norm's running averages included) must match
the reference's own train_step.

A wrong l2_penalty costs points in l2_penalty only, on graded evidence alone: l2_penalty
is graded on this model's starting kernels, as Keras variables (``test_l2_penalty.py``,
``kernel_penalties`` in conftest.py). Where that graded value is wrong, the loss must be
the cross-entropy plus *that* value, the kernels (which follow the penalty's gradient) are
not compared, and every other weight is: biases, gamma, beta and the running averages
don't depend on the penalty. A value train_step's own l2_penalty call gives differently
from the graded one is never excused: the step's results then differ from both.
"""

import numpy as np
import pytest

from autograder.kit import checks, keras_outputs

BATCH = 8
WEIGHT_NAMES = ["the convolution's kernel", "the convolution's bias", "batch norm's gamma", "batch norm's beta",
                "batch norm's moving mean", "batch norm's moving variance", "the first dense kernel",
                "the first dense bias", "the last dense kernel", "the last dense bias"]  # fmt: skip
KERNELS = (0, 6, 8)  # their indices in get_weights(): what the penalty moves
NOT_KERNELS = tuple(i for i in range(len(WEIGHT_NAMES)) if i not in KERNELS)
HINT = ("under tf.GradientTape: loss = mean sparse categorical cross-entropy of model(x, training=True) against y, "
        "plus l2_penalty of the trainable weights named 'kernel'; then optimizer.apply_gradients(zip(grads, "
        "model.trainable_weights)) with the gradients of that loss.")  # fmt: skip
LOSS_HINT = "return the loss computed under the tape (cross-entropy plus penalty, before the update) as a float."
PENALTY_HINT = ("penalise only the kernels ([w for w in model.trainable_weights if w.name == 'kernel']), not the "
                "biases or batch norm's gamma and beta; " + HINT)  # fmt: skip
BN_HINT = (
    "call the model with training=True, so that batch norm uses (and updates its averages with) the batch's statistics."
)
EXCUSED = " (your l2_penalty was wrong on these kernels in its own test, so the kernels are not compared here)"
LOSS_EXCUSED = (" (your l2_penalty was wrong on these kernels in its own test, so this is compared with the "
                "cross-entropy plus the value your l2_penalty gave there)")  # fmt: skip


def sandbox_model(student, train_model):
    X = student.call("Input", shape=train_model.shape).value
    Y = X
    for name, args, kwargs in train_model.layers:
        layer = student.call(name, *args, **kwargs).value
        Y = student.call_method(layer, "__call__", Y).value
    return student.call("Model", inputs=X, outputs=Y).value


def run(student, reference, train_model, rng, lam, lr=0.1, momentum=0.0, steps=1):
    """The student's and the reference's losses and weights after ``steps`` train_steps on one batch."""
    import keras

    model, ref = sandbox_model(student, train_model), train_model.reference_model()
    keras_outputs.give_same_weights(student, model)
    keras_outputs.give_reference_same_weights(ref)
    optimizer = student.call("SGD", learning_rate=lr, momentum=momentum).value
    ref_optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    x = (1 + rng.standard_normal((BATCH, *train_model.shape))).astype(np.float32)
    y = rng.integers(0, train_model.classes, BATCH)
    losses, ref_losses = [], []
    for _ in range(steps):
        value = student.call("train_step", model, optimizer, x, y, lam).value
        losses.append(checks.scalar(value, "train_step(...)", LOSS_HINT))
        ref_losses.append(reference.train_step(ref, ref_optimizer, x, y, lam))
    weights = student.call_method(model, "get_weights").value
    if not isinstance(weights, list) or len(weights) != len(WEIGHT_NAMES):
        raise checks.Mismatch("After train_step, the model's get_weights() is not the list of its 10 weight arrays.")
    return {"lam": lam, "losses": losses, "ref_losses": ref_losses, "weights": weights,
            "ref_weights": ref.get_weights()}  # fmt: skip


def graded_penalty(kernel_penalties, lam):
    """l2_penalty's own graded value on this model's starting kernels, if it was wrong there; else None.

    (value, reference's value); value is None if l2_penalty gave no number there. Only what
    test_l2_penalty found is used: nothing here calls l2_penalty.
    """
    found = kernel_penalties.graded(lam)
    if found is None:  # l2_penalty's tests did not run in this grading: nothing excuses
        return None
    got, want, _ = found
    if got is not None and np.isclose(got, want, rtol=1e-4, atol=1e-7):
        return None
    return got, want


def compare_losses(result, tolerances, what, penalty=None):
    """The losses; with l2_penalty's wrong graded ``penalty``, the first loss is the cross-entropy plus it."""
    if penalty is None:
        checks.close(np.array(result["losses"]), np.array(result["ref_losses"]), what, hint=LOSS_HINT + " " + HINT,
                     **tolerances.float32)  # fmt: skip
        return
    got, want = penalty
    if got is None:
        raise checks.Mismatch(f"{what}: your l2_penalty gave no value on these kernels in its own test, so the loss "
                              "can't be checked; see l2_penalty's tests.")  # fmt: skip
    expected = result["ref_losses"][0] - want + got  # the cross-entropy plus your l2_penalty's graded value
    checks.close(np.array(result["losses"][0]), np.array(expected), what + LOSS_EXCUSED, hint=LOSS_HINT + " " + HINT,
                 **tolerances.float32)  # fmt: skip


def compare_weights(result, tolerances, what, hint, indices=None):
    for i in indices if indices is not None else range(len(WEIGHT_NAMES)):
        checks.close(checks.floating(result["weights"][i], f"{WEIGHT_NAMES[i]} {what}"), result["ref_weights"][i],
                     f"{WEIGHT_NAMES[i]} {what}", hint=hint, **tolerances.float32)  # fmt: skip


def step_weights(result, tolerances, what, hint, penalty):
    """All the weights after the step, or (with l2_penalty's wrong graded ``penalty``) all but the kernels."""
    if penalty is None:
        compare_weights(result, tolerances, what, hint)
    else:
        compare_weights(result, tolerances, what + EXCUSED, hint, indices=NOT_KERNELS)


@pytest.mark.share(2)
def test_returns_the_loss(student, reference, train_model, kernel_penalties, tolerances, rng):
    """The loss it returns: the batch's mean cross-entropy plus the L2 penalty of the kernels (lam = 0.01), before the update."""
    result = run(student, reference, train_model, rng, lam=0.01)
    compare_losses(
        result, tolerances, "the loss train_step returns (lam = 0.01)", graded_penalty(kernel_penalties, 0.01)
    )


@pytest.mark.share(3)
def test_weights_after_one_step(student, reference, train_model, kernel_penalties, tolerances, rng):
    """After one SGD step (learning rate 0.1, lam = 0.01), every weight of the model equals the reference's."""
    result = run(student, reference, train_model, rng, lam=0.01)
    step_weights(result, tolerances, "after one train_step (SGD, lr 0.1, lam 0.01)", HINT,
                 graded_penalty(kernel_penalties, 0.01))  # fmt: skip


@pytest.mark.share(1)
def test_without_penalty(student, reference, train_model, kernel_penalties, tolerances, rng):
    """With lam = 0: the plain cross-entropy step (loss and weights)."""
    result = run(student, reference, train_model, rng, lam=0.0)
    penalty = graded_penalty(kernel_penalties, 0.0)
    compare_losses(result, tolerances, "the loss train_step returns (lam = 0)", penalty)
    step_weights(result, tolerances, "after one train_step with lam = 0", HINT, penalty)


@pytest.mark.share(2)
def test_penalty_on_kernels_only(student, reference, train_model, kernel_penalties, tolerances, rng):
    """With a strong penalty (lam = 0.5) only the kernels decay: biases, gamma and beta move with the cross-entropy alone."""
    result = run(student, reference, train_model, rng, lam=0.5)
    step_weights(result, tolerances, "after one train_step with lam = 0.5", PENALTY_HINT,
                 graded_penalty(kernel_penalties, 0.5))  # fmt: skip


@pytest.mark.share(1)
def test_batch_norm_in_training_mode(student, reference, train_model, tolerances, rng):
    """Batch norm runs in training mode: its running mean and variance move towards the batch's statistics."""
    result = run(student, reference, train_model, rng, lam=0.01)
    compare_weights(result, tolerances, "after one train_step", BN_HINT, indices=(4, 5))  # never the penalty's


@pytest.mark.share(1)
def test_two_steps_with_momentum(student, reference, train_model, kernel_penalties, tolerances, rng):
    """Two steps of SGD with momentum 0.9 (the optimiser keeps its state): both losses and the final weights."""
    result = run(student, reference, train_model, rng, lam=0.01, lr=0.05, momentum=0.9, steps=2)
    penalty = graded_penalty(kernel_penalties, 0.01)
    # with l2_penalty's graded value wrong, the second step starts from kernels that followed its gradient:
    # only the first loss can still be checked
    compare_losses(result, tolerances, "the losses of two train_steps", penalty)
    if penalty is None:
        compare_weights(result, tolerances, "after two train_steps with momentum", HINT)
