"""ResNet50(input_shape=(64, 64, 3), classes=6) -> keras.Model.

Graded on its own code: while it is built, identity_block and convolutional_block are
answered by the grader, which records each call and returns its input unchanged. The
result is a "skeleton" (stem and head only), measured by the grader (the weights it writes
and reads back, in order: the stem's first, the head's last; the shape of the output it
receives) and compared with the reference's skeleton, built the same way; the recorded
calls are compared with the reference's (each recorded as a bounded summary: see
``kit/inner_calls.py``). Only the whole-model check uses the student's own blocks (see
conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_architecture, keras_outputs

SHAPE, CLASSES = (64, 64, 3), 6
STEM_HINT = ("stage 1: ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) (padding 'valid') -> "
             "BatchNormalization(axis=3) -> ReLU -> MaxPooling2D((3, 3), strides=(2, 2)).")  # fmt: skip
HEAD_HINT = "head: AveragePooling2D((2, 2)) -> Flatten() -> Dense(classes, activation='softmax')."
STAGES_HINT = ("stages 2 to 5: a convolutional_block (f=3, s=1 for stage 2, s=2 after) followed by 2, 3, 5 and 2 "
               "identity_blocks with filters [64, 64, 256], [128, 128, 512], [256, 256, 1024], [512, 512, 2048].")  # fmt: skip


def passthrough(arguments):
    return arguments["X"]


def normalise(call, kind):
    """What is compared of one recorded block call (a summary already: nothing here expands it)."""
    filters = call.get("filters")
    out = {
        "kind": kind,
        "f": call.get("f"),
        "filters": tuple(filters) if isinstance(filters, (list, tuple)) else filters,
        "training": call.get("training"),
    }
    if kind == "convolutional_block":
        out["s"] = call.get("s")
    return out


def call_text(call):
    filters = call["filters"]
    text = f"{call['kind']}(X, f={call['f']!r}, filters={list(filters) if isinstance(filters, tuple) else filters!r}"
    if "s" in call:
        text += f", s={call['s']!r}"
    if call["training"] is not True:
        text += f", training={call['training']!r}"
    return text + ")"


def recorders(reference, answer, log):
    return {
        name: inner_calls.Recorder(getattr(reference, name), answer, log)
        for name in ("identity_block", "convolutional_block")
    }


def build_skeleton(student, reference, answering, input_shape, classes):
    """Student's and reference's skeletons: (model handle, calls) and (model, calls)."""
    log = []
    with answering(**recorders(reference, passthrough, log)):
        model = student.call("ResNet50", input_shape=input_shape, classes=classes).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"ResNet50 should return a keras.Model, but it returned {checks.describe_type(model)}.")
    ref_log = []
    with inner_calls.patched(reference.ResNet50, **recorders(reference, passthrough, ref_log)):
        ref_model = reference.ResNet50(input_shape=input_shape, classes=classes)
    calls = [normalise(arguments, kind) for kind, arguments in log]
    ref_calls = [normalise(arguments, kind) for kind, arguments in ref_log]
    return (model, calls), (ref_model, ref_calls)


@pytest.fixture(scope="module")
def skeleton(student, reference, answering):
    """Everything the tests compare, as data (handles don't survive a restarted sandbox)."""
    X = np.random.default_rng(50).standard_normal((3, *SHAPE)).astype(np.float32)
    try:
        (model, calls), (ref_model, ref_calls) = build_skeleton(student, reference, answering, SHAPE, CLASSES)
        measured = keras_architecture.measure(student, model, X, "Your ResNet50 (blocks left out)", training=False)
        keras_outputs.give_same_weights(student, model)
        keras_outputs.give_reference_same_weights(ref_model)
        outputs = {t: student.call_method(model, "__call__", X, training=t).value for t in (False, True)}
        ref_outputs = {t: np.asarray(ref_model(X, training=t)) for t in (False, True)}
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "model": model,  # for the words of a message only (it may be gone by then)
        "measured": measured,
        "calls": calls,
        "reference": keras_architecture.skeleton_of(ref_model, X, keras_architecture.reference_structure(ref_model)),
        "ref_calls": ref_calls,
        "outputs": outputs,
        "ref_outputs": ref_outputs,
    }


def get(skeleton, key):
    if "error" in skeleton:
        raise skeleton["error"]
    return skeleton[key]


