"""matmul (every rank combination, broadcasting batch dims) and the fused linear."""
import pytest
import torch

import glassnet as gn
from parity import check_op, gradcheck_op


@pytest.mark.parametrize("shapes", [
    [(4,), (4,)], [(4,), (4, 3)], [(2, 4), (4,)], [(2, 4), (4, 3)], [(5, 2, 4), (4, 3)],
    [(2, 4), (5, 4, 3)], [(5, 2, 4), (5, 4, 3)], [(5, 1, 2, 4), (3, 4, 6)], [(4,), (2, 4, 3)],
    [(2, 3, 4), (4,)], [(1, 2, 4), (3, 4, 2)], [(64, 784), (784, 10)],
])
def test_matmul(shapes):
    check_op(shapes, lambda a, b: a @ b, low=-1, high=1, rtol=1e-4, atol=1e-4)
    check_op(shapes, lambda a, b: torch.matmul(a, b), lambda a, b: gn.matmul(a, b), low=-1, high=1,
             atol=1e-4)


@pytest.mark.parametrize("x_shape", [(6, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    shapes = [x_shape, (4, 5)] + ([(4,)] if bias else [])
    check_op(shapes, lambda *a: torch.nn.functional.linear(*a), lambda *a: gn.linear(*a))
    gradcheck_op(shapes, lambda *a: gn.linear(*a))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (3, 4)], [(2, 2, 3), (3,)],
                                    [(3,), (2, 3, 2)], [(2, 1, 2, 3), (2, 3, 2)]])
def test_gradcheck_matmul(shapes):
    gradcheck_op(shapes, lambda a, b: a @ b)


def test_matmul_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: cannot multiply \(64, 784\) by \(512, 10\)"):
        gn.ones(64, 784) @ gn.ones(512, 10)


def test_linear_error_names_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(8, 3\) has 3 features"):
        gn.linear(gn.ones(8, 3), gn.ones(4, 5))
