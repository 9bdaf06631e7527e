"""Activations against PyTorch: values and gradients for every argument form, the
subgradient chosen at the kinks, dtypes, and float64 finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from glassnet.ops.activation import _normal_cdf
from parity import check_op, gradcheck_op

# every test here runs with the compiled loops (ReLU's backward) and with NumPy's
pytestmark = pytest.mark.usefixtures("kernels")

# name -> (PyTorch, glassnet), each taking one tensor
ACTIVATIONS = {
    "sigmoid": (torch.sigmoid, gn.sigmoid),
    "tanh": (torch.tanh, gn.tanh),
    "relu": (torch.relu, gn.relu),
    "relu6": (TF.relu6, gn.relu6),
    "silu": (TF.silu, gn.silu),
    "leaky_relu": (TF.leaky_relu, gn.leaky_relu),
    "leaky_relu_0.2": (lambda x: TF.leaky_relu(x, 0.2), lambda x: gn.leaky_relu(x, 0.2)),
    "leaky_relu_neg": (lambda x: TF.leaky_relu(x, negative_slope=-0.5),
                       lambda x: gn.leaky_relu(x, negative_slope=-0.5)),
    "hardtanh": (TF.hardtanh, gn.hardtanh),
    "hardtanh_-0.5_2": (lambda x: TF.hardtanh(x, -0.5, 2.0), lambda x: gn.hardtanh(x, -0.5, 2.0)),
    "elu": (TF.elu, gn.elu),
    "elu_0.5": (lambda x: TF.elu(x, 0.5), lambda x: gn.elu(x, 0.5)),
    "elu_2": (lambda x: TF.elu(x, alpha=2.0), lambda x: gn.elu(x, alpha=2.0)),
    "gelu": (TF.gelu, gn.gelu),
    "gelu_tanh": (lambda x: TF.gelu(x, approximate="tanh"),
                  lambda x: gn.gelu(x, approximate="tanh")),
    "softplus": (TF.softplus, gn.softplus),
    "softplus_beta2": (lambda x: TF.softplus(x, beta=2.0), lambda x: gn.softplus(x, beta=2.0)),
    "softplus_beta0.5_t1": (lambda x: TF.softplus(x, 0.5, 1.0), lambda x: gn.softplus(x, 0.5, 1.0)),
    "softplus_t0.5": (lambda x: TF.softplus(x, threshold=0.5),
                      lambda x: gn.softplus(x, threshold=0.5)),
    "sigmoid_method": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "tanh_method": (lambda x: x.tanh(), lambda x: x.tanh()),
    "relu_method": (lambda x: x.relu(), lambda x: x.relu()),
}
SHAPES = [(), (7,), (3, 5), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_parity(name, shape):
    check_op([shape], *ACTIVATIONS[name], low=-4, high=4)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_parity_float64(name):
    out = check_op([], *ACTIVATIONS[name], values=[np.linspace(-5, 5, 23)], rtol=1e-7, atol=1e-9)
    assert out[0].dtype == np.float64


# Inputs on the kinks: the subgradient PyTorch picks (relu'(0) = 0, hardtanh' = 0 on its
# bounds, leaky_relu'(0) = slope, elu'(0) = alpha, softplus at its threshold is linear).
@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu_0.2", "hardtanh", "hardtanh_-0.5_2",
                                  "elu_0.5", "softplus", "softplus_t0.5", "gelu", "silu"])
def test_activation_at_kinks(name):
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0, 20.0, 21.0], np.float32)
    check_op([], *ACTIVATIONS[name], values=[values])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "relu6", "leaky_relu_neg",
                                  "leaky_relu", "hardtanh", "hardtanh_-0.5_2",
                                  "elu_2", "gelu", "gelu_tanh", "softplus_beta2",
                                  "softplus_beta0.5_t1", "silu"])
def test_activation_gradcheck(name):
    # keep clear of the kinks, where finite differences straddle two pieces
    values = [np.array([-3.1, -1.7, -0.6, -0.31, 0.23, 0.77, 1.4, 2.6, 3.3, 5.2, 6.4])]
    gradcheck_op([], ACTIVATIONS[name][1], values=values)


def test_step_gradcheck():  # the step's gradient is 0 away from the jump, numerically too
    gradcheck_op([], lambda x: gn.step(x) * 3.0, values=[np.array([-1.3, -0.2, 0.4, 2.2])])


SOFTMAX_CASES = [((5,), 0), ((5,), -1), ((3, 6), 1), ((3, 6), 0), ((3, 6), -2), ((2, 3, 4), 1),
                 ((2, 3, 4), -1), ((2, 3, 4, 5), 2), ((), 0), ((1, 4), 0)]


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_parity(fn, shape, dim):
    check_op([shape], lambda x: getattr(torch, fn)(x, dim), lambda x: getattr(gn, fn)(x, dim),
             low=-5, high=5)
    check_op([shape], lambda x: getattr(x, fn)(dim), low=-5, high=5)  # the Tensor method


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_dtype_argument(fn):
    out = check_op([(3, 4)], lambda x: getattr(torch, fn)(x, 1, dtype=torch.float64),
                   lambda x: getattr(gn, fn)(x, 1, dtype=gn.float64))[0]
    assert out.dtype == np.float64


@pytest.mark.parametrize("fn,dim", [("softmax", 1), ("log_softmax", 0), ("softmax", -1)])
def test_softmax_gradcheck(fn, dim):
    gradcheck_op([(3, 4)], lambda x: getattr(gn, fn)(x, dim), low=-3, high=3)


def test_softmax_rows_sum_to_one_and_shift_invariance():
    x = np.round(np.random.default_rng(0).normal(size=(4, 7)) * 64) / 64  # x + 1000 is exact
    x = gn.tensor(x.astype(np.float32))
    np.testing.assert_allclose(gn.softmax(x, 1).sum(1)._array, np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(gn.softmax(x + 1000.0, 1)._array, gn.softmax(x, 1)._array, rtol=1e-6)


def test_step_is_heaviside_with_zero_gradient():
    values = np.array([-2.0, -0.0, 0.0, 1e-7, 3.0], np.float32)
    check_op([], lambda x: torch.heaviside(x, torch.tensor(0.0)), gn.step, values=[values],
             forward_only=True)
    x = gn.tensor(values, requires_grad=True)
    y = gn.step(x)
    assert y.dtype == np.float32 and y.requires_grad  # part of the graph, as torch.heaviside is
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad._array, np.zeros(5, np.float32))
    assert x.step().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert gn.step(gn.tensor([-1, 0, 2])).tolist() == [0.0, 0.0, 1.0]  # ints give floats


def test_integer_inputs():
    assert gn.relu(gn.tensor([-2, 3])).tolist() == [0, 3]
    check_op([], torch.sigmoid, gn.sigmoid, values=[np.array([-2, 0, 3])], forward_only=True)
    check_op([], torch.tanh, gn.tanh, values=[np.array([-2, 0, 3])], forward_only=True)
    for fn in (gn.gelu, gn.elu, gn.softplus, gn.silu, gn.leaky_relu, gn.hardtanh):
        with pytest.raises(TypeError, match=r"expected a floating-point tensor, got int64"):
            fn(gn.tensor([1, 2]))
    with pytest.raises(TypeError, match="softmax: expected a floating-point tensor"):
        gn.softmax(gn.tensor([1, 2]), 0)


def test_argument_errors():
    x = gn.ones(2, 3)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        gn.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match=r"softmax: dim 2 is out of range"):
        gn.softmax(x, 2)
    with pytest.raises(TypeError, match="log_softmax: dim is required"):
        gn.log_softmax(x, None)
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        gn.hardtanh(x, 1.0, -1.0)
    with pytest.raises(TypeError, match="sigmoid: expected a Tensor, got list"):
        gn.sigmoid([1.0, 2.0])


def test_no_graph_under_no_grad_and_without_grad():
    x = gn.randn(3, 4, requires_grad=True)
    with gn.no_grad():
        assert not gn.gelu(x).requires_grad and gn.sigmoid(x).grad_fn is None
    y = gn.elu(gn.randn(3, 4))
    assert not y.requires_grad


def test_normal_cdf_keeps_relative_accuracy_in_the_tail():
    mpmath = pytest.importorskip("mpmath")
    x = np.concatenate([np.linspace(-38, 9, 941), [-1e-8, 0.0, 1e-8, 1e4, -1e4]])
    exact = np.array([float(mpmath.ncdf(v)) for v in x])
    got = _normal_cdf(x)
    tiny = exact < 1e-300  # below float64's normal range only the subnormal grid is left
    np.testing.assert_allclose(got[~tiny], exact[~tiny], rtol=5e-13, atol=0)  # fit + x^2 rounding
    np.testing.assert_allclose(got[tiny], exact[tiny], rtol=0, atol=1e-305)
    x32 = x.astype(np.float32)
    exact32 = np.array([float(mpmath.ncdf(float(v))) for v in x32])
    got32 = _normal_cdf(x32)
    assert got32.dtype == np.float32
    normal = exact32 > 1e-37
    # float32's own rounding of x^2 / 2 bounds the relative error at about 1e-7 * x^2
    np.testing.assert_allclose(got32[normal], exact32[normal], rtol=2e-7 * 14 ** 2)
    np.testing.assert_allclose(got32[~normal], exact32[~normal], atol=2e-38)


@pytest.mark.parametrize("make", [lambda nn: nn.ReLU6(), lambda nn: nn.ReLU6(inplace=True),
                                  lambda nn: nn.Hardtanh(), lambda nn: nn.Hardtanh(-2, 3),
                                  lambda nn: nn.Hardtanh(0.0, 6.0, inplace=True)])
def test_relu6_hardtanh_modules_match_torch(make):
    """The layers: PyTorch's repr, and values and gradients on and around the bounds."""
    ours, theirs = make(gn.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    values = np.array([-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 5.9, 6.0, 6.1, 9.0], np.float32)
    x = gn.tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    out, out_t = ours(x), theirs(xt.clone())   # clone: torch's inplace must not touch xt
    weights = np.arange(1, values.size + 1, dtype=np.float32)
    (out * gn.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())  # 0 exactly on the bounds


def test_hardtanh_module_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        gn.nn.Hardtanh(2.0, 1.0)
