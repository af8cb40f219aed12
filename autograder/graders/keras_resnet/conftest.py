"""The keras_resnet graders' own fixtures; everything else comes from the grading library
(``autograder/kit``: ``keras_models`` compares models, ``inner_calls`` records stand-ins).

Grading each part on its own code. Keras objects can't cross the sandbox boundary, so
the reference can't answer a student's inner call with a real block. Instead, while a
composite part is being built, the grader answers calls to the parts it uses with
stand-ins and records them (``kit/inner_calls.py``):

- ``ResNet50``: ``identity_block`` and ``convolutional_block`` return their input
  unchanged (a "skeleton" model keeps the stem and the head), and each call's
  arguments are recorded and compared with the reference's calls;
- ``ResNet``: ``BasicBlock(filter_num, stride)`` returns a 1×1 convolution with that
  many filters and that stride (same output shape as the real block), created in the
  sandbox beforehand; the reference model is built with the same stand-ins;
- ``resnet18`` / ``resnet34``: ``ResNet(layer_dims, num_classes)`` is recorded.

Whole-model parameter counts (ResNet50: 23,600,006; ResNet([2, 2, 2, 2]) and resnet18:
11,234,532; resnet34: 21,353,828) need the student's real inner parts. Those tests build
the whole model and pass when the count is right; when it is wrong, they check whether
the student's inner parts have the right counts at the sizes the model uses, and if
not, the difference is charged to those parts (in their own tests) and not here.

Which calls the grader answers: those declared for the part being called in
``assignment.toml`` (``[stand_ins]``: ResNet50 -> the two blocks, ResNet -> BasicBlock,
resnet18/resnet34 -> ResNet), and of those only the ones a test is answering right now.
``StudentSession`` consults its ``helpers`` mapping on every call (and replaces an
*empty* mapping by a new dict); ``Answering`` is that mapping: always truthy, empty by
default, filled only inside ``with answering(...)``.

Inputs are random but fixed per test (``rng``), small, and never the notebook's inputs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.kit.keras_models import reference_counts


class ExpectedCounts(dict):
    """Parameter counts (all, trainable) of the reference's whole models, built on first use."""

    def __init__(self, reference: SimpleNamespace):
        super().__init__()
        self.reference = reference

    def __missing__(self, name: str) -> tuple[int, int]:
        if name == "ResNet50":
            model = self.reference.ResNet50(input_shape=(64, 64, 3), classes=6)
        else:  # "resnet18", "resnet34"
            model = getattr(self.reference, name)()
            model(np.zeros((1, 32, 32, 3), dtype=np.float32))
        self[name] = reference_counts(model)
        return self[name]


@pytest.fixture(scope="session")
def expected_counts(reference: SimpleNamespace) -> ExpectedCounts:
    return ExpectedCounts(reference)
