"""VGG(conv_arch, input_shape, classes, fc_units, dropout) -> keras.Model.

Graded on its own code: while it is built, vgg_block is answered by the grader, which
records each call and returns its input unchanged. The result is a "skeleton" (the
input and the classifier), measured by the grader (the weights it writes and reads
back, the shape of the output it receives) and compared with the reference's skeleton,
built the same way on the same small input; the recorded calls are compared with the
reference's. Dropout is measured too: with weights the grader chooses, the outputs in
training mode reveal how much of the classifier each Dropout keeps. Only the whole-model
check uses the student's own vgg_block (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_architecture, keras_outputs

ARCH, SHAPE, CLASSES, UNITS, RATE = ((1, 4), (2, 8), (3, 16)), (8, 8, 3), 5, 12, 0.3
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
HEAD_HINT = ("after the blocks: Flatten -> Dense(fc_units, ReLU) -> Dropout(dropout) -> Dense(fc_units, ReLU) -> "
             "Dropout(dropout) -> Dense(classes, softmax).")  # fmt: skip
CALLS_HINT = "call vgg_block(X, num_convs, filters) once for each (num_convs, filters) in conv_arch, in order."


def passthrough(arguments):
    return arguments["X"]


def call_of(arguments):
    n, f = arguments.get("num_convs"), arguments.get("filters")
    return (int(n), int(f)) if isinstance(n, (int, np.integer)) and isinstance(f, (int, np.integer)) else (n, f)


def build_skeleton(student, reference, answering, conv_arch, **kwargs):
    """(student's model handle, its vgg_block calls), (reference model, its calls), both with stand-in blocks."""
    log, ref_log = [], []
    with answering(vgg_block=inner_calls.Recorder(reference.vgg_block, passthrough, log)):
        model = student.call("VGG", conv_arch, **kwargs).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"VGG should return a keras.Model, but it returned {checks.describe_type(model)}.")
    with inner_calls.patched(reference.VGG, vgg_block=inner_calls.Recorder(reference.vgg_block, passthrough, ref_log)):
        ref_model = reference.VGG(conv_arch, **kwargs)
    return (model, [call_of(a) for _, a in log]), (ref_model, [call_of(a) for _, a in ref_log])


@pytest.fixture(scope="module")
def skeleton(student, reference, answering, arch):
    """Everything the tests compare, as data (handles don't survive a restarted sandbox)."""
    kwargs = {"input_shape": SHAPE, "classes": CLASSES, "fc_units": UNITS, "dropout": RATE}
    X = np.random.default_rng(16).standard_normal((3, *SHAPE)).astype(np.float32)
    try:
        (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, ARCH, **kwargs)
        measured = keras_architecture.measure(
            student, model, X, "Your VGG's classifier (blocks left out)", training=False
        )
        keras_outputs.give_same_weights(student, model)
        keras_outputs.give_reference_same_weights(ref_model)
        outputs = student.call_method(model, "__call__", X, training=False).value
        kept = dropout_logits(student, model, measured, keras_outputs.reference_shapes(ref_model))
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "model": model,  # for the words of a message only (it may be gone by then)
        "calls": calls,
        "ref_calls": ref_calls,
        "measured": measured,
        "ref_shapes": keras_outputs.reference_shapes(ref_model),
        "ref_output_shape": tuple(np.asarray(ref_model(X, training=False)).shape),
        "ref_keys": arch.reference_keys(ref_model),
        "kept": kept,
        "outputs": outputs,
        "ref_outputs": np.asarray(ref_model(X, training=False)),
    }


def dropout_logits(student, model, measured, ref_shapes):
    """The first logit of 64 outputs in training mode, with weights the grader chooses; None if the
    classifier's weights are not the reference's (the dropout can't be measured then).

    Every unit of the first hidden layer is 1 (zero kernel, bias 1); the second hidden layer's first
    unit takes only the first unit of the first (its only non-zero weight), and the first logit only
    that unit. So the first logit is 1 / (1 - rate)^2 when both Dropouts keep their unit, and 0 when
    either drops it: the values measure the rate, and that there are two Dropouts where they belong.
    """
    if list(measured.shapes) != list(ref_shapes) or len(ref_shapes) != 6:
        return None
    (n_in, units), _, _, _, _, (classes,) = ref_shapes
    w2, w3 = np.zeros((units, units), np.float32), np.zeros((units, classes), np.float32)
    w2[0, 0] = w3[0, 0] = 1.0
    weights = [np.zeros((n_in, units), np.float32), np.ones(units, np.float32), w2, np.zeros(units, np.float32), w3,
               np.zeros(classes, np.float32)]  # fmt: skip
    student.call_method(model, "set_weights", weights)
    X = np.random.default_rng(17).standard_normal((64, *SHAPE)).astype(np.float32)
    p = checks.floating(student.call_method(model, "__call__", X, training=True).value, "your VGG's output")
    if p.shape != (64, classes) or (p <= 0).any():
        return np.full(64, np.nan)
    return np.log(p[:, 0] / p[:, 1])  # the other logits are 0


