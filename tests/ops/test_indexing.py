"""Indexing and gathers against PyTorch: every key form, accumulation of repeated
indices, PyTorch's placement of advanced dims, __setitem__, and the error messages."""
import numpy as np
import pytest
import torch

import glassnet as gn
from parity import check_op, gradcheck_op


def check(shapes, fn, gradcheck=True, **kw):
    """Parity of fn(module, *inputs) in both frameworks (index tensors are built with
    module.tensor), then a float64 gradcheck of the glassnet side."""
    check_op(shapes, lambda *a: fn(torch, *a), lambda *a: fn(gn, *a), **kw)
    if gradcheck:
        gradcheck_op(shapes, lambda *a: fn(gn, *a))


SAME_KEY = [  # the same lambda runs in both frameworks
    ((5, 4), lambda x: x[1]), ((5, 4), lambda x: x[-1]), ((5, 4), lambda x: x[1:3]),
    ((5, 4), lambda x: x[::2]), ((5, 4), lambda x: x[-3:, 1::2]), ((5, 4), lambda x: x[:, 1]),
    ((5, 4), lambda x: x[2, -1]), ((5,), lambda x: x[3]), ((2, 3, 4), lambda x: x[..., 0]),
    ((2, 3, 4), lambda x: x[1, ...]), ((2, 3, 4), lambda x: x[:, ..., 1:]),
    ((5, 4), lambda x: x[None]),
    ((5, 4), lambda x: x[:, None, 1:]), ((5, 4), lambda x: x[None, ..., None]),
    ((5, 4), lambda x: x[...]),
    ((), lambda x: x[None]), ((), lambda x: x[...]), ((5, 4), lambda x: x[0:0]),
    ((5, 4), lambda x: x[[0, 2, 2]]), ((5, 4), lambda x: x[[0, 2, 2], 1:]),
    ((5, 4), lambda x: x[:, [1, -1, 1]]),
    ((5, 4), lambda x: x[[-1, 0, -1, -1]]), ((5, 4), lambda x: x[[4, 0], [3, 3]]),
    ((5, 4), lambda x: x[[0, 0, 1], [2, 2, 2]]),
    ((5, 4), lambda x: x[[[0, 1], [1, 1]], [[0], [3]]]),
    ((3, 4, 5), lambda x: x[0, :, [1, 2]]), ((3, 4, 5), lambda x: x[:, 0, [1, 2, 1]]),
    ((3, 4, 5), lambda x: x[[0, 1], :, 0]), ((3, 4, 5), lambda x: x[[0, 1], None, [0, 1]]),
    ((3, 4, 5), lambda x: x[None, [0, 2], [0, 1]]), ((3, 4, 5), lambda x: x[[0, 1], ..., [0, 4]]),
    ((3, 4, 5), lambda x: x[1, [0, 1], [0, 1]]), ((3, 4, 5), lambda x: x[[0, 0], 1, [4, 4]]),
    ((3, 4, 5), lambda x: x[[2, 0], 1:3, [1, 1]]), ((3, 4, 5), lambda x: x[1:, [0, 3, 3], 1:4]),
    ((3, 4, 5), lambda x: x[..., [0, 0]]), ((2, 3, 4, 5), lambda x: x[:, [0, 1], 1, [2, 2]]),
    ((2, 3, 4, 5), lambda x: x[:, [[0], [2]], :, [1, 3, 3]]), ((5, 4), lambda x: x[[]]),
    ((5, 4), lambda x: x[x > 0]), ((5, 4), lambda x: x[x[:, 0] > 0]),
    ((5, 4), lambda x: x[:, x[0] > 0]),
    ((3, 4, 5), lambda x: x[x[:, :, 0] > 0]), ((3, 4, 5), lambda x: x[1, x[1, :, 0] > 0, 2:]),
    ((3, 4, 5), lambda x: x[x[:, 0, 0] > 0, 1:, [1]]), ((5, 4), lambda x: x[x > 5]),
    ((5, 4), lambda x: x[True]), ((5, 4), lambda x: x[False]), ((5, 4), lambda x: x[None, True]),
    ((5, 4), lambda x: x.T[[1, 1, 3], ::2]), ((5, 4), lambda x: x[1:, :3][[0, 0], [2, 1]]),
]


@pytest.mark.parametrize("shape,fn", SAME_KEY)
def test_index_same_key(shape, fn):
    check([shape], lambda m, x: fn(x))


