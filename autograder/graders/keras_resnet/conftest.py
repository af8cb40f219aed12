"""The keras_resnet graders' own fixtures; everything else comes from the grading library
(``autograder/kit``: ``keras_architecture`` measures models, ``keras_outputs`` compares their outputs,
``inner_calls`` records stand-ins).

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

Whole models (ResNet50: 23,600,006 parameters; ResNet([2, 2, 2, 2]) and resnet18:
11,234,532; resnet34: 21,353,828) need the student's real inner parts. Those checks give
the whole model the same weights as the reference's and compare outputs
(``keras_outputs.whole_model_matches``); a failure is not charged to the composite only on
graded evidence (``verdicts.excuse()``): an inner part lost points in its own tests, and
every other test of the composite passed. Never on a fresh call to the part, which the
student's code could recognise. Architecture is measured, never read from a model's own
description (``keras_architecture.measure``: the weights the grader writes and reads back, the
shape of the output it receives).

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

from autograder.kit import keras_outputs


def build_whole_model(reference: SimpleNamespace, name: str):
    """The reference's whole model ``name`` (built on a 32x32 image where subclassed)."""
    if name == "ResNet50":
        return reference.ResNet50(input_shape=(64, 64, 3), classes=6)
    model = getattr(reference, name)()  # "resnet18", "resnet34"
    model(np.zeros((1, 32, 32, 3), dtype=np.float32))
    return model


@pytest.fixture(scope="session")
def whole_models(reference: SimpleNamespace, reference_store) -> keras_outputs.WholeModels:
    return keras_outputs.WholeModels(lambda name: build_whole_model(reference, name), reference_store)


@pytest.fixture(scope="module", autouse=True)
def sandbox_memory_freed_per_module(fresh_sandbox_memory) -> None:
    """Every grader module here ends with the sandbox's memory freed (``fresh_sandbox_memory``, kit/fixtures.py)."""
