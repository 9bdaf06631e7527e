"""max/avg pooling (1-D and 2-D) and adaptive average pooling against
torch.nn.functional: every argument form, ties, NaN and -inf, every gradient,
float64 finite differences and the error messages."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from parity import check_op, gradcheck_op

# every test here runs with the compiled loops and with the NumPy ones
pytestmark = pytest.mark.usefixtures("kernels")


def _check(name, shape, *args, values=None, **kw):
    tfn, gfn = getattr(TF, name), getattr(gn, name)
    return check_op([shape], lambda x: tfn(x, *args, **kw), lambda x: gfn(x, *args, **kw),
                    values=values)


MAX_POOL2D_CASES = [  # (input shape, kernel_size, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 2, None, 0, 1, False),            # odd sizes drop the last row/column
    ((2, 3, 9, 7), 2, None, 0, 1, True),             # ... or keep a partial window
    ((2, 3, 9, 9), 3, 2, 1, 1, False),
    ((2, 3, 9, 9), 3, 2, 1, 1, True),
    ((2, 3, 10, 10), 3, 2, 1, 1, True),              # last window would start in the padding
    ((2, 3, 8, 8), 3, 1, 1, 1, False),               # overlapping windows accumulate
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1), 1, False),
    ((2, 3, 11, 10), 3, 2, 1, 2, False),             # dilation
    ((2, 3, 11, 10), (2, 3), (3, 2), (1, 0), (2, 1), True),
    ((2, 3, 7, 7), 3, 3, 0, 1, True),
    ((2, 3, 5, 5), 5, None, 2, 1, False),
    ((2, 3, 6, 6), 1, 2, 0, 1, False),
    ((2, 3, 7, 6), 4, 3, 2, 1, True),
    ((3, 8, 8), 2, None, 0, 1, False),               # unbatched
    ((3, 9, 7), 3, 2, 1, 1, True),
    ((2, 3, 5, 13), (1, 3), (1, 2), (0, 1), 1, False),
]


@pytest.mark.parametrize("shape,k,s,p,d,ceil", MAX_POOL2D_CASES)
def test_max_pool2d(shape, k, s, p, d, ceil):
    _check("max_pool2d", shape, k, s, p, d, ceil)
    _check("max_pool2d", shape, k, s, p, d, ceil, return_indices=True)


@pytest.mark.parametrize("shape,k,s,p,d,ceil", [
    ((2, 3, 10), 2, None, 0, 1, False), ((2, 3, 11), 3, 2, 1, 1, True),
    ((2, 3, 11), 2, 3, 1, 2, True), ((3, 9), 3, 1, 1, 1, False),
])
def test_max_pool1d(shape, k, s, p, d, ceil):
    _check("max_pool1d", shape, k, s, p, d, ceil)
    _check("max_pool1d", shape, k, s, p, d, ceil, return_indices=True)


@pytest.mark.parametrize("k,s,p", [(2, None, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool2d_ties_go_to_the_first_max(k, s, p):
    rng = np.random.default_rng(0)
    values = [rng.integers(0, 2, (2, 3, 8, 8)).astype(np.float32)]
    _check("max_pool2d", None, k, s, p, values=values, return_indices=True)


def test_max_pool2d_nan_wins_as_in_pytorch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 1, 1] = x[0, 1, 4, 5] = x[1, 0, 0, 0] = x[1, 0, 1, 0] = np.nan
    for k, s, p in [(2, None, 0), (3, 1, 1)]:
        _check("max_pool2d", None, k, s, p, values=[x], return_indices=True)


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # the harness sums -inf + inf
def test_max_pool2d_all_minus_inf_never_picks_padding():
    x = np.full((1, 2, 5, 5), -np.inf, np.float32)
    x[0, 1, 2, 2] = 1.0
    _check("max_pool2d", None, 3, 2, 1, values=[x], return_indices=True)
    _check("max_pool2d", None, 2, 2, 1, 1, True, values=[x], return_indices=True)


def test_max_pool2d_integer_input():
    x = np.arange(2 * 3 * 7 * 7).reshape(2, 3, 7, 7)[..., ::-1].copy() % 11
    check_op(None, lambda t: TF.max_pool2d(t, 3, 2, 1, return_indices=True),
             lambda t: gn.max_pool2d(t, 3, 2, 1, return_indices=True), values=[x],
             forward_only=True)


AVG_POOL2D_CASES = [  # (input shape, kernel_size, stride, padding, ceil_mode, count_include_pad)
    ((2, 3, 8, 8), 2, None, 0, False, True),
    ((2, 3, 9, 7), 2, None, 0, True, True),
    ((2, 3, 9, 9), 3, 2, 1, False, True),
    ((2, 3, 9, 9), 3, 2, 1, False, False),
    ((2, 3, 10, 10), 3, 2, 1, True, True),           # ceil windows clipped to the padded input
    ((2, 3, 10, 10), 3, 2, 1, True, False),
    ((2, 3, 8, 8), 3, 1, 1, False, True),
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1), True, False),
    ((2, 3, 7, 6), 4, 3, 2, True, True),
    ((2, 3, 7, 6), 4, 3, 2, True, False),
    ((2, 3, 5, 5), 5, 1, 2, False, False),
    ((3, 9, 7), 3, 2, 1, True, True),                # unbatched
]


@pytest.mark.parametrize("shape,k,s,p,ceil,count_pad", AVG_POOL2D_CASES)
def test_avg_pool2d(shape, k, s, p, ceil, count_pad):
    _check("avg_pool2d", shape, k, s, p, ceil, count_pad)


@pytest.mark.parametrize("shape,k,s,p,ceil,count_pad,divisor", [
    ((2, 3, 8, 8), 2, None, 0, False, True, 3),
    ((2, 3, 9, 9), 3, 2, 1, True, False, 5),
    ((2, 3, 7, 7), (3, 2), 2, (1, 0), True, True, 1),
])
def test_avg_pool2d_divisor_override(shape, k, s, p, ceil, count_pad, divisor):
    _check("avg_pool2d", shape, k, s, p, ceil, count_pad, divisor)


@pytest.mark.parametrize("shape,k,s,p,ceil,count_pad", [
    ((2, 3, 10), 2, None, 0, False, True), ((2, 3, 11), 3, 2, 1, True, False),
    ((2, 3, 11), 3, 2, 1, True, True), ((3, 9), 4, 1, 2, False, True),
])
def test_avg_pool1d(shape, k, s, p, ceil, count_pad):
    _check("avg_pool1d", shape, k, s, p, ceil, count_pad)


@pytest.mark.parametrize("shape,size", [
    ((2, 3, 8, 8), 1), ((2, 3, 8, 8), 4), ((2, 3, 8, 6), (2, 3)), ((2, 3, 9, 7), (4, 3)),
    ((2, 3, 9, 7), (None, 3)), ((2, 3, 9, 7), (5, None)), ((2, 3, 5, 4), (7, 9)),
    ((3, 10, 7), (3, 3)), ((2, 3, 7, 7), (7, 7)), ((2, 3, 7, 7), [1, 1]),
    ((2, 3, 40, 36), (20, 9)), ((2, 3, 41, 37), (6, 5)),    # large planes: two GEMMs
])
def test_adaptive_avg_pool2d(shape, size):
    _check("adaptive_avg_pool2d", shape, size)


@pytest.mark.parametrize("fn", [
    lambda x: gn.max_pool2d(x, 3, 2, 1),
    lambda x: gn.max_pool2d(x, 2, 1, 1, 2, True),
    lambda x: gn.avg_pool2d(x, 3, 2, 1, True, False),
    lambda x: gn.avg_pool2d(x, (3, 2), 1, (1, 0), False, True, 4),
    lambda x: gn.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: gn.max_pool1d(x.reshape(2, 3, 20), 3, 2, 1),
    lambda x: gn.avg_pool1d(x.reshape(2, 3, 20), 3, 2, 1, True, False),
])
def test_gradcheck_pools(fn):
    # distinct values: finite differences are meaningless at a tie of the max
    rng = np.random.default_rng(2)
    values = [rng.permutation(2 * 3 * 5 * 4).reshape(2, 3, 5, 4) / 10.0]
    gradcheck_op(None, fn, values=values)


def test_gradcheck_adaptive_avg_pool2d_large_planes():
    gradcheck_op([(1, 1, 40, 34)], lambda x: gn.adaptive_avg_pool2d(x, (20, 7)))


def test_pools_keep_float64():
    values = [np.random.default_rng(4).standard_normal((2, 3, 7, 7))]
    for name, args in [("max_pool2d", (3, 2, 1)), ("avg_pool2d", (3, 2, 1, True, False)),
                       ("adaptive_avg_pool2d", ((3, 2),))]:
        out = _check(name, None, *args, values=values)
        assert out[0].dtype == np.float64


def test_max_pool2d_mnist_shape():
    _check("max_pool2d", (8, 16, 28, 28), 2)


@pytest.mark.parametrize("call,error,match", [
    (lambda: gn.max_pool2d(gn.ones(3, 3), 2), ValueError,
     r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
    (lambda: gn.max_pool2d(gn.ones(2, 0, 4, 4), 2), ValueError, r"non-empty non-batch dims"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), (2, 2, 2)), ValueError,
     r"max_pool2d: expected kernel_size to be an int or a tuple of 2 ints"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), 2, padding=2), ValueError,
     r"max_pool2d: padding must be between 0 and half the kernel size, got padding=\(2, 2\)"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), 2, padding=-1), ValueError,
     r"max_pool2d: padding must be between 0 and half"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), 2, stride=0), ValueError,
     r"max_pool2d: kernel_size, stride and dilation must be positive"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), 0), ValueError, r"must be positive"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 6, 6), 2, dilation=0), ValueError, r"must be positive"),
    (lambda: gn.max_pool2d(gn.ones(1, 1, 2, 2), 3), ValueError,
     r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small for kernel_size=\(3, 3\)"),
    (lambda: gn.max_pool2d(gn.tensor([[[True]]]), 1), TypeError,
     r"max_pool2d: expected a numeric input, got bool"),
    (lambda: gn.avg_pool2d(gn.ones(1, 1, 6, 6), 3, padding=2), ValueError,
     r"avg_pool2d: padding must be between 0 and half the kernel size"),
    (lambda: gn.avg_pool2d(gn.ones(1, 1, 6, 6), 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must be a non-zero int, got 0"),
    (lambda: gn.avg_pool2d(gn.ones(1, 1, 6, 6, dtype=gn.int64), 2), TypeError,
     r"avg_pool2d: expected a floating-point input, got int64"),
    (lambda: gn.avg_pool2d(gn.ones(1, 1, 2, 2), 3), ValueError, r"avg_pool2d: input of shape"),
    (lambda: gn.max_pool1d(gn.ones(2, 3, 4, 5), 2), ValueError,
     r"max_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: gn.avg_pool1d(gn.ones(2, 3, 4), 5), ValueError, r"avg_pool1d: input of shape"),
    (lambda: gn.adaptive_avg_pool2d(gn.ones(2, 3, 4, 4), (2, 2, 2)), ValueError,
     r"adaptive_avg_pool2d: output_size must be a non-negative int or a pair"),
    (lambda: gn.adaptive_avg_pool2d(gn.ones(2, 3, 4, 4), (-1, 2)), ValueError,
     r"adaptive_avg_pool2d: output_size must be"),
    (lambda: gn.adaptive_avg_pool2d(gn.ones(2, 3, 0, 4), 2), ValueError,
     r"adaptive_avg_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input with "
     r"non-empty"),
    (lambda: gn.adaptive_avg_pool2d(gn.ones(4, 4), 2), ValueError, r"got shape \(4, 4\)"),
])
def test_pool_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_max_pool2d_backward_keeps_the_input_memory_layout():
    """dL/dx is laid out like x (a conv's channel-first output), and the tiling windows'
    uninitialised dL/dx is fully written: values match PyTorch's."""
    rng = np.random.default_rng(7)
    a = np.maximum(rng.standard_normal((3, 4, 8, 8)).astype(np.float32), 0)   # many ties at 0
    channel_first = np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    x = gn.tensor(channel_first, requires_grad=True)
    g = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    gn.max_pool2d(x, 2).backward(gn.tensor(g))
    assert x.grad._array.transpose(1, 0, 2, 3).flags.c_contiguous
    tx = torch.tensor(a, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad._array, tx.grad.numpy())
