"""nn.init against torch.nn.init: the same gains, fans, bounds and distributions.

The moment checks run on ~200k draws, where the sample std is within ~0.3% of the
truth; the 1.5% tolerance is far tighter than the 19-41% a wrong gain (sqrt(2)) or a
swapped fan (the shapes below have fan_in != fan_out) would cause.
"""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.init as tinit

import glassnet as gn
import glassnet.nn.init as init

LARGE = [(250, 800), (128, 64, 5, 5), (512, 16, 25)]   # Linear, Conv2d, Conv1d weights
TOL = 0.015


def _fans(shape):
    return tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


def _close(actual, expected, tol=TOL):
    return abs(actual - expected) <= tol * abs(expected)


# ---------------------------------------------------------------- gain and fans
@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("relu", 3.0), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain(name, param):
    expected = tinit.calculate_gain(name, param)
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)
    assert type(init.calculate_gain(name, param)) is type(expected)


@pytest.mark.parametrize("name, param, match", [
    ("swish", None, "unsupported nonlinearity 'swish'"), ("Relu", None, "unsupported"),
    ("leaky_relu", "0.1", "negative_slope '0.1' is not a valid number"),
    ("leaky_relu", True, "negative_slope True")])
def test_calculate_gain_errors(name, param, match):
    with pytest.raises(ValueError):
        tinit.calculate_gain(name, param)
    with pytest.raises(ValueError, match=match):
        init.calculate_gain(name, param)


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (6, 2, 3), (8, 3, 5, 5), (2, 3, 2, 4, 5),
                                   (0, 5), (5, 0), (3, 4, 0)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(gn.empty(*shape)) == _fans(shape)


@pytest.mark.parametrize("shape", [(5,), ()])
def test_fans_need_two_dims(shape):
    with pytest.raises(ValueError, match=r"fewer than 2 dims \(shape "):
        init._calculate_fan_in_and_fan_out(gn.empty(*shape))


# --------------------------------------------------------------- scaled fills
def _kaiming_std(shape, a, mode, nonlinearity):
    fan_in, fan_out = _fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return tinit.calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _xavier_std(shape, gain):
    fan_in, fan_out = _fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


# (name, kwargs, intended std from torch's own helpers, uniform?)
SCALED = [
    ("xavier_uniform_", {}, lambda s: _xavier_std(s, 1.0), True),
    ("xavier_uniform_", {"gain": 2.0}, lambda s: _xavier_std(s, 2.0), True),
    ("xavier_normal_", {}, lambda s: _xavier_std(s, 1.0), False),
    ("xavier_normal_", {"gain": tinit.calculate_gain("tanh")},
     lambda s: _xavier_std(s, 5 / 3), False),
    ("kaiming_uniform_", {}, lambda s: _kaiming_std(s, 0, "fan_in", "leaky_relu"), True),
    ("kaiming_uniform_", {"a": math.sqrt(5)},
     lambda s: _kaiming_std(s, math.sqrt(5), "fan_in", "leaky_relu"), True),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"},
     lambda s: _kaiming_std(s, 0, "fan_out", "relu"), True),
    ("kaiming_uniform_", {"a": 0.2, "nonlinearity": "leaky_relu"},
     lambda s: _kaiming_std(s, 0.2, "fan_in", "leaky_relu"), True),
    ("kaiming_normal_", {}, lambda s: _kaiming_std(s, 0, "fan_in", "leaky_relu"), False),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"},
     lambda s: _kaiming_std(s, 0, "fan_out", "relu"), False),
    ("kaiming_normal_", {"nonlinearity": "tanh"}, lambda s: _kaiming_std(s, 0, "fan_in", "tanh"),
     False),
    ("kaiming_normal_", {"a": 1.0, "mode": "FAN_OUT"},
     lambda s: _kaiming_std(s, 1.0, "fan_out", "leaky_relu"), False),
]


