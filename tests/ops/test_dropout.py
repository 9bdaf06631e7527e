"""Dropout: the statistics of its mask, the scaling of survivors, reproducibility under
gn.manual_seed, a gradient that is the mask itself, and the identity outside training."""
import numpy as np
import pytest

import glassnet as gn
from parity import gradcheck_op


def _draw(p, shape=(1000, 1000), fn=gn.dropout, seed=0, **kwargs):
    gn.manual_seed(seed)
    x = gn.ones(*shape, requires_grad=True)
    return x, fn(x, p, **kwargs)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_fraction_kept_is_one_minus_p(p):
    _, y = _draw(p)
    kept = np.count_nonzero(y._array) / y._array.size
    # the kept fraction's standard deviation is at most 5e-4 here: 3e-3 is six of them, while
    # p off by 0.005 already fails
    assert abs(kept - (1 - p)) < 3e-3


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_survivors_are_scaled_by_one_over_keep_probability(p):
    x = gn.tensor(np.random.default_rng(1).uniform(1, 2, (50, 40)).astype(np.float32))
    gn.manual_seed(3)
    y = gn.dropout(x, p)._array
    kept = y != 0
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[kept], x._array[kept] / (1 - p), rtol=1e-6)
    assert kept.any() and not kept.all()


def test_same_seed_same_mask_other_seed_other_mask():
    _, a = _draw(0.5, (64, 64), seed=7)
    _, b = _draw(0.5, (64, 64), seed=7)
    _, c = _draw(0.5, (64, 64), seed=8)
    np.testing.assert_array_equal(a._array, b._array)
    assert not np.array_equal(a._array, c._array)
    gn.manual_seed(7)
    x = gn.ones(64, 64)
    first, second = gn.dropout(x), gn.dropout(x)  # successive calls draw fresh masks
    assert not np.array_equal(first._array, second._array)


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_gradient_is_the_scaled_mask(p):
    x = gn.tensor(np.random.default_rng(2).uniform(1, 2, (30, 20)).astype(np.float32),
                  requires_grad=True)
    gn.manual_seed(5)
    y = gn.dropout(x, p)
    g = np.random.default_rng(4).normal(size=(30, 20)).astype(np.float32)
    y.backward(g)
    mask = (y._array != 0) / np.float32(1 - p)
    np.testing.assert_allclose(x.grad._array, g * mask, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_eval_mode_and_p_zero_return_the_input():
    x = gn.randn(3, 4, requires_grad=True)
    assert gn.dropout(x, 0.5, training=False) is x
    assert gn.dropout(x, 0.0) is x
    assert gn.dropout2d(gn.randn(2, 3, 4, 4), 0.3, False).shape == (2, 3, 4, 4)


def test_p_one_drops_everything():
    x, y = _draw(1.0, (5, 6))
    assert not y._array.any() and y.requires_grad
    y.sum().backward()
    assert not x.grad._array.any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_out_of_range(p):
    with pytest.raises(ValueError, match=f"dropout: dropout probability has to be between 0 and 1, "
                                         f"but got {p}"):
        gn.dropout(gn.ones(3), p)


def test_errors():
    with pytest.raises(TypeError, match="dropout: expected a floating-point tensor, got int64"):
        gn.dropout(gn.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3-D or 4-D input"):
        gn.dropout2d(gn.ones(3, 4))


def test_float64_stays_float64():
    x = gn.ones(100, dtype=gn.float64, requires_grad=True)
    y = gn.dropout(x, 0.3)
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64
    np.testing.assert_allclose(y._array[y._array != 0], 1 / 0.7, rtol=1e-15)


def test_inplace():
    x = gn.ones(10, 10)
    gn.manual_seed(0)
    y = gn.dropout(x, 0.5, inplace=True)
    assert y is x and (x._array == 0).any()
    w = gn.ones(10, 10, requires_grad=True)  # inside a graph the input is left as it is
    y = gn.dropout(w, 0.5, inplace=True)
    assert y is not w and (w._array == 1).all() and y.requires_grad


def test_dropout2d_drops_whole_channels():
    x, y = _draw(0.4, (40, 50, 3, 3), fn=gn.dropout2d)
    per_channel = y._array.reshape(40, 50, 9)
    kept = per_channel[:, :, 0] != 0
    assert (per_channel == per_channel[:, :, :1]).all()  # each map all zero or all scaled
    assert abs(kept.mean() - 0.6) < 0.05  # 2000 channels: standard deviation 0.011
    np.testing.assert_allclose(per_channel[kept], 1 / 0.6, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._array, y._array, rtol=1e-6)  # ones in: the grad is the mask
    _, y3 = _draw(0.5, (4, 6, 10), fn=gn.dropout2d)
    assert (y3._array == y3._array[:, :, :1]).all()


@pytest.mark.parametrize("fn", [gn.dropout, gn.dropout2d])
def test_dropout_gradcheck(fn):
    def seeded(x):  # the same mask on every call of the finite differences
        gn.manual_seed(11)
        return fn(x, 0.4)
    gradcheck_op([(2, 3, 2, 2)], seeded)
