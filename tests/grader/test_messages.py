"""Do realistic bugs get messages that point to the real bug? Catalogued mutants, graded for real.

Three submissions, each with one or two mutants from the assignments' catalogues
(autograder/graders/<name>/catalogue.py), graded with only the graders of the answers
they change (``only=``), in parallel:

- cnn_step_by_step: pad read from hparameters['stride'], in conv_forward and conv_backward;
- conv_net: conv_forward_naive's output one too small, and a ThreeLayerConvNet without padding;
- keras_resnet: an identity block whose middle convolution is 'valid' (the shortcut no longer fits).

The assertions are on what the student reads: a wrong shape is named as a shape, axis by
axis, before any value; the hint names the hyperparameter's key, not the floor; and NumPy's
or Keras's own error comes first as a sentence naming the cause, the framework's line after it.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.authoring.catalogue import load
from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from autograder.kit import explain
from autograder.run.grading import grade_notebook

pytestmark = pytest.mark.slow  # grades catalogued mutants of three assignments, a Keras one among them

SUBMISSIONS = {  # assignment -> the mutants it carries, by name
    "cnn_step_by_step": ("conv_forward_pad_from_stride", "conv_backward_pad_from_stride"),
    "conv_net": ("conv_forward_output_one_too_small", "model_no_padding"),
    "keras_resnet": ("id_valid_middle_conv",),
}


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> dict[str, dict[str, str]]:
    """assignment -> {function/test name: message} of every failed test, for the mutants above."""
    root = tmp_path_factory.mktemp("messages")

    def grade(name: str) -> dict[str, str]:
        assignment = Assignment(name)
        mutants = {v.name: v for v in load(assignment).mutants}
        answers = {mutants[m].function: mutants[m].source for m in SUBMISSIONS[name]}
        path = write_submission(build_submission(assignment, answers), root / "submitted", "mutant", name)
        result = grade_notebook(assignment, path, "mutant", only=sorted(answers))
        return {f"{function}/{test['name']}": test["message"]
                for function, scores in result["functions"].items()
                for test in scores["tests"] if not test["passed"]}  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(SUBMISSIONS, pool.map(grade, SUBMISSIONS), strict=True))


def test_pad_read_from_stride_is_named_by_its_key(messages):
    """Does Z shaped by pad = hparameters['stride'] get a hint naming the key, not the floor?"""
    got = messages["cnn_step_by_step"]["conv_forward/test_output_shape"]
    assert re.search(r"has shape \([\d, ]+\), but should have shape \([\d, ]+\) = \(m, n_H, n_W, n_C\) for this "
                     r"input: .+ wrong\. Hint: Z is what it would be with pad = \d \(hparameters\['stride'\]\): "
                     r"is pad read from hparameters\['pad'\]\?$", got), got  # fmt: skip
    assert "floor" not in got


def test_the_same_bug_in_a_backward_pass_is_named_by_its_values(messages):
    """Is conv_backward's dA_prev, right in shape but computed with pad = stride, named the same way?"""
    got = messages["cnn_step_by_step"]["conv_backward/test_dA_prev"]
    assert "has the right shape, but" in got
    assert got.endswith("Hint: dA_prev is what it would be with pad = 2 (hparameters['stride']): "
                        "is pad read from hparameters['pad']?")  # fmt: skip


def test_a_broadcast_error_in_student_code_is_a_sentence(messages):
    """Does NumPy's "operands could not be broadcast" from the student's own loop come as a sentence first?"""
    got = messages["cnn_step_by_step"]["conv_backward/test_stride_1_pad_2"]
    assert got.startswith("`conv_backward` raised ValueError: two arrays combined entry by entry"), got
    assert "(the error said: operands could not be broadcast together with shapes" in got
    assert re.search(r"; line \d+ of cell \d+, in conv_backward\)$", got), got


def test_a_wrong_output_shape_is_named_axis_by_axis(messages):
    """Is conv_forward_naive's output one too small reported as its shape, naming H' and W'?"""
    got = messages["conv_net"]["conv_forward_naive/test_output_shape"]
    assert re.search(r"has shape \([\d, ]+\), but should have shape \([\d, ]+\) = \(N, F, H', W'\) for this input: "
                     r"H' and W' are wrong\.", got), got  # fmt: skip
    assert "entries are wrong" not in got  # the shape, not the values


def test_a_matmul_mismatch_in_the_model_is_a_sentence(messages):
    """Does a model that forgot the padding get the matmul error explained (sizes named, layers blamed)?"""
    got = messages["conv_net"]["ThreeLayerConvNet/test_loss_without_regularisation"]
    assert re.match(r"`ThreeLayerConvNet.loss` raised ValueError: a matrix product \(@ or np.dot\) multiplies "
                    r"rows of \d+ numbers by a matrix with \d+ rows\. .*padding", got), got  # fmt: skip
    assert "(the error said: matmul: Input operand 1 has a mismatch" in got


def test_keras_s_incompatible_shapes_become_the_shortcut_sentence(messages):
    """Does Keras's "Inputs have incompatible shapes" name the shortcut and what to check?"""
    got = messages["keras_resnet"]["identity_block/test_architecture"]
    assert "the tensors added together (by Add()([X, X_shortcut])" in got and "strides" in got, got
    assert "(the error said: Inputs have incompatible shapes. Received shapes" in got


def test_no_raw_framework_error_comes_first(messages):
    """In every failed test of every submission, does a known framework error come after its sentence?"""
    for name, failed in messages.items():
        for test, message in failed.items():
            head = message.split("(the error said: ")[0]
            assert explain.translate(head) is None, f"{name} {test}: {message}"