UINT8_WARNING = "ignore:indexing with dtype torch.uint8 is now deprecated"
TENSOR_KEY = [  # int and bool index tensors, built per framework
    ((5, 4), lambda m, x: x[m.tensor([0, 2, 2])]),
    ((5, 4), lambda m, x: x[m.tensor([[4, -1], [0, 0]])]),
    ((5, 4), lambda m, x: x[m.tensor(3)]), ((5, 4), lambda m, x: x[:, m.tensor(-2)]),
    ((5, 4), lambda m, x: x[m.tensor([1, 1]), m.tensor([0, 3])]),
    ((5, 4), lambda m, x: x[m.tensor([True, False, True, True, False])]),
    ((5, 4), lambda m, x: x[1:, m.tensor([False, True, True, False])]),
    ((3, 4, 5), lambda m, x: x[m.tensor([[True, False, True, True]] * 3)]),
    ((3, 4, 5), lambda m, x: x[m.tensor([2, 0, 2]), 1:, m.tensor([4])]),
    ((3, 4, 5), lambda m, x: x[(m.tensor([0, 1]), slice(None), m.tensor([[1], [2]]))]),
    ((3, 4, 5), lambda m, x: x[..., m.tensor([1, 1, 1, 0], dtype=m.int32)]),
    ((3, 4, 5), lambda m, x: x[m.tensor([1, 0, 1], dtype=m.uint8)]),
]


@pytest.mark.filterwarnings(UINT8_WARNING)
@pytest.mark.parametrize("shape,fn", TENSOR_KEY)
def test_index_tensor_keys(shape, fn):
    check([shape], fn)


def test_index_negative_steps_match_flip():
    # PyTorch has no negative steps; NumPy's meaning is kept and checked against flip
    check_op([(5, 4)], lambda x: x.flip(0), lambda x: x[::-1])
    check_op([(5, 4)], lambda x: x[[4, 2], 1:].flip(1), lambda x: x[4:0:-2, :0:-1])
    check_op([(5, 4)], lambda x: x[[3, 1, 1]].flip(1), lambda x: x[::-1][[1, 3, 3], ::-1])
    gradcheck_op([(5, 4)], lambda x: x[::-2, [0, 0]])


