"""The zoo: every model builds, runs on its input size, and has the notes' sizes."""
import pytest

import glassnet as gn
from glassnet import models


@pytest.mark.parametrize("name", models.names())
def test_every_model_runs_on_its_input(name):
    _, input_size = models.describe(name)
    model = models.get(name)
    out = model(gn.zeros(2, *input_size))
    assert out.shape[0] == 2


@pytest.mark.parametrize("name, params", [("mlp", 669_706), ("cnn-mnist", 28_938),
                                          ("softmax-regression", 7_850),
                                          ("cnn-mnist-deep", 2_327_818), ("lenet5", 61_706),
                                          ("cnn-cifar", 528_054)])
def test_parameter_counts(name, params):
    assert sum(p.numel() for p in models.get(name).parameters()) == params


def test_unknown_model_lists_the_zoo():
    with pytest.raises(KeyError, match="no model named 'resnet'; available: logistic"):
        models.get("resnet")
