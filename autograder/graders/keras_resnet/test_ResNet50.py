"""ResNet50(input_shape=(64, 64, 3), classes=6) -> keras.Model.

Graded on its own code: while it is built, identity_block and convolutional_block are
answered by the grader, which records each call and returns its input unchanged. The
result is a "skeleton" (stem and head only) that is compared with the reference's
skeleton, built the same way; the recorded calls are compared with the reference's.
Only the whole-model parameter count uses the student's own blocks (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_models

SHAPE, CLASSES = (64, 64, 3), 6
STEM_HINT = ("stage 1: ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) (padding 'valid') -> "
             "BatchNormalization(axis=3) -> ReLU -> MaxPooling2D((3, 3), strides=(2, 2)).")  # fmt: skip
HEAD_HINT = "head: AveragePooling2D((2, 2)) -> Flatten() -> Dense(classes, activation='softmax')."
STAGES_HINT = ("stages 2 to 5: a convolutional_block (f=3, s=1 for stage 2, s=2 after) followed by 2, 3, 5 and 2 "
               "identity_blocks with filters [64, 64, 256], [128, 128, 512], [256, 256, 1024], [512, 512, 2048].")  # fmt: skip


def passthrough(arguments):
    return arguments["X"]


def normalise(call, kind):
    out = {
        "kind": kind,
        "f": call.get("f"),
        "filters": tuple(call.get("filters") or ()),
        "training": call.get("training"),
    }
    if kind == "convolutional_block":
        out["s"] = call.get("s")
    return out


def call_text(call):
    text = f"{call['kind']}(X, f={call['f']!r}, filters={list(call['filters'])!r}"
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
    """Student's and reference's skeletons: (rows, calls, model handle) and (rows, calls, model)."""
    log = []
    with answering(**recorders(reference, passthrough, log)):
        model = student.call("ResNet50", input_shape=input_shape, classes=classes).value
    if not keras_models.is_model_ref(model):
        raise checks.Mismatch(f"ResNet50 should return a keras.Model, but it returned {checks.describe_type(model)}.")
    ref_log = []
    with inner_calls.patched(reference.ResNet50, **recorders(reference, passthrough, ref_log)):
        ref_model = reference.ResNet50(input_shape=input_shape, classes=classes)
    rows = keras_models.structure(student.describe(model), "Your ResNet50")
    calls = [normalise(arguments, kind) for kind, arguments in log]
    ref_calls = [normalise(arguments, kind) for kind, arguments in ref_log]
    return (rows, calls, model), (keras_models.reference_structure(ref_model), ref_calls, ref_model)


@pytest.fixture(scope="module")
def skeleton(student, reference, answering):
    """Everything the tests compare, as data (handles don't survive a restarted sandbox)."""
    try:
        (rows, calls, model), (ref_rows, ref_calls, ref_model) = build_skeleton(
            student, reference, answering, SHAPE, CLASSES
        )
        X = np.random.default_rng(50).standard_normal((3, *SHAPE)).astype(np.float32)
        keras_models.give_same_weights(student, model)
        keras_models.give_reference_same_weights(ref_model)
        outputs = {t: student.call_method(model, "__call__", X, training=t).value for t in (False, True)}
        ref_outputs = {t: np.asarray(ref_model(X, training=t)) for t in (False, True)}
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "rows": rows,
        "calls": calls,
        "ref_rows": ref_rows,
        "ref_calls": ref_calls,
        "outputs": outputs,
        "ref_outputs": ref_outputs,
    }


def get(skeleton, key):
    if "error" in skeleton:
        raise skeleton["error"]
    return skeleton[key]


def split(rows):
    """(stem, head): the layers up to the stem's max pooling, and the rest."""
    i = next((i for i, r in enumerate(rows) if r[0] == "MaxPooling2D"), len(rows) - 1)
    return rows[: i + 1], rows[i + 1 :]


@pytest.mark.points(2)
def test_stem(student, skeleton):
    """Input, zero padding, 7x7 convolution with stride 2, batch norm and max pooling, with the right shapes."""
    stem, _ = split(get(skeleton, "ref_rows"))
    keras_models.compare_chain(get(skeleton, "rows")[: len(stem)], stem, "Your ResNet50's stem", STEM_HINT)


@pytest.mark.points(4)
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


@pytest.mark.points(2)
def test_head(skeleton):
    """Average pooling 2x2, flatten, and a dense softmax layer with `classes` units."""
    _, head = split(get(skeleton, "ref_rows"))
    rows = get(skeleton, "rows")
    keras_models.compare_chain(
        rows[len(rows) - len(head) :] if len(rows) >= len(head) else rows, head, "Your ResNet50's head", HEAD_HINT
    )


@pytest.mark.points(2)
def test_outputs_inference(skeleton, tolerances):
    """With the reference's weights, the stem and head give the reference's outputs (training=False)."""
    what = "the output of your ResNet50 (training=False, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[False], what), get(skeleton, "ref_outputs")[False], what,
                 hint=STEM_HINT + " " + HEAD_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.points(2)
def test_outputs_training(skeleton, tolerances):
    """With the reference's weights, the same outputs in training mode (batch norm on the batch's statistics)."""
    what = "the output of your ResNet50 (training=True, blocks left out) with the reference's weights"
    checks.close(checks.floating(get(skeleton, "outputs")[True], what), get(skeleton, "ref_outputs")[True], what,
                 hint=STEM_HINT, **tolerances.float32)  # fmt: skip


@pytest.mark.points(1)
def test_input_shape_and_classes(student, reference, answering):
    """ResNet50(input_shape=(96, 96, 3), classes=3) follows its arguments."""
    (rows, _, _), (ref_rows, _, _) = build_skeleton(student, reference, answering, (96, 96, 3), 3)
    keras_models.compare_chain(rows, ref_rows, "ResNet50(input_shape=(96, 96, 3), classes=3)",
                      "use Input(input_shape) and Dense(classes, ...).")  # fmt: skip


@pytest.mark.points(2)
def test_parameter_count(student, reference, skeleton, expected_counts):
    """With your own blocks: 23,600,006 parameters, 23,546,886 trainable (a difference caused by your blocks costs points there, not here)."""
    get(skeleton, "rows")  # the skeleton must build first
    want = expected_counts["ResNet50"]
    problem = None
    try:
        model = student.call(
            "ResNet50", input_shape=SHAPE, classes=CLASSES, call_timeout=keras_models.BUILD_TIMEOUT
        ).value
        got = keras_models.model_counts(student, model)
    except (checks.StudentCodeError, checks.Mismatch) as e:
        got, problem = None, e
    if got == want or keras_models.own_blocks_differ(
        student,
        reference,
        "ResNet50",
        ("identity_block", "convolutional_block"),
        input_shape=SHAPE,
        classes=CLASSES,
        keep=("f", "filters", "s"),
        twice=True,
        output_shapes=False,
    ):
        return
    if problem is not None:
        raise problem
    raise checks.Mismatch(
        f"With your own blocks, your ResNet50 has {got[0]:,} parameters ({got[1]:,} trainable); it should have "
        f"{want[0]:,} ({want[1]:,} trainable). Your blocks have the right sizes, so the difference is in ResNet50 itself.",
        STAGES_HINT,
    )
