"""The zoo: every model builds, runs on its input size, and has the notes' sizes."""
import numpy as np
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
                                          ("cnn-cifar", 528_054), ("perceptron", 3),
                                          ("logistic", 3), ("lstm-mnist", 24_714),
                                          ("bilstm-mnist", 148_746), ("gru-mnist", 18_698),
                                          ("rnn-regression", 1_153), ("autoencoder", 219_891),
                                          ("conv-autoencoder", 9_569)])
def test_parameter_counts(name, params):
    assert sum(p.numel() for p in models.get(name).parameters()) == params


def test_unknown_model_lists_the_zoo():
    with pytest.raises(KeyError, match="no model named 'resnet'; available: perceptron, logistic"):
        models.get("resnet")


def test_autoencoder_encoder_works_alone():
    model = models.get("autoencoder")
    assert model.encoder(gn.zeros(4, 1, 28, 28)).shape == (4, 3)
    assert model(gn.zeros(4, 1, 28, 28)).shape == (4, 1, 28, 28)


def test_perceptron_rule_is_the_classic_update():
    """One misclassified sample moves w by lr * (y - y_hat) * x, exactly."""
    model = models.get("perceptron")
    model.linear.weight._array[...] = [[1.0, -1.0]]
    model.linear.bias._array[...] = [0.0]
    opt = gn.optim.SGD(model.parameters(), lr=0.5)
    x, y = gn.tensor([[1.0, 2.0]]), gn.tensor([1])        # w.x = -1: predicted 0, wrong
    out, error_rate = model.train_step(x, y, opt)
    assert out.tolist() == [0.0] and error_rate == 1.0
    assert model.linear.weight.tolist() == [[1.5, 0.0]] and model.linear.bias.tolist() == [0.5]
    out, error_rate = model.train_step(x, y, opt)            # now right: no change
    assert out.tolist() == [1.0] and error_rate == 0.0
    assert model.linear.weight.tolist() == [[1.5, 0.0]]


def test_stateful_regressor_carries_and_resets_its_state():
    model = models.get("rnn-regression")
    x = gn.randn(4, 5, 1)
    first = model(x).detach().numpy()
    second = model(x).detach().numpy()                # starts from the carried state: differs
    assert not np.allclose(first, second)
    assert model.state is not None and not model.state.requires_grad
    model.reset_states()
    np.testing.assert_allclose(model(x).detach().numpy(), first, rtol=1e-6)


def test_model_defaults_give_way_to_the_user():
    from glassnet.runs import resolve_config
    assert resolve_config("lstm-mnist")["lr"] == 3e-3
    assert resolve_config("lstm-mnist", optimizer="sgd")["lr"] is None   # SGD's own default
    assert resolve_config("lstm-mnist", lr=0.01)["lr"] == 0.01
    perceptron = resolve_config("perceptron")
    assert (perceptron["batch_size"], perceptron["optimizer"], perceptron["dataset"]) == \
        (1, "sgd", "blobs")
