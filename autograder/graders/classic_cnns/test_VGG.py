"""VGG(conv_arch, input_shape, classes, fc_units, dropout) -> keras.Model.

Graded on its own code: while it is built, vgg_block is answered by the grader, which
records each call and returns its input unchanged. The result is a "skeleton" (the
input and the classifier) that is compared with the reference's skeleton, built the
same way on the same small input; the recorded calls are compared with the reference's.
Only the parameter count uses the student's own vgg_block (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_models

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
    if not keras_models.is_model_ref(model):
        raise checks.Mismatch(f"VGG should return a keras.Model, but it returned {checks.describe_type(model)}.")
    with inner_calls.patched(reference.VGG, vgg_block=inner_calls.Recorder(reference.vgg_block, passthrough, ref_log)):
        ref_model = reference.VGG(conv_arch, **kwargs)
    return (model, [call_of(a) for _, a in log]), (ref_model, [call_of(a) for _, a in ref_log])


@pytest.fixture(scope="module")
def skeleton(student, reference, answering, arch):
    """Everything the tests compare, as data (handles don't survive a restarted sandbox)."""
    kwargs = {"input_shape": SHAPE, "classes": CLASSES, "fc_units": UNITS, "dropout": RATE}
    try:
        (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, ARCH, **kwargs)
        rows = student.describe(model)
        keys = arch.keys(rows, "Your VGG")
        layers = student.getattr(model, "layers")
        rates = [student.getattr(layer, "rate") for layer, row in zip(layers, rows, strict=False)
                 if isinstance(row, dict) and row.get("class") == "Dropout"]  # fmt: skip
        X = np.random.default_rng(16).standard_normal((3, *SHAPE)).astype(np.float32)
        keras_models.give_same_weights(student, model)
        keras_models.give_reference_same_weights(ref_model)
        outputs = student.call_method(model, "__call__", X, training=False).value
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "calls": calls,
        "ref_calls": ref_calls,
        "rows": rows,
        "keys": keys,
        "ref_keys": arch.reference_keys(ref_model),
        "rates": rates,
        "ref_classes": [type(layer).__name__ for layer in ref_model.layers],
        "outputs": outputs,
        "ref_outputs": np.asarray(ref_model(X, training=False)),
    }


def get(skeleton, key):
    if "error" in skeleton:
        raise skeleton["error"]
    return skeleton[key]


def compare_calls(calls, expected, what):
    if calls != expected:
        text = ", ".join(f"vgg_block(X, {n}, {f})" for n, f in calls) or "no call at all"
        raise checks.Mismatch(f"{what} calls the blocks as {text}; it should call vgg_block once per entry of "
                              f"conv_arch, in order ({len(expected)} calls).", CALLS_HINT)  # fmt: skip


def head_layers(classes):
    return [c for c in classes if c in ("Flatten", "Dense", "Dropout")]


@pytest.mark.points(2)
def test_block_calls(skeleton):
    """VGG(((1, 4), (2, 8), (3, 16)), ...) calls vgg_block(X, 1, 4), vgg_block(X, 2, 8), vgg_block(X, 3, 16), in order."""
    compare_calls(get(skeleton, "calls"), get(skeleton, "ref_calls"), "Your VGG(((1, 4), (2, 8), (3, 16)), ...)")


@pytest.mark.points(2)
def test_classifier(skeleton):
    """The classifier: Flatten, two Dense(fc_units) layers and Dense(classes), with the right shapes and parameters."""
    keras_models.compare_chain(get(skeleton, "keys"), get(skeleton, "ref_keys"), "Your VGG's classifier (blocks left out)",
                               HEAD_HINT)  # fmt: skip


@pytest.mark.points(1)
def test_dropout(skeleton):
    """A Dropout(dropout) layer after each hidden dense layer, with the rate given (0.3 here)."""
    mine = head_layers([r.get("class") for r in get(skeleton, "rows") if isinstance(r, dict)])
    want = head_layers(get(skeleton, "ref_classes"))
    if mine != want:
        raise checks.Mismatch(f"Your classifier's layers are {' -> '.join(mine) or 'none'}; they should be "
                              f"{' -> '.join(want)}.", HEAD_HINT)  # fmt: skip
    rates = get(skeleton, "rates")
    if not all(isinstance(r, float) and abs(r - RATE) < 1e-9 for r in rates):
        raise checks.Mismatch(f"VGG(..., dropout={RATE}) has Dropout layers with rates {rates}; use Dropout(dropout).")


@pytest.mark.points(1)
def test_outputs_inference(skeleton, tolerances):
    """With the reference's weights (and stand-in blocks), the reference's probabilities in inference mode."""
    what = "the output of your VGG (training=False, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs"), what), get(skeleton, "ref_outputs"), what,
                 hint="ReLU on both hidden dense layers, softmax at the end; " + HEAD_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.points(1)
def test_other_arguments(student, reference, answering, arch):
    """VGG(((2, 3),), input_shape=(6, 6, 1), classes=3, fc_units=7, dropout=0.1) follows its arguments."""
    kwargs = {"input_shape": (6, 6, 1), "classes": 3, "fc_units": 7, "dropout": 0.1}
    (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, ((2, 3),), **kwargs)
    what = "VGG(((2, 3),), input_shape=(6, 6, 1), classes=3, fc_units=7)"
    compare_calls(calls, ref_calls, what)
    keras_models.compare_chain(arch.student_keys(student, model, what), arch.reference_keys(ref_model), what,
                               "use Input(input_shape), Dense(fc_units, ...) and Dense(classes, ...).")  # fmt: skip


@pytest.mark.points(1)
def test_parameter_count(student, reference, skeleton, expected_counts):
    """With your own vgg_block, VGG16's blocks on 32x32x3 images (10 classes, fc_units=64) have the reference's parameter count (a difference caused by vgg_block costs points there, not here)."""
    get(skeleton, "calls")  # the skeleton must build first
    kwargs = {"input_shape": (32, 32, 3), "classes": 10, "fc_units": 64}
    want = expected_counts[("VGG", (VGG16,), tuple(kwargs.items()))]
    problem = None
    try:
        model = student.call("VGG", VGG16, call_timeout=keras_models.BUILD_TIMEOUT, **kwargs).value
        got = keras_models.model_counts(student, model)
    except (checks.StudentCodeError, checks.Mismatch) as e:
        got, problem = None, e
    if got == want or keras_models.own_blocks_differ(
        student, reference, "VGG", ("vgg_block",), VGG16, keep=("num_convs", "filters"), **kwargs
    ):
        return
    if problem is not None:
        raise problem
    raise checks.Mismatch(f"With your own vgg_block, VGG(VGG16, input_shape=(32, 32, 3), classes=10, fc_units=64) has "
                          f"{got[0]:,} parameters; it should have {want[0]:,}. Your vgg_block has the right sizes, so the "
                          "difference is in VGG itself: is each block applied to the previous block's output?",
                          CALLS_HINT)  # fmt: skip