def part_matches(student, skeleton, part, what, hint):
    """The skeleton's stem or head, as the grader measured it (``keras_architecture.part_matches``)."""
    keras_architecture.part_matches(student, get(skeleton, "model"), get(skeleton, "measured"), get(skeleton, "reference"),
                                    part, what, hint, lambda rows: keras_architecture.structure(rows, what))  # fmt: skip


@pytest.mark.share(2)
def test_stem(student, skeleton):
    """Input, zero padding, 7x7 convolution with stride 2, batch norm and max pooling, with the right shapes."""
    part_matches(student, skeleton, "stem", "Your ResNet50's stem", STEM_HINT)


@pytest.mark.share(4)
def test_stages(skeleton):
    """Stages 2 to 5: the blocks are called in the right order, with the right f, filters and s."""
    calls, expected = get(skeleton, "calls"), get(skeleton, "ref_calls")
    if not calls:
        raise checks.Mismatch(
            "Your ResNet50 never calls convolutional_block or identity_block: build the stages with them.", STAGES_HINT
        )
    stage = 1
    for i, want in enumerate(expected):
        stage += want["kind"] == "convolutional_block"
        if i >= len(calls):
            raise checks.Mismatch(f"Your ResNet50 calls the blocks {len(calls)} times; ResNet50 has {len(expected)} blocks. "
                                  f"Block {i + 1} (stage {stage}) should be {call_text(want)}.", STAGES_HINT)  # fmt: skip
        if calls[i] != want:
            raise checks.Mismatch(
                f"Block {i + 1} (stage {stage}) should be {call_text(want)}, but yours is {call_text(calls[i])}.",
                STAGES_HINT,
            )
    if len(calls) > len(expected):
        raise checks.Mismatch(
            f"Your ResNet50 calls the blocks {len(calls)} times; ResNet50 has {len(expected)} blocks.", STAGES_HINT
        )


@pytest.mark.share(2)
def test_head(student, skeleton):
    """Average pooling 2x2, flatten, and a dense softmax layer with `classes` units."""
    part_matches(student, skeleton, "head", "Your ResNet50's head", HEAD_HINT)


@pytest.mark.share(2)
def test_outputs_inference(skeleton, tolerances):
    """With the reference's weights, the stem and head give the reference's outputs (training=False)."""
    what = "the output of your ResNet50 (training=False, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[False], what), get(skeleton, "ref_outputs")[False], what,
                 hint=STEM_HINT + " " + HEAD_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.share(2)
def test_outputs_training(skeleton, tolerances):
    """With the reference's weights, the same outputs in training mode (batch norm on the batch's statistics)."""
    what = "the output of your ResNet50 (training=True, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[True], what), get(skeleton, "ref_outputs")[True], what,
                 hint=STEM_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_input_shape_and_classes(student, reference, answering):
    """ResNet50(input_shape=(96, 96, 3), classes=3) follows its arguments."""
    (model, _), (ref_model, _) = build_skeleton(student, reference, answering, (96, 96, 3), 3)
    X = np.random.default_rng(96).standard_normal((2, 96, 96, 3)).astype(np.float32)
    what = "ResNet50(input_shape=(96, 96, 3), classes=3)"
    got = keras_architecture.measure(student, model, X, what, training=False)
    reference_skeleton = keras_architecture.skeleton_of(ref_model, X, keras_architecture.reference_structure(ref_model))
    keras_architecture.part_matches(student, model, got, reference_skeleton, "all", what,
                                    "use Input(input_shape) and Dense(classes, ...).",
                                    lambda rows: keras_architecture.structure(rows, what))  # fmt: skip


@pytest.mark.share(2)
def test_whole_model(student, skeleton, verdicts, whole_models, tolerances):
    """With your own blocks, the whole ResNet50 (23,600,006 parameters) gives the reference's outputs for the same weights (not charged here if your blocks lost points in their own tests and the rest of your ResNet50 passed)."""
    get(skeleton, "calls")  # the skeleton must build first
    if verdicts.excuse():
        return
    model = student.call("ResNet50", input_shape=SHAPE, classes=CLASSES, call_timeout=keras_outputs.BUILD_TIMEOUT).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"ResNet50 should return a keras.Model, but it returned {checks.describe_type(model)}.")
    X = np.random.default_rng(5).standard_normal((2, *SHAPE)).astype(np.float32)
    keras_outputs.whole_model_matches(student, model, whole_models.expected("ResNet50", X, training=False), X, "With your own blocks, your ResNet50",
                                      "ResNet50", STAGES_HINT, tolerances.float32, training=False)  # fmt: skip
