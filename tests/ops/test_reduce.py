"""Reductions against PyTorch: every dim form (None, int, negative, tuple), keepdim both
ways, ties for max/min, zeros for prod, and float64 finite differences."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import check_op, gradcheck_op

RAISE_FP = dict(over="raise", divide="raise", invalid="raise")  # NumPy's warnings as errors

# (shape, dim) pairs every dim-taking reduction is tried on
DIMS = [((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((3, 4), -2),
        ((2, 3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), (0, 1, 2)),
        ((2, 3, 1, 4), (1, 3)), ((), 0)]
INT_DIMS = [(s, d) for s, d in DIMS if isinstance(d, int)]


def call(name, *args, **kwargs):
    """The same reduction, in PyTorch and in glassnet."""
    return (lambda x: getattr(torch, name)(x, *args, **kwargs),
            lambda x: getattr(gn, name)(x, *args, **kwargs))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "amax", "amin"])
def test_reduction_over_dims(name, shape, dim, keepdim):
    check_op([shape], *call(name, dim, keepdim=keepdim))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)], ids=str)
def test_reduction_over_everything(name, shape):
    check_op([shape], *call(name))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "logsumexp"])
def test_tensor_methods(name):
    if name in ("max", "min"):
        check_op([(3, 4)], lambda x: getattr(x, name)(1))
        check_op([(3, 4)], lambda x: getattr(x, name)())
    else:
        check_op([(3, 4)], lambda x: getattr(x, name)(1, keepdim=True))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("correction", [None, 0, 1, 2, 0.5])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((2, 3, 4), (0, 2)),
                                       ((2, 3, 4), None)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_correction(name, shape, dim, correction, keepdim):
    check_op([shape], *call(name, dim, correction=correction, keepdim=keepdim))


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_unbiased(name, unbiased):
    check_op([(4, 6)], *call(name, 1, unbiased, True))  # the legacy positional form
    check_op([(4, 6)], *call(name, unbiased=unbiased))
    check_op([(4, 6)], lambda x: getattr(x, name)(0, unbiased))


def test_std_of_constant_slices_has_zero_gradient():
    values = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], np.float32)
    check_op([], *call("std", 1), values=[values])
    check_op([], *call("std"), values=[np.full((2, 3), 5.0, np.float32)])


def test_var_without_degrees_of_freedom_is_nan_or_inf():
    with np.errstate(**RAISE_FP):  # and no floating-point warning
        assert np.isnan(gn.var(gn.tensor([3.0])).item())
        assert np.isinf(gn.var(gn.tensor([3.0, 4.0]), correction=2).item())
        assert np.isnan(gn.std(gn.ones(4, 1), 1)._array).all()


# Ties: the full reductions share the gradient among the tied extremes; with a dim the
# first extreme takes it all (and its index is returned).
TIES = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 0.0, 5.0]], np.float32)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_full_reduction_splits_gradient_among_ties(name):
    check_op([], *call(name), values=[TIES])
    check_op([], *call(name), values=[np.array([7.0, -7.0, 7.0, -7.0, 7.0], np.float32)])


@pytest.mark.parametrize("name,dim", [("amax", 1), ("amin", 0), ("amax", (0, 1)), ("amin", -1)])
def test_amax_amin_split_ties_along_dims(name, dim):
    check_op([], *call(name, dim), values=[TIES])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_give_values_and_first_index(name, dim, keepdim):
    check_op([], *call(name, dim, keepdim), values=[TIES])
    out = getattr(gn, name)(gn.tensor(TIES, requires_grad=True), dim, keepdim)
    values, indices = out
    assert values is out.values and indices is out.indices and values.requires_grad
    assert indices.dtype == np.int64 and not indices.requires_grad


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", INT_DIMS, ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_random(name, shape, dim, keepdim):
    check_op([shape], *call(name, dim, keepdim=keepdim))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dim, keepdim):
    check_op([], *call(name, dim, keepdim), values=[TIES], forward_only=True)
    check_op([(3, 5)], *call(name, dim=dim, keepdim=keepdim), forward_only=True)
    check_op([], *call(name, dim, keepdim), values=[np.array([[1, 9, 9], [4, 4, 0]])],
             forward_only=True)


def test_argmax_and_max_of_0d_and_nan():
    check_op([], *call("argmax", 0), values=[np.float32(2.0)], forward_only=True)
    check_op([], *call("max", 0), values=[np.float32(2.0)])
    check_op([], *call("max", 1), values=[np.array([[1.0, np.nan, 3.0]], np.float32)],
             forward_only=True)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod(dim, keepdim):
    if dim is None:
        check_op([(3, 4)], *call("prod"), low=0.5, high=1.5)
    else:
        check_op([(3, 4)], *call("prod", dim, keepdim), low=-1.5, high=1.5)


@pytest.mark.parametrize("values", [
    [[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, -3.0]],   # one zero, two zeros, none
    [[0.0, 0.0, 0.0], [5.0, 0.0, -1.0], [1.0, 1.0, 1.0]],
])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_prod_with_zeros(values, dim):
    fns = call("prod") if dim is None else call("prod", dim)
    check_op([], *fns, values=[np.array(values, np.float32)])


def test_prod_of_integers_and_0d():
    check_op([], *call("prod", 0), values=[np.array([3, -2, 4], np.int32)], forward_only=True)
    check_op([], *call("prod"), values=[np.float32(3.0)])
    check_op([], *call("prod", 0), values=[np.float32(3.0)])


def test_logsumexp_edge_values():
    values = np.array([[-np.inf, -np.inf, -np.inf], [-np.inf, 0.0, 1.0], [1e4, 1e4, -1e4]],
                      np.float32)
    with np.errstate(**RAISE_FP):
        check_op([], *call("logsumexp", 1), values=[values], forward_only=True)
        check_op([], *call("logsumexp", 1), values=[values[1:2]])
        x = gn.tensor(values[2:], requires_grad=True)
        gn.logsumexp(x, 1).sum().backward()
    # PyTorch's e^(x - y), with y = 1e4 + log 2 rounded to float32, is off by 2e-4 here
    np.testing.assert_array_equal(x.grad._array, [[0.5, 0.5, 0.0]])
    assert gn.logsumexp(gn.zeros(2, 0), 1).tolist() == [-np.inf, -np.inf]


REDUCTIONS = {
    "sum": lambda x: gn.sum(x, (0, 2)), "mean": lambda x: gn.mean(x, -1, keepdim=True),
    "var": lambda x: gn.var(x, 1), "var_c0": lambda x: gn.var(x, (0, 1), correction=0),
    "std": lambda x: gn.std(x, -1, keepdim=True), "std_all": lambda x: gn.std(x),
    "logsumexp": lambda x: gn.logsumexp(x, (1, 2)), "max": lambda x: gn.max(x), "min": lambda x: gn.min(x),
    "max_dim": lambda x: gn.max(x, 1).values, "min_dim": lambda x: gn.min(x, -1, True)[0],
    "amax": lambda x: gn.amax(x, (0, 2)), "amin": lambda x: gn.amin(x, 1),
    "prod": lambda x: gn.prod(x, 2), "prod_all": lambda x: gn.prod(x),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck(name):
    # distinct entries, so max/min have no ties that finite differences could split
    values = np.random.default_rng(1).permutation(24).reshape(2, 3, 4) / 10.0 - 1.05
    gradcheck_op([], REDUCTIONS[name], values=[values])


def test_float64_is_kept():
    x = gn.tensor(np.ones((2, 3)), dtype=gn.float64, requires_grad=True)
    for y in (gn.var(x, 1), gn.std(x), gn.logsumexp(x, 0), gn.max(x, 1).values, gn.amin(x),
              gn.prod(x, 1), gn.mean(x)):
        assert y.dtype == np.float64


def test_errors_name_the_op():
    x = gn.ones(2, 3)
    with pytest.raises(TypeError, match="mean: needs a floating-point tensor, got int64"):
        gn.mean(gn.tensor([1, 2]))
    with pytest.raises(TypeError, match="var: needs a floating-point tensor"):
        gn.var(gn.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"max: dim 2 is out of range"):
        gn.max(x, 2)
    with pytest.raises(ValueError, match=r"logsumexp: dim \(0, -2\) names a dimension twice"):
        gn.logsumexp(x, (0, -2))
    with pytest.raises(ValueError, match=r"max: cannot reduce over an empty dim"):
        gn.max(gn.zeros(0, 3))
    with pytest.raises(ValueError, match=r"argmin: cannot reduce over an empty dim"):
        gn.argmin(gn.zeros(3, 0), 1)
    assert gn.max(gn.zeros(0, 3), 1).values.shape == (0,)  # nothing reduced over an empty slice


def test_no_graph_without_grad():
    x = gn.randn(3, 4, requires_grad=True)
    with gn.no_grad():
        assert not gn.var(x, 1).requires_grad and not gn.max(x, 1).values.requires_grad
    assert gn.max(x, 1).values.requires_grad and not gn.argmax(x).requires_grad
