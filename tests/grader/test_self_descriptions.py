"""Does a model that describes itself falsely earn nothing, and is it told so without being told what to claim?

The attacks are the catalogues' (``autograder/graders/*/catalogue.py``): Flatten -> Dense models
whose ``layers`` and ``count_params()`` are those of LeNet-5, AlexNet, VGG's and DenseNet-121's
skeletons and ResNet50's, graded with the rest of each catalogue (``graded_class``, shared
with tests/authoring/test_fidelity.py, which checks that each scores 0).
"""

from __future__ import annotations

import re

import pytest

LIARS = [
    ("classic_cnns", "lenet5_describes_itself_as_lenet5", "lenet5"),
    ("classic_cnns", "lenet5_keeps_the_graders_weights_unused", "lenet5"),
    ("classic_cnns", "alexnet_describes_itself_as_alexnet", "alexnet_cifar"),
    ("classic_cnns", "vgg_describes_a_classifier_with_dropout", "VGG"),
    ("classic_cnns", "densenet_describes_its_stem_and_head", "DenseNet121"),
    ("keras_resnet", "resnet50_describes_itself_as_resnet50", "ResNet50"),
]
# what a message built from the model's own description would say: a layer it should have
CLAIMS = re.compile(r"layer \d+ should be|should have (Conv2D|Dense|BatchNormalization|MaxPooling2D)|"
                    r"after your last layer|unexpected extra layer")  # fmt: skip


@pytest.mark.parametrize(("name", "attack", "function"), LIARS, ids=[f"{n}-{a}" for n, a, _ in LIARS])
def test_a_false_description_is_named_as_such_and_names_nothing_to_claim(graded_class, name, attack, function):
    """Do the architecture checks say the description doesn't match what the model computes, and nothing more?"""
    graded = graded_class(name).results[f"attack-{attack}"].functions[function]
    failed = [t.message for t in graded.tests if not t.passed]
    assert graded.score == 0 and failed
    assert any("does not match what it computes" in m for m in failed), failed
    assert not [m for m in failed if CLAIMS.search(m)], [m for m in failed if CLAIMS.search(m)]
