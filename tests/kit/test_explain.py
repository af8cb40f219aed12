"""Are NumPy's and Keras's errors from student code translated into a sentence that names the
likely cause, with the original line kept and student text kept in its place?
(autograder/kit/explain.py)

The messages below are the frameworks' own, copied from real runs (NumPy 2, Keras 3 on
TensorFlow 2.21), as the sandbox reports them.
"""

from __future__ import annotations

import pytest

from autograder.grader.failures import StudentCodeError
from autograder.grader.plugin import student_message
from autograder.kit import explain

WHERE = " (line 44 of cell 7, in conv_forward_naive)"

REAL = {
    "numpy broadcast": "operands could not be broadcast together with shapes (1,3,0) (1,3,2) ",
    "numpy assignment": "could not broadcast input array from shape (2,2) into shape (2,1)",
    "numpy matmul": "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
    "(n?,k),(k,m?)->(n?,m?) (size 36 is different from 18)",
    "numpy dot": "shapes (2,18) and (36,10) not aligned: 18 (dim 1) != 36 (dim 0)",
    "numpy reshape": "cannot reshape array of size 36 into shape (2,20)",
    "numpy index": "index 3 is out of bounds for axis 2 with size 3",
    "keras add": "Inputs have incompatible shapes. Received shapes (4, 4, 6) and (8, 8, 6)",
    "tf dimensions": "Dimensions must be equal, but are 4 and 8 for '{{node add}} = AddV2[T=DT_FLOAT](x, y)' "
    "with input shapes: [?,4,4,6], [?,8,8,6].",
    "tf incompatible shapes": "{{function_node __wrapped__AddV2_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
    "Incompatible shapes: [2,4,4,6] vs. [2,8,8,6] [Op:AddV2] name: ",
    "tf matmul": "{{function_node __wrapped____MklMatMul_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
    "Matrix size-incompatible: In[0]: [2,5], In[1]: [6,3] [Op:MatMul] name: ",
    "keras input axis": "Input 0 with name 'None' of layer 'conv2d' is incompatible with the layer: expected axis -1 "
    "of input shape to have value 6, but received input with shape (None, 4, 4, 5)",
    "keras input ndim": "Input 0 with name 'None' of layer 'conv2d_1' is incompatible with the layer: expected "
    "min_ndim=4, found ndim=2. Full shape received: (None, 6)",
    "negative size": "Exception encountered when calling MaxPooling2D.call().\n\n[1mComputed output size would be "
    "zero or negative. Received: `inputs.shape=[None 2 2 3]`, `pool_size=[3 3]`, `strides=(3, 3)`, "
    "`padding=valid`.[0m\n\nArguments received by MaxPooling2D.call():\n  • args=('<KerasTensor shape=(None, 2, 2, "
    "3)>',)",
}


def test_every_pattern_has_a_real_message():
    """Is every pattern in the table tried here on a message the framework really gives?"""
    assert {p.name for p in explain.PATTERNS} == set(REAL)


@pytest.mark.parametrize("name", sorted(REAL))
def test_a_known_error_is_explained_and_its_line_kept(name):
    """Does each known error get its own sentence first, then the framework's line and the place?"""
    raw = f"`f` raised ValueError: {REAL[name]}{WHERE}"
    out = explain.student_error(raw)
    pattern = next(p for p in explain.PATTERNS if p.name == name)
    assert pattern.regex.search(REAL[name])
    assert out.startswith("`f` raised ValueError: ") and out != raw
    sentence, original = explain.translate(REAL[name])
    assert out.startswith(f"`f` raised ValueError: {sentence} (the error said: ")
    assert out.endswith("; line 44 of cell 7, in conv_forward_naive)")
    assert len(original) <= explain.ORIGINAL_LIMIT
    assert original.split()[0] in REAL[name]


def test_the_shortcut_sentence_names_the_shapes_and_the_strides():
    """Does Keras's "Inputs have incompatible shapes" say it is the shortcut's addition, with both shapes?"""
    out = explain.student_error(f"`identity_block` raised ValueError: {REAL['keras add']} (line 12 of cell 9, in x)")
    assert "added together" in out and "shortcut" in out and "strides" in out
    assert out.count("(4, 4, 6) and (8, 8, 6)") == 2  # in the sentence, and in the kept line


def test_an_empty_slice_is_pointed_out():
    """Does a broadcast error with a 0 in a shape say the slice came out empty (the input not padded)?"""
    sentence, _ = explain.translate(REAL["numpy broadcast"])
    assert "(1,3,0) (1,3,2)" in sentence and "empty" in sentence and "padded" in sentence
    sentence, _ = explain.translate("operands could not be broadcast together with shapes (2,3) (3,2) ")
    assert "empty" not in sentence


def test_the_matmul_sentence_says_which_size_is_whose():
    """Does the matmul sentence give the student's row size (18) and the weight's (36) the right way round?"""
    sentence, _ = explain.translate(REAL["numpy matmul"])
    assert "rows of 18 numbers by a matrix with 36 rows" in sentence


def test_unknown_errors_and_other_reports_are_left_alone():
    """Is an error no pattern knows, or a message that is no exception report, returned unchanged?"""
    for text in ("`f` raised KeyError: 'pad' (line 3 of cell 2, in f)", "`f` did not finish within 10 s",
                 "Your notebook could not be read"):  # fmt: skip
        assert explain.student_error(text) == text


def test_hostile_text_cannot_steer_the_sentence():
    """Do only digits and shapes from the student's message reach the sentence, and are its sizes capped?"""
    hostile = "Inputs have incompatible shapes. Received shapes (<script>alert(1)</script>) and (1, 2)"
    assert explain.translate(hostile) is None  # not a shape: no sentence built from it
    long_shape = "(" + ", ".join(["7"] * 500) + ")"
    sentence, original = explain.translate(f"Inputs have incompatible shapes. Received shapes {long_shape} and (1,)")
    assert len(sentence) < 600 and len(original) <= explain.ORIGINAL_LIMIT


def test_the_plugin_translates_student_exceptions_only():
    """Does a student's exception reach feedback translated, and a time-out as it was?"""

    def message(error: BaseException) -> str:
        with pytest.raises(type(error)) as excinfo:
            raise error
        return student_message(excinfo)

    raised = message(StudentCodeError("exception", f"`identity_block` raised ValueError: {REAL['keras add']}"))
    assert "shortcut" in raised and raised.startswith("`identity_block` raised ValueError: ")
    # a time-out whose text happens to contain a known message is not an exception report
    timeout = StudentCodeError("timeout", f"`f` did not finish within 5 s; {REAL['keras add']}")
    assert message(timeout) == str(timeout)
