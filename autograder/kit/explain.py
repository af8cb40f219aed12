"""Framework errors from student code, translated into a sentence that names the likely cause.

When a student's code raises, the sandbox reports the exception's type, message and
line ("`identity_block` raised ValueError: Inputs have incompatible shapes. Received
shapes (4, 4, 6) and (8, 8, 6) (line 12 of cell 9, in identity_block)"). NumPy's and
Keras's messages describe the symptom in the framework's words; a student needs the
cause in theirs. ``student_error`` looks the message up in ``PATTERNS``, a table of
known framework errors, and puts the sentence first, keeping the framework's own line
(shortened) and the place after it, so nothing the student could use is lost:

    `identity_block` raised ValueError: the two tensors added together have different
    shapes, (4, 4, 6) and (8, 8, 6): ... (ValueError: Inputs have incompatible shapes.
    Received shapes (4, 4, 6) and (8, 8, 6); line 12 of cell 9, in identity_block)

Decisions:

- The translation runs in the grader process (``plugin.student_message``), on text the
  session has already cleaned (``text.clean``); the result is cleaned again with every
  message. Only numbers and shapes are taken from the student's text, through the
  patterns' groups, each capped in length, so a hostile message can't grow or steer
  the sentence.
- A message that matches no pattern is returned unchanged: an unknown error is better
  shown as it is than guessed at.
- Sentences describe the cause in the student's terms and never mention hidden tests or
  expected values (they only restate numbers the student's own error already showed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ORIGINAL_LIMIT = 160  # characters of the framework's own line kept after the sentence
GROUP_LIMIT = 60  # characters of one group (a shape, a layer name) taken from the message

# "`label` raised Type: message (line 3 of cell 7, in f)": how session.py reports an exception
RAISED = re.compile(
    r"^(?P<head>.*?\braised )(?P<type>[A-Za-z_][\w.]{0,80}): (?P<message>.*?)"
    r"(?: \((?P<where>line \d+ of [^()]{1,200})\))?$",
    re.DOTALL,
)


@dataclass(frozen=True)
class Pattern:
    """A known framework error: what its message looks like, and the sentence for the student."""

    name: str
    regex: re.Pattern
    sentence: Callable[[dict[str, str]], str]


def _has_zero(shapes: str) -> bool:
    return re.search(r"[(\[,]\s*0\s*[,)\]]", shapes) is not None


def _broadcast(g: dict[str, str]) -> str:
    zero = (
        (
            " A 0 in a shape means a slice came out empty: it starts past the end of the array, as when"
            " the input was not padded but the loop runs as if it were."
        )
        if _has_zero(g["shapes"])
        else ""
    )
    return (
        f"two arrays combined entry by entry (with +, -, * or /) have shapes {g['shapes']}, which don't match: "
        f"check the slice bounds of each window against the shape of what it is multiplied with.{zero}"
    )


def _assign(g: dict[str, str]) -> str:
    return (
        f"an array of shape {g['src']} was stored into a slice of shape {g['dst']}: the slice's bounds "
        "(start, stop, the window size) don't match the array put into it."
    )


def _matmul(g: dict[str, str]) -> str:
    return (
        f"a matrix product (@ or np.dot) multiplies rows of {g['mine']} numbers by a matrix with {g['want']} "
        "rows. If the left side is a flattened image, the layers before it produce a different size than "
        "the weights were created for: check their output shapes (padding, pooling size and stride)."
    )


def _dot(g: dict[str, str]) -> str:
    return (
        f"a matrix product (np.dot or @) got shapes {g['a']} and {g['b']}: the first one's last size must "
        "equal the second one's first size. Check the shapes the layers before it produce."
    )


def _reshape(g: dict[str, str]) -> str:
    return (
        f"an array of {g['size']} entries can't be reshaped to {g['shape']}: the array has a different size "
        "than the code assumes. Compute the new shape from the array's own shape (e.g. x.reshape(N, -1))."
    )


def _index(g: dict[str, str]) -> str:
    return (
        f"an index ran past the end of an array: index {g['index']} on axis {g['axis']}, which has size "
        f"{g['size']}. Check the loop ranges and the window bounds (and which axis is the height, which the width)."
    )


def _keras_add(g: dict[str, str]) -> str:
    return (
        f"the tensors added together (by Add()([X, X_shortcut]) or another merge layer) have different shapes, "
        f"{g['a']} and {g['b']}: "
        "the main path and the shortcut must end with the same height, width and channels. Check the strides, "
        "the padding and the filters of the Conv2D layers on each path."
    )


def _tf_dims(g: dict[str, str]) -> str:
    shapes = f" ({g['shapes']})" if g.get("shapes") else ""
    return (
        f"two tensors combined entry by entry (an Add, a Multiply, + or *) have different shapes{shapes}: "
        "check the strides, the padding and the filters of the layers that produce each of them."
    )


def _layer_axis(g: dict[str, str]) -> str:
    return (
        f"layer `{g['layer']}` was built for inputs whose last axis is {g['want']}, but it got an input of "
        f"shape {g['got']}. A layer object called on two different tensors keeps the first one's size: create "
        "a new layer for each call, and check which tensor each layer is given."
    )


def _layer_ndim(g: dict[str, str]) -> str:
    return (
        f"layer `{g['layer']}` needs an input with at least {g['want']} axes, but got one with {g['got']}: "
        "a convolution or pooling layer needs (batch, height, width, channels); is a Flatten or Dense too early, "
        "or is the Input's shape missing an axis?"
    )


def _negative(g: dict[str, str]) -> str:
    return (
        "a convolution or pooling window is larger than the input it slides over: the tensor shrank too much "
        "before this layer. Check the strides and padding='same' or 'valid' of the layers before it."
    )


PATTERNS: list[Pattern] = [
    # --- NumPy ----------------------------------------------------------------------------
    Pattern(
        "numpy broadcast",
        re.compile(
            r"operands could not be broadcast together with (?:remapped )?shapes "
            r"(?P<shapes>(?:\([\d, ]*\)\s*){2,4})"
        ),
        _broadcast,
    ),
    Pattern(
        "numpy assignment",
        re.compile(
            r"could not broadcast input array from shape (?P<src>\([\d, ]*\)) "
            r"into shape (?P<dst>\([\d, ]*\))"
        ),
        _assign,
    ),
    Pattern(
        "numpy matmul",
        re.compile(
            r"matmul: Input operand 1 has a mismatch in its core dimension 0.*?"
            r"\(size (?P<want>\d+) is different from (?P<mine>\d+)\)",
            re.DOTALL,
        ),
        _matmul,
    ),
    Pattern("numpy dot", re.compile(r"shapes (?P<a>\([\d, ]*\)) and (?P<b>\([\d, ]*\)) not aligned"), _dot),
    Pattern(
        "numpy reshape",
        re.compile(r"cannot reshape array of size (?P<size>\d+) into shape (?P<shape>\([\d, -]*\))"),
        _reshape,
    ),
    Pattern(
        "numpy index",
        re.compile(
            r"index (?P<index>-?\d+) is out of bounds for axis (?P<axis>\d+) "
            r"with size (?P<size>\d+)"
        ),
        _index,
    ),
    # --- Keras and TensorFlow -------------------------------------------------------------
    Pattern(
        "keras add",
        re.compile(
            r"Inputs have incompatible shapes\. Received shapes (?P<a>\([\w, ]*\)) and "
            r"(?P<b>\([\w, ]*\))"
        ),
        _keras_add,
    ),
    Pattern(
        "tf dimensions",
        re.compile(
            r"Dimensions must be equal, but are \d+ and \d+"
            r"(?:.*?input shapes: (?P<shapes>\[[\w?,]*\], \[[\w?,]*\]))?",
            re.DOTALL,
        ),
        _tf_dims,
    ),
    Pattern(
        "tf incompatible shapes", re.compile(r"Incompatible shapes: (?P<shapes>\[[\d,]*\] vs\. \[[\d,]*\])"), _tf_dims
    ),
    Pattern(
        "tf matmul",
        re.compile(r"Matrix size-incompatible: In\[0\]: (?P<a>\[[\d,]*\]), In\[1\]: (?P<b>\[[\d,]*\])"),
        _dot,
    ),
    Pattern(
        "keras input axis",
        re.compile(
            r"Input \d+ (?:with name '[^']{0,60}' )?of layer [\"'](?P<layer>[\w.-]{1,60})[\"'] is incompatible with "
            r"the layer: expected axis -?\d+ of input shape to have value "
            r"(?P<want>\d+), but received input with shape (?P<got>\([\w, ]*\))"
        ),
        _layer_axis,
    ),
    Pattern(
        "keras input ndim",
        re.compile(
            r"Input \d+ (?:with name '[^']{0,60}' )?of layer [\"'](?P<layer>[\w.-]{1,60})[\"'] is incompatible with "
            r"the layer: expected (?:min_)?ndim=(?P<want>\d+), found ndim=(?P<got>\d+)"
        ),
        _layer_ndim,
    ),
    Pattern(
        "negative size",
        re.compile(
            r"Negative dimension size caused by|[Cc]omputed output size would be (?:zero or )?negative"
            r"|One of the dimensions in the output is <= 0"
        ),
        _negative,
    ),
]


def translate(message: str) -> tuple[str, str] | None:
    """(sentence, the framework's line it explains) for a known error message, or None."""
    for pattern in PATTERNS:
        match = pattern.regex.search(message)
        if match:
            groups = {k: " ".join((v or "").split())[:GROUP_LIMIT] for k, v in match.groupdict().items()}
            line = next((ln for ln in message.splitlines() if match.group(0).splitlines()[0] in ln), message)
            return pattern.sentence(groups), _shorten(line)
    return None


def student_error(text: str) -> str:
    """A "`f` raised Type: message (where)" report with the message explained, if it is a known one."""
    parsed = RAISED.match(text)
    if not parsed:
        return text
    found = translate(parsed["message"])
    if found is None:
        return text
    sentence, original = found
    where = f"; {parsed['where']}" if parsed["where"] else ""
    return f"{parsed['head']}{parsed['type']}: {sentence} (the error said: {original}{where})"


def _shorten(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= ORIGINAL_LIMIT else line[: ORIGINAL_LIMIT - 1].rstrip() + "…"
