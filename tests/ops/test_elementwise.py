"""Elementwise arithmetic against PyTorch: values, gradients, broadcasting, dtypes."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import check_op, gradcheck_op

BROADCAST = [
    [(4, 5), (4, 5)], [(4, 5), (5,)], [(5,), (4, 5)], [(4, 1), (1, 5)], [(3, 1, 5), (4, 1)],
    [(2, 3, 4), ()], [(), (3, 2)], [(1,), (3, 2)], [(2, 1, 3, 1), (5, 1, 4)],
]


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("fn", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
    lambda a, b: a / (b.abs() + 0.5), lambda a, b: a.maximum(b), lambda a, b: a.minimum(b),
    lambda a, b: a.add(b), lambda a, b: a.sub(b), lambda a, b: a.mul(b),
], ids=["add", "sub", "mul", "div", "maximum", "minimum", "add_m", "sub_m", "mul_m"])
def test_binary_broadcasting(shapes, fn):
    check_op(shapes, fn)


@pytest.mark.parametrize("fn", [
    lambda x: x + 2.5, lambda x: 2.5 + x, lambda x: x - 1, lambda x: 1 - x, lambda x: x * -3,
    lambda x: 0.5 * x, lambda x: x / 4, lambda x: 3 / (x.abs() + 1), lambda x: -x,
    lambda x: x ** 2, lambda x: x ** 3, lambda x: x.abs() ** 0.5, lambda x: x ** 0,
    lambda x: x ** -1.5 if False else (x.abs() + 0.1) ** -1.5, lambda x: 2 ** x,
    lambda x: x.exp(), lambda x: (x.abs() + 0.1).log(), lambda x: (x.abs() + 0.1).sqrt(),
    lambda x: x.abs(), lambda x: x.sign(), lambda x: x.clamp(-0.5, 0.7),
    lambda x: x.clamp(min=0.1), lambda x: x.clamp(max=-0.2), lambda x: x.clip(-1, 1),
    lambda x: x % 0.7, lambda x: x.pow(2), lambda x: x.neg(),
])
def test_unary_and_scalar(fn):
    check_op([(3, 7)], fn)


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1), (1, 3)]])
def test_pow_tensor_exponent(shapes):
    check_op(shapes, lambda a, b: a.abs().add(0.2) ** b, low=0.2, high=2.0)
    check_op(shapes, lambda a, b: torch.pow(a, b), lambda a, b: gn.pow(a, b), low=0.5, high=2)


def test_pow_zero_base_edge_cases():
    # PyTorch defines d(0^b)/db = 0 for b >= 0 and d(a^0)/da = 0
    check_op([], lambda a, b: a ** b, values=[np.array([0.0, 0.0, 2.0], np.float32),
                                               np.array([2.0, 0.0, 0.0], np.float32)])


def test_remainder_by_a_tensor():
    # PyTorch has no derivative for the divisor of remainder; glassnet's is checked numerically.
    check_op([(3, 7)], lambda x: 5.0 % (x.abs() + 1), forward_only=True)
    gradcheck_op([(3, 7), (7,)], lambda a, b: a % (b.abs() + 1), low=0.1, high=3)


def test_where():
    rng = np.random.default_rng(0)
    cond = rng.random((4, 5)) > 0.5
    check_op([(4, 5), (5,)], lambda a, b: torch.where(torch.tensor(cond), a, b),
             lambda a, b: gn.where(gn.tensor(cond), a, b))
    check_op([(4, 1)], lambda a: torch.where(torch.tensor(cond), a, 0.0),
             lambda a: gn.where(gn.tensor(cond), a, 0.0))


def test_maximum_ties_split_the_gradient():
    v = np.array([1.0, 2.0, 3.0], np.float32)
    check_op([], lambda a, b: torch.maximum(a, b), lambda a, b: gn.maximum(a, b),
             values=[v, np.array([1.0, 5.0, 0.0], np.float32)])
    check_op([], lambda a, b: torch.minimum(a, b), lambda a, b: gn.minimum(a, b),
             values=[v, np.array([1.0, 5.0, 0.0], np.float32)])


def test_clamp_at_the_bounds_passes_gradient():
    check_op([], lambda x: x.clamp(-1, 1), values=[np.array([-1.0, 1.0, 0.0, 2.0], np.float32)])


def test_clamp_with_tensor_bounds():
    check_op([(3, 4), (4,)], lambda x, lo: torch.clamp(x, min=lo), lambda x, lo: gn.clamp(x, min=lo))


@pytest.mark.parametrize("fn", [
    lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b, lambda a, b: (a > 0) & (b > 0),
    lambda a, b: (a > 0) | (b > 0), lambda a, b: ~(a > b),
])
def test_comparisons_give_bool_and_no_grad(fn):
    a = np.array([[1, 2, 3], [3, 2, 1]], np.float32)
    out = check_op([], fn, values=[a, np.array([2, 2, 2], np.float32)], forward_only=True)[0]
    assert out.dtype == np.bool_ and not out.requires_grad


@pytest.mark.parametrize("fn", [
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: a + b, lambda a, b: a * b,
    lambda a, b: a / b, lambda a, b: a - b,
])
def test_integer_arithmetic(fn):
    check_op([], fn, values=[np.array([7, -7, 9], np.int64), np.array([2, 3, -4], np.int64)],
             forward_only=True)


@pytest.mark.parametrize("fn", [
    lambda x: x + 1.5, lambda x: x * 0.5, lambda x: x / 2, lambda x: 1.5 - x, lambda x: x // 2,
    lambda x: x + True, lambda x: (x > 1) + 1, lambda x: (x > 1) * 2.5,
])
def test_dtype_promotion_with_python_numbers(fn):
    check_op([], fn, values=[np.array([1, 2, 3], np.int64)], forward_only=True)


def test_float32_stays_float32_and_float64_wins():
    x = gn.ones(3)
    assert (x * 2.0).dtype == np.float32 and (x + np.float64(1)).dtype == np.float32
    assert (x + gn.ones(3, dtype=gn.float64)).dtype == np.float64
    assert (x + gn.tensor([1, 2, 3])).dtype == np.float32


def test_ndarray_on_the_left_defers_to_tensor():
    x = gn.ones(2, 3, requires_grad=True)
    y = np.full((2, 3), 2, np.float32) * x
    assert isinstance(y, gn.Tensor) and y.requires_grad


@pytest.mark.parametrize("fn", [
    lambda a, b: a * b + a / (b.abs() + 1), lambda a, b: (a - b).abs() ** 1.5,
    lambda a, b: a.maximum(b) * a.minimum(b), lambda a, b: (a * b).exp().clamp(0.2, 3),
    lambda a, b: (a.abs() + 0.5).log() * b.sign() + b % 0.9,
    lambda a, b: (a.abs() + 0.5) ** b, lambda a, b: (b * b + 0.1).sqrt() - a,
])
def test_gradcheck_elementwise(fn):
    gradcheck_op([(3, 4), (4,)], fn, low=-1.5, high=1.5, seed=3)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        gn.ones(2, 3) + gn.ones(4)


from hypothesis import given, strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcasting_in_every_direction(shapes, op):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / (b * b + 0.5), "maximum": lambda a, b: a.maximum(b)}[op]
    check_op(list(shapes.input_shapes), fn)


def test_gradcheck_where_cast_clone_neg():
    cond = gn.tensor(np.random.default_rng(5).random((3, 4)) > 0.5)
    gradcheck_op([(3, 4), (4,)], lambda a, b: gn.where(cond, a, b) * 2)
    gradcheck_op([(3, 4)], lambda a: (a * a.clone()).neg())


def test_cast_gradient_returns_to_the_source_dtype():
    # a float32 round trip would defeat finite differences, so the cast is checked on PyTorch
    check_op([(3, 4)], lambda a: a.double() * 2 + a.double().float())