def test_repeated_indices_accumulate():
    x = gn.tensor(np.arange(4, dtype=np.float32), requires_grad=True)
    x[[0, 0, 3, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad._array, [3, 1, 0, 1])
    x.grad = None
    x[gn.tensor([[2, 2], [2, 1]])].sum().backward()
    np.testing.assert_array_equal(x.grad._array, [0, 1, 3, 0])


def test_index_of_a_strided_view_accumulates_in_place():
    # the scatter runs on flat positions of a transposed, sliced view of the gradient
    check_op([(4, 6, 5)], lambda x: x.permute(2, 0, 1)[1:].flip(1)[[0, 0, 2], :, [5, 5, 1]],
             lambda x: x.permute(2, 0, 1)[1:, ::-1][[0, 0, 2], :, [5, 5, 1]])
    check_op([(4, 6, 5)], lambda x: x[:, 1::2][:, [2, 2, 0]].transpose(0, 1)[[1, 1]])


def test_basic_indexing_is_a_view_and_assigns_its_gradient():
    x = gn.randn(4, 5, requires_grad=True)
    y = x[1:3, ::2]
    assert np.shares_memory(y._array, x._array)
    assert y._ctx.advanced is None  # a plain assignment into zeros, no scatter-add
    assert x[x > 0]._ctx.unique and not x[[0, 1]]._ctx.unique


def test_index_float64_and_int_inputs():
    check_op([(4, 3)], lambda x: x[[1, 1], 1:], values=[np.arange(12.0).reshape(4, 3)])
    out = check_op([], lambda x: x[[2, 0], -1], values=[np.arange(12).reshape(4, 3)])[0]
    assert out.dtype == np.int64


SETITEM = [
    lambda m, x: x.__setitem__(0, 1.5), lambda m, x: x.__setitem__((slice(1, 3), 1), -2),
    lambda m, x: x.__setitem__((Ellipsis, -1), m.tensor([1.0, 2.0, 3.0, 4.0])),
    lambda m, x: x.__setitem__([0, 2], 7),
    lambda m, x: x.__setitem__(m.tensor([3, 1]), m.ones(2, 3)),
    lambda m, x: x.__setitem__(x > 0, 0),
    lambda m, x: x.__setitem__(m.tensor([True, False, True, False]), 5),
    lambda m, x: x.__setitem__((m.tensor([0, 1]), m.tensor([2, 0])), m.tensor([8.0, 9.0])),
    lambda m, x: x.__setitem__((None, slice(None), 1), 3.0),
]


@pytest.mark.parametrize("fn", SETITEM)
def test_setitem_matches_pytorch(fn):
    data = np.random.default_rng(0).uniform(-1, 1, (4, 3)).astype(np.float32)
    t, g = torch.tensor(data), gn.tensor(data)
    fn(torch, t)
    fn(gn, g)
    np.testing.assert_array_equal(g._array, t.numpy())


def test_setitem_validates_like_index():
    with pytest.raises(TypeError, match="index: tensors used as indices must be integer or bool"):
        gn.zeros(3)[gn.tensor([0.0])] = 1


@pytest.mark.parametrize("key,error,message", [
    (5, IndexError, r"^index: index 5 is out of bounds for dim 0 with size 3$"),
    (-4, IndexError, r"index: index -4 is out of bounds for dim 0 with size 3"),
    ((0, 4), IndexError, r"index: index 4 is out of bounds for dim 1 with size 4"),
    ((Ellipsis, 7), IndexError, r"index: index 7 is out of bounds for dim 1 with size 4"),
    ((None, 1, [0, 4]), IndexError, r"index: index 4 is out of bounds for dim 1 with size 4"),
    ([0, 3, 1], IndexError, r"index: index 3 is out of bounds for dim 0 with size 3"),
    ((slice(None), [[-5]]), IndexError, r"index: index -5 is out of bounds for dim 1 with size 4"),
    ((0, 0, 0), IndexError, r"index: too many indices for a tensor of shape \(3, 4\)"),
    ((Ellipsis, 0, Ellipsis), IndexError, r"index: a key can hold only one Ellipsis"),
    (np.ones(4, bool), IndexError,
     r"index: a mask of shape \(4,\) does not match the shape \(3,\)"),
    (1.5, TypeError, r"index: cannot index with float 1.5"),
    ("a", TypeError, r"index: cannot index with str"),
    ([0.5, 1.0], TypeError,
     r"index: tensors used as indices must be integer or bool tensors, got float64"),
])
def test_index_errors(key, error, message):
    with pytest.raises(error, match=message):
        gn.ones(3, 4)[key]


def test_index_error_for_float_and_out_of_range_tensors():
    with pytest.raises(TypeError, match=r"index: tensors used as indices .* got float32"):
        gn.ones(3, 4)[gn.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"index: index 3 is out of bounds for dim 0 with size 3"):
        gn.ones(3, 4)[gn.tensor([0, 3])]


def test_index_key_converts_nested_tensors():
    key = gn.index_key((gn.tensor([1, 2]), [gn.tensor(0), 1], slice(None), None))
    assert isinstance(key[0], np.ndarray) and key[1].tolist() == [0, 1]
    assert key[2:] == (slice(None), None)
    assert gn.index_key(gn.tensor(2)) == (2,)
    assert gn.index_key(Ellipsis, (3, 4)) == (slice(None), slice(None))


GATHERS = [
    ([(3, 4)], lambda m, x: m.gather(x, 1, m.tensor([[0, 0], [1, 3], [2, 2]]))),
    ([(3, 4)], lambda m, x: m.gather(x, 0, m.tensor([[0, 2, 2, 1]]))),
    ([(3, 4)], lambda m, x: m.gather(x, -1, m.tensor([[3], [0], [3]]))),
    ([(3, 4)], lambda m, x: m.gather(x, 1, m.tensor([[1, 1, 1, 1, 1]]))),
    ([(2, 3, 4)], lambda m, x: m.gather(x, 1, m.tensor([[[0, 1, 2, 0]], [[2, 2, 2, 2]]]))),
    ([(2, 3, 4)], lambda m, x: m.gather(x, 2, m.tensor([[[0], [3], [1]], [[2], [2], [2]]]))),
    ([(3, 4)], lambda m, x: m.index_select(x, 0, m.tensor([2, 0, 2]))),
    ([(3, 4)], lambda m, x: m.index_select(x, -1, m.tensor([3, 3, 1, 0, 3]))),
    ([(3, 4)], lambda m, x: m.index_select(x, 1, m.tensor(2))),
    ([(2, 3, 4)], lambda m, x: m.index_select(x, 1, m.tensor([1], dtype=m.int32))),
    ([(2, 3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([[[0, 3]], [[1, 1]]]), 2)),
    ([(2, 3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([[[0], [2], [1]]]), -1)),
    ([(1, 3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([[[0], [2], [1]]] * 2), 2)),
    ([(2, 3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([5, 0, 23, 5]))),
    ([(3, 4)], lambda m, x: m.masked_fill(x, x > 0.5, -1.0)),
    ([(3, 4)], lambda m, x: m.masked_fill(x, m.tensor([True, False, False, True]), 0)),
    ([(3, 1)], lambda m, x: m.masked_fill(x, m.tensor([[True, False, True]]), 2.5)),
    ([(3, 4), ()], lambda m, x, v: m.masked_fill(x, x < 0, v)),
    ([(3, 4), (2, 4)],
     lambda m, x, s: m.scatter_add(x, 0, m.tensor([[0, 1, 2, 0], [0, 0, 2, 2]]), s)),
    ([(3, 4), (3, 2)], lambda m, x, s: m.scatter_add(x, 1, m.tensor([[3, 3], [0, 1], [2, 2]]), s)),
    ([(3, 4), (3, 4)], lambda m, x, s: m.narrow(x, 1, 1, 2) * m.select(s, 0, -1)[1:3]),
]


@pytest.mark.parametrize("shapes,fn", GATHERS)
def test_gathers(shapes, fn):
    check(shapes, fn)


def test_scatter_add_from_a_larger_src():
    # PyTorch's own backward fails here (it returns a gradient of the index's shape)
    index = gn.tensor([[3, 3], [0, 1]])
    check_op([(3, 4), (3, 5)],
             lambda x, s: torch.scatter_add(x, 1, torch.tensor(index._array), s[:2, :2]),
             lambda x, s: gn.scatter_add(x, 1, index, s))
    gradcheck_op([(3, 4), (3, 5)], lambda x, s: gn.scatter_add(x, 1, index, s))


def test_masked_fill_keeps_dtype():
    out = check_op([], lambda x: torch.masked_fill(x, x > 2, 2.7),
                   lambda x: gn.masked_fill(x, x > 2, 2.7),
                   values=[np.arange(6)])[0]
    assert out.dtype == np.int64


def test_gather_for_a_loss_is_unique_and_fast_path():
    logits = gn.randn(8, 5, requires_grad=True)
    picked = gn.gather(logits, 1, gn.randint(0, 5, (8, 1)))
    assert picked._ctx.unique
    assert not gn.gather(logits, 1, gn.zeros(8, 2, dtype=gn.int64))._ctx.unique


@pytest.mark.parametrize("call,error,message", [
    (lambda x: gn.gather(x, 1, gn.tensor([0, 1])), ValueError,
     r"gather: index of shape \(2,\) and input of shape \(3, 4\)"),
    (lambda x: gn.gather(x, 1, gn.zeros(4, 1, dtype=gn.int64)), ValueError,
     r"gather: index of shape \(4, 1\) is larger"),
    (lambda x: gn.gather(x, 1, gn.tensor([[4]])), IndexError,
     r"gather: index 4 is out of bounds for dim 1 with size 4"),
    (lambda x: gn.gather(x, 0, gn.tensor([[-1]])), IndexError,
     r"gather: index -1 is out of bounds for dim 0"),
    (lambda x: gn.gather(x, 0, gn.tensor([[0.0]])), TypeError,
     r"gather: index must be an integer tensor, got float32"),
    (lambda x: gn.gather(x, 2, gn.tensor([[0]])), ValueError, r"gather: dim 2 is out of range"),
    (lambda x: gn.index_select(x, 0, gn.tensor([[0]])), ValueError,
     r"index_select: index must be a vector"),
    (lambda x: gn.index_select(x, 1, gn.tensor([4])), IndexError,
     r"index_select: index 4 is out of bounds for dim 1"),
    (lambda x: gn.take_along_dim(x, gn.zeros(2, 4, dtype=gn.int64), 1), ValueError,
     r"take_along_dim: indices of shape \(2, 4\) and input of shape \(3, 4\) cannot be broadcast"),
    (lambda x: gn.take_along_dim(x, gn.tensor([12])), IndexError,
     r"take_along_dim: index 12 is out of bounds"),
    (lambda x: gn.masked_fill(x, gn.ones(3, 4), 0), TypeError,
     r"masked_fill: mask must be a bool tensor, got float32"),
    (lambda x: gn.masked_fill(x, x > 0, gn.ones(2)), ValueError,
     r"masked_fill: value must be a number or a 0-dim"),
    (lambda x: gn.scatter_add(x, 0, gn.tensor([[0, 1]]), gn.ones(1, 1)), ValueError,
     r"scatter_add: index of shape \(1, 2\)"),
    (lambda x: gn.select(x, 0, 3), IndexError,
     r"select: index 3 is out of bounds for dim 0 with size 3"),
])
def test_gather_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(gn.ones(3, 4))
