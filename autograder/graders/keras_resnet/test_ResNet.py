"""ResNet(layer_dims, num_classes=100): a keras.Model of BasicBlocks for 32x32 images, returning logits.

Graded on its own code: while it is built, BasicBlock(filter_num, stride) is answered by
the grader with a stand-in, a 1x1 Conv2D(filter_num, strides=stride, padding='same')
created in the sandbox beforehand (same output shape as a real block), and each call
is recorded. The reference is built with the same stand-ins. Only the whole-model check
uses the student's own BasicBlock (see conftest.py).
"""

import numpy as np
import pytest

from autograder.kit import checks, inner_calls, keras_outputs

FILTERS = (64, 128, 256, 512)
HINT = ("stem: Conv2D(64, 3x3, stride 1, 'same') -> BN -> ReLU -> MaxPool2D(3x3, stride 2, 'same'); stages of "
        "BasicBlocks with 64, 128, 256, 512 filters; GlobalAveragePooling2D -> Dense(num_classes), no softmax.")  # fmt: skip
CALLS_HINT = (
    "stage k has layer_dims[k] blocks: the first with stride 1 (stage 1) or 2 (stages 2 to 4), the others stride 1."
)


def standins(student, layer_dims):
    """Stand-in layers, created in the sandbox, for every BasicBlock the model may ask for."""
    n = max(layer_dims) + 1
    return {(f, s): [student.call("Conv2D", f, 1, strides=s, padding="same").value for _ in range(n)]
            for f in FILTERS for s in (1, 2)}  # fmt: skip


def reference_standin(filter_num, stride=1, **kwargs):
    from keras import layers

    return layers.Conv2D(filter_num, 1, strides=stride, padding="same")


def take(pool):
    def answer(arguments):
        key = (arguments["filter_num"], arguments["stride"])
        if not pool.get(key):
            raise LookupError("no stand-in for these arguments")
        return pool[key].pop()

    return answer


def build(student, reference, answering, layer_dims, num_classes, X):
    """Student's and reference's models with stand-in blocks, built on X, with the same weights."""
    log = []
    pool = standins(student, layer_dims)
    with answering(BasicBlock=inner_calls.Recorder(reference.BasicBlock, take(pool), log)):
        model = student.call("ResNet", list(layer_dims), num_classes=num_classes).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"ResNet(...) should create a keras.Model, but it gave {checks.describe_type(model)}.")
    keras_outputs.call_layer(student, model, X, "your ResNet's output", training=False)  # builds the weights
    keras_outputs.give_same_weights(student, model)
    ref_log = []
    with inner_calls.patched(
        reference.ResNet.__init__,
        BasicBlock=inner_calls.Recorder(reference.BasicBlock, lambda a: reference_standin(**a), ref_log),
    ):
        ref_model = reference.ResNet(list(layer_dims), num_classes=num_classes)
    ref_model(X, training=False)
    keras_outputs.give_reference_same_weights(ref_model)
    calls = [
        (a["filter_num"], a["stride"]) if all(type(a[k]) is int for k in ("filter_num", "stride")) else a
        for _, a in log
    ]  # (a summary: anything but two numbers stays as recorded, and matches nothing)
    ref_calls = [(int(a["filter_num"]), int(a["stride"])) for _, a in ref_log]
    return model, ref_model, calls, ref_calls


@pytest.fixture(scope="module")
def built(student, reference, answering):
    """ResNet([2, 1, 1, 2], num_classes=5) with stand-in blocks, as data."""
    X = np.random.default_rng(18).standard_normal((2, 32, 32, 3)).astype(np.float32)
    try:
        model, ref_model, calls, ref_calls = build(student, reference, answering, (2, 1, 1, 2), 5, X)
        outputs = {t: student.call_method(model, "__call__", X, training=t).value for t in (False, True)}
    except (checks.StudentCodeError, checks.Mismatch) as e:
        return {"error": e}
    return {
        "calls": calls,
        "ref_calls": ref_calls,
        "outputs": outputs,
        "ref_outputs": {t: np.asarray(ref_model(X, training=t)) for t in (False, True)},
    }


def get(built, key):
    if "error" in built:
        raise built["error"]
    return built[key]