@pytest.mark.parametrize("shape", LARGE)
@pytest.mark.parametrize("name, kwargs, intended_std, uniform", SCALED)
def test_scaled_fill_matches_torch(shape, name, kwargs, intended_std, uniform):
    gn.manual_seed(0)
    t = gn.empty(*shape, requires_grad=True)
    array = t._array
    assert getattr(init, name)(t, **kwargs) is t and t._array is array
    assert t.dtype == gn.float32 and t.requires_grad and t.grad is None
    v = array.astype(np.float64)
    std = intended_std(shape)
    torch.manual_seed(0)
    reference = getattr(tinit, name)(torch.empty(shape), **kwargs).double()
    assert _close(v.std(), std) and _close(v.std(), reference.std().item(), 2 * TOL)
    assert abs(v.mean()) < TOL * std
    if uniform:
        bound = math.sqrt(3.0) * std
        assert np.abs(v).max() <= bound * (1 + 1e-6) and np.abs(v).max() > bound * 0.999
        assert _close(np.abs(v).max(), reference.abs().max().item(), 0.002)
    else:
        assert np.mean(np.abs(v) > 2 * std) == pytest.approx(0.0455, abs=0.003)


def test_scaled_fill_small_and_zero_sized():
    t = init.kaiming_uniform_(gn.empty(3, 2))
    assert np.abs(t._array).max() <= math.sqrt(3.0) * math.sqrt(2.0 / 2)
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(gn.empty(0, 4))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_normal_(gn.empty(4, 0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.xavier_uniform_(gn.empty(0, 4)).shape == (0, 4)
        assert init.xavier_normal_(gn.empty(0, 0)).shape == (0, 0)
        assert init.orthogonal_(gn.empty(0, 3)).shape == (0, 3)


# ---------------------------------------------------------------- plain fills
@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-3.0, 5.0), (-0.01, 0.01)])
def test_uniform(a, b):
    v = init.uniform_(gn.empty(200_000), a, b)._array.astype(np.float64)
    assert v.min() >= a and v.max() <= b
    assert abs(v.mean() - (a + b) / 2) < TOL * (b - a) and _close(v.std(), (b - a) / math.sqrt(12))


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (2.0, 0.5), (-1.0, 0.02)])
def test_normal(mean, std):
    v = init.normal_(gn.empty(400, 500), mean, std)._array.astype(np.float64)
    assert abs(v.mean() - mean) < TOL * std and _close(v.std(), std)
    assert init.normal_(gn.empty(3), 4.0, 0.0)._array.tolist() == [4.0, 4.0, 4.0]


def test_constant_ones_zeros():
    t = gn.empty(4, 5)
    assert init.constant_(t, 0.3)._array.max() == np.float32(0.3) and t._array.min() == np.float32(0.3)
    assert init.zeros_(t)._array.max() == 0 and init.ones_(t)._array.min() == 1
    ints = gn.tensor(np.arange(6).reshape(2, 3))
    assert init.constant_(ints, 7)._array.tolist() == [[7] * 3] * 2 and ints.dtype == np.int64


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye(shape):
    np.testing.assert_array_equal(init.eye_(gn.empty(*shape))._array,
                                  tinit.eye_(torch.empty(shape)).numpy())


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((3, 5, 4), 1), ((6, 2, 3, 3), 3),
                                           ((4, 6, 5), 2), ((4, 2, 3, 2, 5), 2), ((6, 3, 3, 3), 1)])
def test_dirac(shape, groups):
    np.testing.assert_array_equal(init.dirac_(gn.empty(*shape), groups)._array,
                                  tinit.dirac_(torch.empty(shape), groups).numpy())


