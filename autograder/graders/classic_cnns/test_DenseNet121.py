"""DenseNet121(input_shape=(224, 224, 3), classes=1000) -> keras.Model.

Graded on its own code: while it is built, dense_block and transition_layer are answered
by the grader, which records each call and returns its input unchanged. The result is a
"skeleton" (stem and head only), built on 32x32x3 images with 5 classes, measured by the
grader (the weights it writes and reads back, in order: the stem's first, the head's
last; the shape of the output it receives) and compared with the reference's skeleton,
built the same way; the recorded calls are compared with the reference's. Only the
whole-model check uses the student's own blocks (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_architecture, keras_outputs

SHAPE, CLASSES = (32, 32, 3), 5
BLOCKS = ("dense_block", "transition_layer")
STEM_HINT = ("stem: ZeroPadding2D(3) -> Conv2D(64, 7x7, strides=2, use_bias=False) -> BatchNormalization() -> ReLU "
             "-> ZeroPadding2D(1) -> MaxPooling2D(3x3, strides=2).")  # fmt: skip
HEAD_HINT = "head: BatchNormalization() -> ReLU -> GlobalAveragePooling2D() -> Dense(classes, softmax)."
CALLS_HINT = ("dense_block(X, 6, 32), transition_layer(X, 0.5), dense_block(X, 12, 32), transition_layer(X, 0.5), "
              "dense_block(X, 24, 32), transition_layer(X, 0.5), dense_block(X, 16, 32); no transition after the last block.")  # fmt: skip


def passthrough(arguments):
    return arguments["X"]


def normalise(kind, arguments):
    if kind == "dense_block":
        return (kind, arguments.get("num_layers"), arguments.get("growth_rate"))
    return (kind, arguments.get("compression"))


def call_text(call):
    if call[0] == "dense_block":
        return f"dense_block(X, {call[1]!r}, {call[2]!r})"
    return f"transition_layer(X, {call[1]!r})"


def recorders(reference, answer, log):
    return {name: inner_calls.Recorder(getattr(reference, name), answer, log) for name in BLOCKS}


def build_skeleton(student, reference, answering, input_shape, classes):
    """Student's (model handle, calls) and reference's (model, calls), with stand-in blocks."""
    log, ref_log = [], []
    with answering(**recorders(reference, passthrough, log)):
        model = student.call("DenseNet121", input_shape=input_shape, classes=classes).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(
            f"DenseNet121 should return a keras.Model, but it returned {checks.describe_type(model)}."
        )
    with inner_calls.patched(reference.DenseNet121, **recorders(reference, passthrough, ref_log)):
        ref_model = reference.DenseNet121(input_shape=input_shape, classes=classes)
    return (model, [normalise(k, a) for k, a in log]), (ref_model, [normalise(k, a) for k, a in ref_log])


@pytest.fixture(scope="module")
def skeleton(student, reference, answering, arch):
    """Everything the tests compare, as data (handles don't survive a restarted sandbox)."""
    X = (1 + 2 * np.random.default_rng(121).standard_normal((4, *SHAPE))).astype(np.float32)
    try:
        (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, SHAPE, CLASSES)
        measured = keras_architecture.measure(student, model, X, "Your DenseNet121 (blocks left out)", training=False)
        keras_outputs.give_same_weights(student, model)
        keras_outputs.give_reference_same_weights(ref_model)
        outputs = {t: student.call_method(model, "__call__", X, training=t).value for t in (False, True)}
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "model": model,  # for the words of a message only (it may be gone by then)
        "measured": measured,
        "calls": calls,
        "reference": keras_architecture.skeleton_of(ref_model, X, arch.reference_keys(ref_model)),
        "ref_calls": ref_calls,
        "outputs": outputs,
        "ref_outputs": {t: np.asarray(ref_model(X, training=t)) for t in (False, True)},
    }