def call_text(call):
    return (
        f"BasicBlock({call[0]}, stride={call[1]})" if isinstance(call, tuple) else f"BasicBlock with arguments {call}"
    )


@pytest.mark.share(3)
def test_block_calls(built):
    """ResNet([2, 1, 1, 2]) creates its BasicBlocks in order, with the right filters and strides."""
    calls, expected = get(built, "calls"), get(built, "ref_calls")
    for i, want in enumerate(expected):
        if i >= len(calls):
            raise checks.Mismatch(
                f"ResNet([2, 1, 1, 2]) creates {len(calls)} BasicBlocks; it should create {len(expected)}.", CALLS_HINT
            )
        if calls[i] != want:
            raise checks.Mismatch(f"BasicBlock number {i + 1} of ResNet([2, 1, 1, 2]) should be {call_text(want)}, "
                                  f"but yours is {call_text(calls[i])}.", CALLS_HINT)  # fmt: skip
    if len(calls) > len(expected):
        raise checks.Mismatch(
            f"ResNet([2, 1, 1, 2]) creates {len(calls)} BasicBlocks; it should create {len(expected)}.", CALLS_HINT
        )


@pytest.mark.share(1)
def test_output_shape(built):
    """A (2, 32, 32, 3) batch gives (2, num_classes) outputs."""
    checks.shape(get(built, "outputs")[False], (2, 5), "the output of ResNet([2, 1, 1, 2], num_classes=5)", HINT)


@pytest.mark.share(3)
def test_same_weights_inference(built, tolerances):
    """With the reference's weights (and stand-in blocks), the reference's logits, training=False."""
    what = "your ResNet's logits (training=False, stand-in blocks) with the reference's weights"
    checks.close(
        checks.floating(get(built, "outputs")[False], what),
        get(built, "ref_outputs")[False],
        what,
        hint=HINT,
        **tolerances.float32,
    )


@pytest.mark.share(2)
def test_same_weights_training(built, tolerances):
    """The same in training mode (the stem's batch norm on the batch's statistics)."""
    what = "your ResNet's logits (training=True, stand-in blocks) with the reference's weights"
    checks.close(checks.floating(get(built, "outputs")[True], what), get(built, "ref_outputs")[True], what,
                 hint="pass training on to the stem's batch norm (or let Keras do it).", **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_other_sizes(student, reference, answering, tolerances, rng):
    """ResNet([1, 2, 1, 1], num_classes=7) on 16x16 images: the reference's logits."""
    X = rng.standard_normal((2, 16, 16, 3)).astype(np.float32)
    model, ref_model, calls, ref_calls = build(student, reference, answering, (1, 2, 1, 1), 7, X)
    if calls != ref_calls:
        raise checks.Mismatch(
            "ResNet([1, 2, 1, 1]) does not create the BasicBlocks that layer_dims asks for.", CALLS_HINT
        )
    what = "the logits of ResNet([1, 2, 1, 1], num_classes=7) on 16x16 images"
    checks.close(
        keras_outputs.call_layer(student, model, X, what, training=False),
        np.asarray(ref_model(X, training=False)),
        what,
        hint=HINT,
        **tolerances.float32,
    )


@pytest.mark.share(2)
def test_whole_model(student, built, verdicts, whole_models, tolerances, rng):
    """With your own BasicBlock, ResNet([2, 2, 2, 2]) (11,234,532 parameters) gives the reference's logits for the same weights (not charged here if BasicBlock lost points in its own tests and the rest of your ResNet passed)."""
    get(built, "calls")  # the model must build with stand-ins first
    if verdicts.excuse():
        return
    model = student.call("ResNet", [2, 2, 2, 2], num_classes=100).value
    if not keras_outputs.is_model_ref(model):
        raise checks.Mismatch(f"ResNet(...) should create a keras.Model, but it gave {checks.describe_type(model)}.")
    X = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    what = "With your own BasicBlock, ResNet([2, 2, 2, 2])"
    keras_outputs.call_layer(
        student, model, X, what, training=False, call_timeout=keras_outputs.BUILD_TIMEOUT
    )  # builds it
    keras_outputs.whole_model_matches(student, model, whole_models.expected("resnet18", X, training=False), X, what, "ResNet-18", HINT,
                                      tolerances.float32, training=False)  # fmt: skip
