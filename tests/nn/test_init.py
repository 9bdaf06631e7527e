"""nn.init against torch.nn.init: the same fans, gains and distributions."""
import math

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.init as init

SHAPES = [(300, 400), (64, 32, 5, 5), (512, 16, 7)]


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                         ("tanh", None), ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("shape", SHAPES)
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(gn.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _std_uniform(b):
    return b / math.sqrt(3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fill, bound, std", [
    (lambda t: init.xavier_uniform_(t, gain=2.0),
     lambda fi, fo: 2.0 * math.sqrt(6 / (fi + fo)), None),
    (lambda t: init.xavier_normal_(t), None, lambda fi, fo: math.sqrt(2 / (fi + fo))),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), lambda fi, fo: 1 / math.sqrt(fi), None),
    (lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     lambda fi, fo: math.sqrt(2) * math.sqrt(3 / fo), None),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), None,
     lambda fi, fo: math.sqrt(2 / fi)),
    (lambda t: init.kaiming_normal_(t, a=0.1, mode="fan_out"), None,
     lambda fi, fo: math.sqrt(2 / (1 + 0.01)) / math.sqrt(fo)),
])
def test_scaled_initialisers(shape, fill, bound, std):
    t = gn.empty(*shape, requires_grad=True)
    array = t.data
    assert fill(t) is t and t.data is array and t.dtype == gn.float32
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    v = t.data
    if bound is not None:
        b = bound(fan_in, fan_out)
        assert np.abs(v).max() <= b * (1 + 1e-6)
        expected = _std_uniform(b)
    else:
        expected = std(fan_in, fan_out)
    assert abs(v.std() - expected) < 0.02 * expected
    assert abs(v.mean()) < 0.02 * expected


def test_plain_fills_and_reproducibility():
    t = gn.empty(200, 500)
    init.uniform_(t, -3, 5)
    assert t.data.min() >= -3 and t.data.max() <= 5 and abs(t.data.mean() - 1) < 0.05
    init.normal_(t, 2, 0.5)
    assert abs(t.data.mean() - 2) < 0.01 and abs(t.data.std() - 0.5) < 0.01
    assert init.constant_(t, 0.3).data.max() == np.float32(0.3)
    assert init.zeros_(t).data.max() == 0 and init.ones_(t).data.min() == 1
    np.testing.assert_array_equal(init.eye_(gn.empty(2, 3)).data, np.eye(2, 3))
    gn.manual_seed(4)
    a = init.normal_(gn.empty(10)).data.copy()
    gn.manual_seed(4)
    np.testing.assert_array_equal(init.normal_(gn.empty(10)).data, a)


def test_trunc_normal():
    t = init.trunc_normal_(gn.empty(100_000), mean=0.5, std=1.0, a=-1.0, b=1.5)
    assert t.data.min() >= -1.0 and t.data.max() <= 1.5
    a, b = -1.5, 1.0   # standardised bounds
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = cdf(b) - cdf(a)
    mean = 0.5 + (pdf(a) - pdf(b)) / mass
    var = 1 + (a * pdf(a) - b * pdf(b)) / mass - ((pdf(a) - pdf(b)) / mass) ** 2
    assert abs(t.data.mean() - mean) < 0.01 and abs(t.data.std() - math.sqrt(var)) < 0.01


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(gn.empty(*shape), gain=2.0)
    flat = t.data.reshape(shape[0], -1).astype(np.float64)
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(gn.empty(5))
    with pytest.raises(ValueError, match="mode 'fan_avg' is not supported"):
        init.kaiming_uniform_(gn.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