def get(skeleton, key):
    if "error" in skeleton:
        raise skeleton["error"]
    return skeleton[key]


def compare_calls(calls, expected, what):
    if calls != expected:
        text = ", ".join(f"vgg_block(X, {n}, {f})" for n, f in calls) or "no call at all"
        raise checks.Mismatch(f"{what} calls the blocks as {text}; it should call vgg_block once per entry of "
                              f"conv_arch, in order ({len(expected)} calls).", CALLS_HINT)  # fmt: skip


@pytest.mark.share(2)
def test_block_calls(skeleton):
    """VGG(((1, 4), (2, 8), (3, 16)), ...) calls vgg_block(X, 1, 4), vgg_block(X, 2, 8), vgg_block(X, 3, 16), in order."""
    compare_calls(get(skeleton, "calls"), get(skeleton, "ref_calls"), "Your VGG(((1, 4), (2, 8), (3, 16)), ...)")


@pytest.mark.share(2)
def test_classifier(student, skeleton, arch):
    """The classifier: Flatten, two Dense(fc_units) layers and Dense(classes), with the right shapes and parameters."""
    what = "Your VGG's classifier (blocks left out)"
    keras_architecture.check_measured(student, get(skeleton, "model"), get(skeleton, "measured"), get(skeleton, "ref_shapes"),
                                      get(skeleton, "ref_output_shape"), what, HEAD_HINT,
                                      lambda rows: keras_architecture.compare_chain(arch.keys(rows, what), get(skeleton, "ref_keys"),
                                                                                    what, HEAD_HINT))  # fmt: skip


@pytest.mark.share(1)
def test_dropout(skeleton):
    """A Dropout(dropout) layer after each hidden dense layer, with the rate given (0.3 here): measured in training mode."""
    kept = get(skeleton, "kept")
    if kept is None:
        raise checks.Mismatch("Your classifier's weights are not those of Flatten -> Dense(fc_units) -> "
                              "Dense(fc_units) -> Dense(classes), so its dropout can't be measured.", HEAD_HINT)  # fmt: skip
    both = 1 / (1 - RATE) ** 2  # the first logit when both Dropouts keep their unit
    dropped, kept_both = np.isclose(kept, 0.0, atol=1e-3), np.isclose(kept, both, rtol=1e-3, atol=1e-3)
    # 64 rows: each is both (probability 0.49) or dropped; all alike has a chance below 1e-18
    if not ((dropped | kept_both).all() and dropped.any() and kept_both.any()):
        raise checks.Mismatch(f"In training mode, with weights the grader chose, your classifier does not drop units "
                              f"as two Dropout({RATE}) layers after the hidden dense layers do (each keeps a unit with "
                              f"probability {1 - RATE:g} and scales it by 1 / {1 - RATE:g}).", HEAD_HINT)  # fmt: skip


@pytest.mark.share(1)
def test_outputs_inference(skeleton, tolerances):
    """With the reference's weights (and stand-in blocks), the reference's probabilities in inference mode."""
    what = "the output of your VGG (training=False, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs"), what), get(skeleton, "ref_outputs"), what,
                 hint="ReLU on both hidden dense layers, softmax at the end; " + HEAD_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_other_arguments(student, reference, answering, arch):
    """VGG(((2, 3),), input_shape=(6, 6, 1), classes=3, fc_units=7, dropout=0.1) follows its arguments."""
    kwargs = {"input_shape": (6, 6, 1), "classes": 3, "fc_units": 7, "dropout": 0.1}
    (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, ((2, 3),), **kwargs)
    what = "VGG(((2, 3),), input_shape=(6, 6, 1), classes=3, fc_units=7)"
    compare_calls(calls, ref_calls, what)
    X = np.random.default_rng(6).standard_normal((2, 6, 6, 1)).astype(np.float32)
    arch.check(student, model, ref_model, X, what, "use Input(input_shape), Dense(fc_units, ...) and Dense(classes, ...).",
               training=False)  # fmt: skip


@pytest.mark.share(1)
def test_whole_model(student, reference, skeleton, verdicts, whole_models, tolerances, rng):
    """With your own vgg_block, VGG16's blocks on 32x32x3 images (10 classes, fc_units=64) give the reference's outputs for the same weights (not charged here if vgg_block lost points in its own tests and the rest of your VGG passed)."""
    get(skeleton, "calls")  # the skeleton must build first
    if verdicts.excuse():
        return
    kwargs = {"input_shape": (32, 32, 3), "classes": 10, "fc_units": 64}
    model = student.call("VGG", VGG16, call_timeout=keras_outputs.BUILD_TIMEOUT, **kwargs).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"VGG should return a keras.Model, but it returned {checks.describe_type(model)}.")
    X = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    keras_outputs.whole_model_matches(student, model, whole_models.expected(("VGG", (VGG16,), tuple(kwargs.items())), X, training=False), X,
                                      "With your own vgg_block, VGG(VGG16, input_shape=(32, 32, 3), classes=10, "
                                      "fc_units=64)", "VGG16 here", "is each block applied to the previous block's "
                                      "output? " + CALLS_HINT, tolerances.float32, training=False)  # fmt: skip