def get(skeleton, key):
    if "error" in skeleton:
        raise skeleton["error"]
    return skeleton[key]


def part_matches(student, skeleton, arch, part, what, hint):
    """The skeleton's stem or head, as the grader measured it (``keras_architecture.part_matches``)."""
    keras_architecture.part_matches(student, get(skeleton, "model"), get(skeleton, "measured"), get(skeleton, "reference"),
                                    part, what, hint, lambda rows: arch.keys(rows, what))  # fmt: skip


@pytest.mark.share(2)
def test_stem(student, skeleton, arch):
    """Zero padding 3, a 7x7 convolution with stride 2 and no bias, batch norm, zero padding 1 and a 3x3 max pooling with stride 2."""
    part_matches(student, skeleton, arch, "stem", "Your DenseNet121's stem", STEM_HINT)


@pytest.mark.share(2)
def test_block_calls(skeleton):
    """Dense blocks of 6, 12, 24 and 16 layers with growth rate 32, and a transition layer with compression 0.5 between two blocks."""
    calls, expected = get(skeleton, "calls"), get(skeleton, "ref_calls")
    for i, want in enumerate(expected):
        if i >= len(calls):
            raise checks.Mismatch(f"Your DenseNet121 calls the blocks {len(calls)} times; it should call them "
                                  f"{len(expected)} times. Call {i + 1} should be {call_text(want)}.", CALLS_HINT)  # fmt: skip
        if calls[i] != want:
            raise checks.Mismatch(f"Call {i + 1} of your DenseNet121 should be {call_text(want)}, but yours is "
                                  f"{call_text(calls[i])}.", CALLS_HINT)  # fmt: skip
    if len(calls) > len(expected):
        raise checks.Mismatch(f"Your DenseNet121 calls the blocks {len(calls)} times; it should call them "
                              f"{len(expected)} times.", CALLS_HINT)  # fmt: skip


@pytest.mark.share(1)
def test_head(student, skeleton, arch):
    """The head: batch norm, global average pooling and Dense(classes), with the right shapes."""
    part_matches(student, skeleton, arch, "head", "Your DenseNet121's head", HEAD_HINT)


@pytest.mark.share(1)
def test_outputs_inference(skeleton, tolerances):
    """With the reference's weights (and stand-in blocks), the reference's probabilities in inference mode."""
    what = "the output of your DenseNet121 (training=False, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[False], what), get(skeleton, "ref_outputs")[False], what,
                 hint=STEM_HINT + " " + HEAD_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_outputs_training(skeleton, tolerances):
    """The same in training mode (batch norm on the batch's statistics)."""
    what = "the output of your DenseNet121 (training=True, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[True], what), get(skeleton, "ref_outputs")[True], what,
                 hint="don't fix the batch norms' mode (no training=False); " + STEM_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_whole_model(student, skeleton, verdicts, whole_models, tolerances, rng):
    """With your own blocks, the whole DenseNet-121 (8,062,504 parameters, on 32x32x3 images with 1000 classes) gives the reference's outputs for the same weights (not charged here if your blocks lost points in their own tests and the rest of your DenseNet121 passed)."""
    get(skeleton, "calls")  # the skeleton must build first
    if verdicts.excuse():
        return
    model = student.call("DenseNet121", input_shape=SHAPE, classes=1000, call_timeout=keras_outputs.BUILD_TIMEOUT).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(
            f"DenseNet121 should return a keras.Model, but it returned {checks.describe_type(model)}."
        )
    X = (1 + 2 * rng.standard_normal((2, *SHAPE))).astype(np.float32)
    expected = whole_models.expected(
        ("DenseNet121", (), (("input_shape", SHAPE), ("classes", 1000))), X, training=False
    )
    keras_outputs.whole_model_matches(student, model, expected, X, "With your own blocks, your DenseNet121", "DenseNet-121",
                                      CALLS_HINT, tolerances.float32, training=False)  # fmt: skip