# ------------------------------------------------------------- truncated normal
def _truncated_moments(mean, std, a, b):
    lo, hi = (a - mean) / std, (b - mean) / std
    def pdf(z):
        return 0.0 if math.isinf(z) else math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def zpdf(z):
        return 0.0 if math.isinf(z) else z * pdf(z)
    mass = 0.5 * (math.erfc(lo / math.sqrt(2)) - math.erfc(hi / math.sqrt(2)))
    shift = (pdf(lo) - pdf(hi)) / mass
    var = 1 + (zpdf(lo) - zpdf(hi)) / mass - shift ** 2
    return mean + std * shift, std * math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),          # the default
    (0.5, 1.0, -1.0, 1.5),          # asymmetric
    (0.0, 0.25, -0.5, 0.5),         # ViT-style: two std either side
    (0.0, 1.0, -0.1, 0.1),          # narrow around the mean: uniform proposal
    (0.0, 1.0, 0.5, 1.0),           # narrow off the mean
    (0.0, 1.0, 2.5, 3.0),           # in one tail
    (0.0, 1.0, 6.0, 7.0),           # far out in the tail, where naive rejection never ends
    (1.0, 2.0, -math.inf, -3.0),    # one-sided, mirrored
    (0.0, 1.0, -1.0, math.inf),     # one-sided, containing the mean
])
def test_trunc_normal(mean, std, a, b):
    t = gn.empty(200_000, requires_grad=True)
    array = t._array
    assert init.trunc_normal_(t, mean=mean, std=std, a=a, b=b) is t and t._array is array
    v = array.astype(np.float64)
    assert v.min() >= a and v.max() <= b and t.dtype == gn.float32
    expected_mean, expected_std = _truncated_moments(mean, std, a, b)
    assert abs(v.mean() - expected_mean) < TOL * expected_std
    assert _close(v.std(), expected_std)
    assert np.mean(v == np.float32(a)) + np.mean(v == np.float32(b)) < 1e-3   # not clipped


def test_trunc_normal_degenerate():
    assert init.trunc_normal_(gn.empty(3), mean=5.0, std=0.0)._array.tolist() == [2.0] * 3
    assert init.trunc_normal_(gn.empty(2), a=1.0, b=1.0)._array.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ orthogonal
@pytest.mark.parametrize("shape, gain", [((30, 50), 1.0), ((50, 30), 2.0), ((8, 4, 3, 3), 2.0),
                                         ((36, 2, 3), 0.5), ((1, 5), 3.0), ((7, 1), 1.0)])
def test_orthogonal(shape, gain):
    t = gn.empty(*shape, requires_grad=True)
    array = t._array
    assert init.orthogonal_(t, gain=gain) is t and t._array is array and t.dtype == gn.float32
    flat = array.reshape(shape[0], -1).astype(np.float64)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(flat.shape)), atol=1e-5)


def test_orthogonal_is_haar():
    # LAPACK's QR alone leaves Q[0, 0] = -|x| / ||x|| always negative; the sign fix makes
    # Q's first column x / ||x||, whose first entry is positive half the time.
    gn.manual_seed(1)
    corners = [init.orthogonal_(gn.empty(4, 3))._array[0, 0] for _ in range(400)]
    corners_wide = [init.orthogonal_(gn.empty(3, 4))._array[0, 0] for _ in range(400)]
    assert 0.4 < np.mean(np.array(corners) > 0) < 0.6
    assert 0.4 < np.mean(np.array(corners_wide) > 0) < 0.6


# ---------------------------------------------------------------------- sparse
@pytest.mark.parametrize("shape, sparsity", [((40, 30), 0.1), ((10, 7), 0.35), ((5, 4), 0.0),
                                             ((5, 4), 1.0)])
def test_sparse(shape, sparsity):
    v = init.sparse_(gn.empty(*shape), sparsity, std=0.5)._array
    zeros = math.ceil(sparsity * shape[0])
    assert ((v == 0).sum(axis=0) == zeros).all()
    assert (v == 0).sum() == (tinit.sparse_(torch.empty(shape), sparsity) == 0).sum().item()
    if zeros and zeros < shape[0]:
        assert len({tuple(np.flatnonzero(col == 0)) for col in v.T}) > 1   # rows vary by column


def test_sparse_std():
    v = init.sparse_(gn.empty(400, 500), 0.2, std=0.3)._array.astype(np.float64)
    assert _close(v[v != 0].std(), 0.3)


# -------------------------------------------------- in place, seeds, generators
RANDOM = [
    lambda t, **k: init.uniform_(t, -1, 2, **k), lambda t, **k: init.normal_(t, 1, 3, **k),
    lambda t, **k: init.trunc_normal_(t, std=0.1, a=-0.1, b=0.3, **k),
    lambda t, **k: init.xavier_uniform_(t, **k), lambda t, **k: init.xavier_normal_(t, **k),
    lambda t, **k: init.kaiming_uniform_(t, **k), lambda t, **k: init.kaiming_normal_(t, **k),
    lambda t, **k: init.orthogonal_(t, **k), lambda t, **k: init.sparse_(t, 0.3, **k)]
