"""Inputs of magnitude 1e4: every value and gradient finite and equal to PyTorch's, and not
one NumPy warning (overflow, invalid value, division by zero) on the way."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from parity import check_op
from test_activation import ACTIVATIONS

pytestmark = pytest.mark.filterwarnings("error")

BIG = np.array([-1e4, -3e3, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 3e3, 1e4])

UNARY = {name: ACTIVATIONS[name] for name in ("sigmoid", "tanh", "softplus", "elu", "gelu",
                                                "gelu_tanh", "silu")}
UNARY.update({
    "softmax": (lambda x: torch.softmax(x, -1), lambda x: gn.softmax(x, -1)),
    "log_softmax": (lambda x: torch.log_softmax(x, -1), lambda x: gn.log_softmax(x, -1)),
    "logsumexp_pairs": (lambda x: torch.logsumexp(x.reshape(-1, 2), 1),
                        lambda x: gn.logsumexp(x.reshape(-1, 2), 1)),
})


def _finite_everywhere(out, inputs):
    for t in out:
        assert np.isfinite(t._array).all()
    for x in inputs:
        assert x.grad is None or np.isfinite(x.grad._array).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_activation_at_large_magnitudes(name, dtype):
    torch_fn, gn_fn = UNARY[name]
    x = BIG.astype(dtype)
    if "pairs" in name:  # pairs that share a maximum, pairs far apart, pairs of equals
        x = np.array([1e4, 1e4, -1e4, 1e4, -1e4, -1e4, 0.0, 1e4, 3e3, -3e3, 5.0, 6.0], dtype)
    # PyTorch's float32 logsumexp gradient e^(x - y) carries y's rounding at 1e4 (2e-4)
    loose = {"grad_rtol": 5e-4} if "pairs" in name and dtype == np.float32 else {}
    seen = []
    out = check_op([], torch_fn, lambda t: seen.append(t) or gn_fn(t), values=[x], **loose)
    _finite_everywhere(out, seen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_past_a_large_threshold_does_not_overflow(dtype):
    # PyTorch's log1p(exp(beta x)) overflows to inf here; glassnet's max(z, 0) + log1p(e^-|z|)
    # gives log(1 + e^(beta x)) / beta exactly
    x = gn.tensor(BIG.astype(dtype), dtype=dtype, requires_grad=True)
    y = gn.softplus(x, beta=0.5, threshold=1e5)
    y.sum().backward()
    np.testing.assert_allclose(y._array, np.logaddexp(0, 0.5 * BIG) / 0.5, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(x.grad._array, torch.sigmoid(torch.tensor(0.5 * BIG)), rtol=1e-6,
                               atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"reduction": "none"},
                                     {"weight": True}], ids=str)
def test_cross_entropy_at_large_logits(options, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3e3, 3e3, -3e3],
                       [1e4, 1e4, 1e4], [-1e4, 5.0, -1e4]], dtype)
    targets = np.array([1, 2, 0, 1, 0])
    kw = dict(options)
    if kw.pop("weight", False):
        w = np.array([0.5, 2.0, 1.0], dtype)
        torch_fn = lambda x, t: TF.cross_entropy(x, t, weight=torch.tensor(w))  # noqa: E731
        gn_fn = lambda x, t: gn.cross_entropy(x, t, weight=gn.tensor(w, dtype=dtype))  # noqa: E731
    else:
        torch_fn = lambda x, t: TF.cross_entropy(x, t, **kw)  # noqa: E731
        gn_fn = lambda x, t: gn.cross_entropy(x, t, **kw)  # noqa: E731
    seen = []
    out = check_op([], torch_fn, lambda x, t: seen.append(x) or gn_fn(x, t),
                   values=[logits, targets])
    _finite_everywhere(out, seen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_probability_targets_at_large_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype)
    probs = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype)
    seen = []
    out = check_op([], lambda x, t: TF.cross_entropy(x, t),
                   lambda x, t: seen.extend([x, t]) or gn.cross_entropy(x, t),
                   values=[logits, probs])
    _finite_everywhere(out, seen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"pos_weight": True}, {"reduction": "none"}], ids=str)
def test_binary_cross_entropy_with_logits_at_large_logits(options, dtype):
    x = BIG.astype(dtype)
    t = np.tile([0.0, 1.0, 0.3], 4)[:x.size].astype(dtype)
    kw = dict(options)
    if kw.pop("pos_weight", False):
        pw = np.full(x.size, 3.0, dtype)
        torch_fn = lambda a, b: TF.binary_cross_entropy_with_logits(  # noqa: E731
            a, b, pos_weight=torch.tensor(pw))
        gn_fn = lambda a, b: gn.binary_cross_entropy_with_logits(  # noqa: E731
            a, b, pos_weight=gn.tensor(pw, dtype=dtype))
    else:
        torch_fn = lambda a, b: TF.binary_cross_entropy_with_logits(a, b, **kw)  # noqa: E731
        gn_fn = lambda a, b: gn.binary_cross_entropy_with_logits(a, b, **kw)  # noqa: E731
    seen = []
    out = check_op([], torch_fn, lambda a, b: seen.extend([a, b]) or gn_fn(a, b), values=[x, t])
    _finite_everywhere(out, seen)


def test_extreme_magnitudes_raise_no_warning():
    # far beyond 1e4: exponentials and cubes of these would overflow if taken naively
    x = gn.tensor(np.array([-3e38, -1e30, 1e30, 3e38], np.float32), requires_grad=True)
    for fn in (gn.sigmoid, gn.softplus, gn.elu, gn.gelu, gn.silu,
               lambda t: gn.gelu(t, approximate="tanh")):
        y = fn(x)
        y.backward(np.ones(4, np.float32))
        assert not np.isnan(y._array).any() and np.isfinite(x.grad._array).all()
        x.grad = None