FILLS = RANDOM + [init.ones_, init.zeros_, init.eye_, lambda t: init.constant_(t, 0.5)]


@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize("dtype", [gn.float32, gn.float64])
def test_in_place_keeps_dtype_and_array(fill, dtype):
    t = gn.empty(6, 8, dtype=dtype, requires_grad=True)
    array = t._array
    assert fill(t) is t and t._array is array and t.dtype == dtype and t.shape == (6, 8)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert np.isfinite(array).all()


@pytest.mark.parametrize("fill", FILLS)
def test_non_contiguous_array(fill):
    base = np.full((8, 6), np.nan, dtype=np.float32)
    t = gn.Tensor(base.T)                     # a view: must be written through, not replaced
    assert fill(t)._array.base is base and np.isfinite(base).all()


@pytest.mark.parametrize("fill", RANDOM)
def test_reproducible(fill):
    def draw(**kwargs):
        return fill(gn.empty(6, 8), **kwargs)._array.copy()
    gn.manual_seed(7)
    first = draw()
    gn.manual_seed(7)
    np.testing.assert_array_equal(draw(), first)
    gn.manual_seed(8)
    assert not np.array_equal(draw(), first)
    np.testing.assert_array_equal(draw(generator=np.random.default_rng(3)),
                                  draw(generator=np.random.default_rng(3)))
    gn.manual_seed(7)
    draw(generator=np.random.default_rng(3))  # an explicit generator leaves glassnet's alone
    np.testing.assert_array_equal(draw(), first)


@pytest.mark.parametrize("call, error, match", [
    (lambda: init.xavier_uniform_(gn.empty(5)), ValueError, r"fewer than 2 dims \(shape \(5,\)"),
    (lambda: init.xavier_normal_(gn.empty()), ValueError, "fewer than 2 dims"),
    (lambda: init.kaiming_normal_(gn.empty(7)), ValueError, "fewer than 2 dims"),
    (lambda: init.kaiming_uniform_(gn.empty(3, 3), mode="fan_avg"), ValueError,
     "mode 'fan_avg' is not supported, use 'fan_in' or 'fan_out'"),
    (lambda: init.kaiming_uniform_(gn.empty(3, 3), nonlinearity="swish"), ValueError,
     "unsupported nonlinearity 'swish'"),
    (lambda: init.kaiming_normal_(gn.empty(3, 3), a="x"), ValueError, "negative_slope 'x'"),
    (lambda: init.eye_(gn.empty(2, 3, 4)), ValueError, r"only 2-D .* shape \(2, 3, 4\)"),
    (lambda: init.dirac_(gn.empty(3, 3)), ValueError,
     r"3, 4 or 5 dims are supported, got shape \(3, 3\)"),
    (lambda: init.dirac_(gn.empty(5, 2, 3), groups=2), ValueError,
     r"dim 0 \(5\) must be divisible by groups \(2\)"),
    (lambda: init.orthogonal_(gn.empty(4)), ValueError,
     r"2 or more dims are supported, got shape \(4,\)"),
    (lambda: init.sparse_(gn.empty(2, 3, 4), 0.1), ValueError, "only 2-D"),
    (lambda: init.sparse_(gn.empty(4, 3), 1.5), ValueError, r"sparsity must lie in \[0, 1\]"),
    (lambda: init.uniform_(gn.empty(3), 2.0, 1.0), ValueError, "expected a <= b, got a=2.0"),
    (lambda: init.normal_(gn.empty(3), std=-1.0), ValueError, "expected std >= 0, got -1.0"),
    (lambda: init.trunc_normal_(gn.empty(3), a=1.0, b=-1.0), ValueError, "expected a <= b"),
    (lambda: init.trunc_normal_(gn.empty(3), std=-2.0), ValueError, "expected std >= 0"),
    (lambda: init.normal_(gn.tensor([1, 2])), TypeError, "normal_: expected a floating-point"),
    (lambda: init.uniform_(np.zeros(3)), TypeError, "expected a glassnet Tensor, got ndarray"),
    (lambda: init.normal_(gn.empty(3), generator=7), TypeError,
     "generator must be a numpy.random.Generator, got int"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
