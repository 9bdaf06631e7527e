"""Shape operations against PyTorch: every argument form, values and gradients, views."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gn
from parity import check_op, gradcheck_op


class _Torch:
    """torch, plus the names glassnet offers as functions but PyTorch only as methods/in F."""
    extra = {"pad": F.pad, "view": torch.Tensor.view, "expand": torch.Tensor.expand,
             "repeat": torch.Tensor.repeat}

    def __getattr__(self, name):
        return self.extra.get(name) or getattr(torch, name)


T = _Torch()


def check(shapes, fn, gradcheck=True, **kw):
    """Parity of fn(module, *inputs) in both frameworks, then a float64 gradcheck."""
    check_op(shapes, lambda *a: fn(T, *a), lambda *a: fn(gn, *a), **kw)
    if gradcheck:
        gradcheck_op(shapes, lambda *a: fn(gn, *a))


RESHAPES = [
    ((2, 3, 4), lambda m, x: m.reshape(x, (4, 6))), ((2, 3, 4), lambda m, x: x.reshape(4, 6)),
    ((2, 3, 4), lambda m, x: x.reshape(-1)), ((2, 3, 4), lambda m, x: m.reshape(x, [3, -1, 2])),
    ((2, 3, 4), lambda m, x: x.reshape((-1, 4))), ((6,), lambda m, x: x.reshape(1, 2, 1, 3)),
    ((1,), lambda m, x: x.reshape(())), ((), lambda m, x: x.reshape(1, 1)),
    ((2, 3, 4), lambda m, x: m.view(x, (6, 4))), ((2, 3, 4), lambda m, x: x.view(2, 12)),
    ((2, 3, 4), lambda m, x: x.view(-1, 3, 2)),
    ((2, 3, 4), lambda m, x: x.transpose(0, 2).reshape(-1)),
    ((2, 3, 4), lambda m, x: m.flatten(x)), ((2, 3, 4), lambda m, x: x.flatten(1)),
    ((2, 3, 4, 5), lambda m, x: m.flatten(x, 1, 2)), ((2, 3, 4, 5), lambda m, x: x.flatten(-3, -2)),
    ((2, 3), lambda m, x: x.flatten(1, 1)), ((), lambda m, x: m.flatten(x)),
    ((2, 12), lambda m, x: m.unflatten(x, 1, (3, 4))),
    ((2, 12), lambda m, x: m.unflatten(x, -1, (2, -1, 3))),
    ((2, 1, 3, 1), lambda m, x: m.squeeze(x)), ((2, 1, 3, 1), lambda m, x: x.squeeze(1)),
    ((2, 1, 3, 1), lambda m, x: x.squeeze(-1)), ((2, 1, 3, 1), lambda m, x: x.squeeze(0)),
    ((2, 1, 3, 1), lambda m, x: m.squeeze(x, (1, 3))),
    ((2, 1, 3, 1), lambda m, x: m.squeeze(x, (0, -1))),
    ((), lambda m, x: x.squeeze(0)), ((2, 3), lambda m, x: x.unsqueeze(0)),
    ((2, 3), lambda m, x: x.unsqueeze(2)), ((2, 3), lambda m, x: m.unsqueeze(x, -1)),
    ((2, 3), lambda m, x: x.unsqueeze(-3)), ((), lambda m, x: x.unsqueeze(0)),
    ((2, 3, 4), lambda m, x: x.view_as(m.ones(4, 6))),
]


@pytest.mark.parametrize("shape,fn", RESHAPES)
def test_reshapes(shape, fn):
    check([shape], fn)


TRANSPOSES = [
    ((2, 3), lambda m, x: x.transpose(0, 1)), ((2, 3, 4), lambda m, x: m.transpose(x, -1, 0)),
    ((2, 3, 4), lambda m, x: x.transpose(1, 1)), ((3,), lambda m, x: x.transpose(0, -1)),
    ((2, 3, 4), lambda m, x: m.swapaxes(x, 0, 2)), ((2, 3, 4), lambda m, x: m.swapdims(x, -2, -1)),
    ((2, 3), lambda m, x: x.t()), ((3,), lambda m, x: x.t()), ((2, 3), lambda m, x: x.T),
    ((2, 3, 4), lambda m, x: x.permute(2, 0, 1)), ((2, 3, 4), lambda m, x: m.permute(x, (0, 2, 1))),
    ((2, 3, 4), lambda m, x: x.permute([-1, -3, -2])),
    ((2, 3, 4, 5), lambda m, x: x.permute(3, 1, 0, 2)),
    ((), lambda m, x: x.permute(())), ((2, 3, 4), lambda m, x: m.movedim(x, 0, 2)),
    ((2, 3, 4), lambda m, x: m.movedim(x, -1, 0)),
    ((2, 3, 4, 5), lambda m, x: m.movedim(x, (0, 1), (2, 0))),
    ((2, 3, 4, 5), lambda m, x: m.moveaxis(x, (3, 0), (-1, 1))),
]


@pytest.mark.parametrize("shape,fn", TRANSPOSES)
def test_transposes(shape, fn):
    check([shape], fn)


EXPANDS = [
    ((3, 1), lambda m, x: x.expand(3, 4)), ((3, 1), lambda m, x: m.expand(x, (3, 4))),
    ((3, 1), lambda m, x: x.expand(-1, 5)), ((1, 4), lambda m, x: m.expand(x, (2, 3, -1))),
    ((4,), lambda m, x: x.expand(2, 3, 4)), ((3, 1, 2), lambda m, x: x.expand(2, -1, 4, 2)),
    ((), lambda m, x: x.expand(2, 3)), ((2, 3), lambda m, x: x.expand(2, 3)),
    ((3, 1), lambda m, x: x.expand_as(m.ones(2, 3, 4))),
    ((3, 1), lambda m, x: m.broadcast_to(x, (2, 3, 4))),
    ((3, 1), lambda m, x: x.broadcast_to((3, -1))), ((1,), lambda m, x: m.broadcast_to(x, [5])),
    ((2, 3), lambda m, x: x.repeat(2, 1)), ((2, 3), lambda m, x: m.repeat(x, (2, 1))),
    ((2, 3), lambda m, x: x.repeat(3, 1, 2)), ((3,), lambda m, x: x.repeat(2, 2)),
    ((2, 3), lambda m, x: x.repeat(1, 1)), ((2, 1, 3), lambda m, x: x.repeat([1, 4, 2])),
    ((), lambda m, x: x.repeat(3)), ((2, 3), lambda m, x: x.repeat(0, 2)),
    ((2, 3), lambda m, x: m.tile(x, (2,))), ((2, 3), lambda m, x: m.tile(x, (2, 1, 2))),
]


@pytest.mark.parametrize("shape,fn", EXPANDS)
def test_expand_and_repeat(shape, fn):
    check([shape], fn)


JOINS = [
    ([(2, 3), (4, 3)], lambda m, a, b: m.cat([a, b])),
    ([(2, 3), (2, 1)], lambda m, a, b: m.cat((a, b), 1)),
    ([(2, 3), (2, 5)], lambda m, a, b: m.cat([a, b], dim=-1)),
    ([(2, 3), (2, 3)], lambda m, a, b: m.concat([a, b, a], 0)),
    ([(3,), (2,)], lambda m, a, b: m.concatenate([a, b])),
    ([(2, 0, 3), (2, 2, 3)], lambda m, a, b: m.cat([a, b], 1)),
    ([(2, 3), (2, 3)], lambda m, a, b: m.stack([a, b])),
    ([(2, 3), (2, 3)], lambda m, a, b: m.stack((a, b), 1)),
    ([(2, 3), (2, 3)], lambda m, a, b: m.stack([a, b, b], -1)),
    ([(2, 3), (2, 3)], lambda m, a, b: m.stack([a, b], -3)),
    ([(), ()], lambda m, a, b: m.stack([a, b])), ([(2, 3)], lambda m, a: m.cat([a])),
]


@pytest.mark.parametrize("shapes,fn", JOINS)
def test_cat_and_stack(shapes, fn):
    check(shapes, fn)


def test_cat_promotes_dtypes_and_skips_legacy_empty():
    check_op([(2, 3)], lambda a: torch.cat([a, torch.ones(1, 3, dtype=torch.int64)]),
             lambda a: gn.cat([a, gn.ones(1, 3, dtype=gn.int64)]))
    check_op([(2, 3)], lambda a: torch.cat([torch.tensor([]), a]),
             lambda a: gn.cat([gn.tensor([]), a]))
    check_op([(3,)], lambda a: torch.stack([a, torch.arange(3)]),
             lambda a: gn.stack([a, gn.arange(3)]))


SPLITS = [
    ((5, 3), lambda m, x: m.split(x, 2)), ((5, 3), lambda m, x: x.split(2, 0)),
    ((5, 3), lambda m, x: m.split(x, [1, 3, 1])), ((4, 6), lambda m, x: x.split([2, 0, 4], dim=-1)),
    ((4, 6), lambda m, x: m.split(x, 6, 1)), ((4, 6), lambda m, x: m.split(x, 10, 1)),
    ((5, 3), lambda m, x: m.chunk(x, 2)), ((5, 3), lambda m, x: x.chunk(4)),
    ((6, 3), lambda m, x: x.chunk(4)),
    ((6, 3), lambda m, x: m.chunk(x, 3, -1)), ((2, 7), lambda m, x: m.chunk(x, 10, 1)),
    ((3, 4), lambda m, x: m.unbind(x)), ((3, 4), lambda m, x: m.unbind(x, -1)),
    ((3,), lambda m, x: m.unbind(x)),
    ((4, 5), lambda m, x: m.narrow(x, 1, 1, 3)), ((4, 5), lambda m, x: m.narrow(x, 0, -2, 2)),
    ((4, 5), lambda m, x: m.select(x, 1, -2)), ((4, 5), lambda m, x: m.select(x, 0, 3)),
]


@pytest.mark.parametrize("shape,fn", SPLITS)
def test_split_chunk_unbind(shape, fn):
    check([shape], fn)


def test_split_of_empty_dim():
    check_op([(0, 3)], lambda x: torch.split(x, 2), lambda x: gn.split(x, 2))
    check_op([(0, 3)], lambda x: torch.chunk(x, 3), lambda x: gn.chunk(x, 3))


PADS = [
    ((2, 3), (1, 2), "constant"), ((2, 3), (1, 2, 0, 1), "constant"),
    ((2, 3, 4), (1, 0, 0, 0, 2, 1), "constant"),
    ((2, 5), (-1, 2), "constant"), ((3, 5), (-2, -1, 1, -1), "constant"),
    ((2, 3), (0, 0), "constant"),
    ((2, 3), (-1, -2), "constant"), ((2, 3, 5), (2, 1), "reflect"),
    ((2, 2, 4, 5), (2, 1, 3, 1), "reflect"),
    ((2, 5), (4, 4), "reflect"), ((2, 3, 5), (-1, 2), "reflect"),
    ((2, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2), "reflect"),
    ((2, 3, 5), (3, 2), "replicate"), ((2, 2, 3, 4), (1, 2, 2, 1), "replicate"),
    ((1, 2, 3), (7, 0), "replicate"),
    ((2, 2, 2, 3, 3), (1, 0, 2, 1, 0, 3), "replicate"), ((2, 3, 5), (2, 5), "circular"),
    ((2, 2, 3, 4), (1, 2, 3, 0), "circular"), ((2, 3, 5), (-2, 1), "circular"),
    ((2, 2, 2, 3, 3), (1, 1, 1, 1, 1, 1), "circular"),
]


@pytest.mark.parametrize("shape,pads,mode", PADS)
def test_pad(shape, pads, mode):
    check([shape], lambda m, x: m.pad(x, pads, mode=mode))


@pytest.mark.parametrize("value", [0.0, 2.5, -1])
def test_pad_constant_value_keeps_dtype(value):
    check([(2, 3)], lambda m, x: m.pad(x, (1, 1, 2, 0), value=value))
    out = check_op([], lambda x: F.pad(x, (1, 1), value=value),
                   lambda x: gn.pad(x, (1, 1), value=value),
                   values=[np.arange(6).reshape(2, 3)])[0]
    assert out.dtype == np.int64


REORDERS = [
    ((2, 3, 4), lambda m, x: x.flip(0)), ((2, 3, 4), lambda m, x: m.flip(x, (0, 2))),
    ((2, 3, 4), lambda m, x: m.flip(x, [-1])), ((2, 3), lambda m, x: m.roll(x, 1)),
    ((2, 3), lambda m, x: m.roll(x, -4)), ((2, 3), lambda m, x: m.roll(x, 2, 1)),
    ((2, 3, 4), lambda m, x: m.roll(x, (1, -1), (0, 2))),
    ((2, 3, 4), lambda m, x: m.roll(x, shifts=3, dims=-1)),
    ((4, 5), lambda m, x: m.tril(x)), ((4, 5), lambda m, x: m.tril(x, -1)),
    ((2, 4, 3), lambda m, x: m.tril(x, 1)),
    ((4, 5), lambda m, x: m.triu(x)), ((4, 5), lambda m, x: m.triu(x, 2)),
    ((2, 3, 3), lambda m, x: m.triu(x, -1)),
]


@pytest.mark.parametrize("shape,fn", REORDERS)
def test_flip_roll_triangles(shape, fn):
    check([shape], fn)


@pytest.mark.parametrize("seed", range(6))
def test_random_shapes_chain(seed):
    # a random shape, then reshape/permute/expand/cat chains over it, negative dims included
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(2, 5)))
    perm = tuple(int(d) - len(shape) for d in rng.permutation(len(shape)))
    d = int(rng.integers(-len(shape), len(shape)))
    check([shape, shape], lambda m, a, b: m.cat([a.permute(perm), b.permute(perm)], d)
          .flatten(0, 1).unsqueeze(-1).expand(*([-1] * (len(shape) - 1)), 2).flip(d % len(shape)),
          gradcheck=False)
    check([shape], lambda m, x: m.stack(m.unbind(x, d), -1).reshape(-1, shape[0]).t())


def test_float32_in_float32_out():
    x = gn.ones(2, 3, requires_grad=True)
    outs = [gn.pad(x, (1, 1), value=2.5), gn.pad(x.unsqueeze(0), (1, 1), mode="reflect"),
            x.expand(4, 2, 3), x.repeat(2, 2), gn.cat([x, x]), gn.tril(x)]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
    assert x.grad.dtype == np.float32


def test_views_share_memory_forward_and_backward():
    x = gn.randn(2, 3, 4, requires_grad=True)
    for y in [x.reshape(6, 4), x.transpose(0, 2), x.permute(1, 2, 0), x.unsqueeze(1), x.squeeze(),
              x.flatten(1), x[:, 1:], x.unsqueeze(0).expand(5, 2, 3, 4),
              gn.narrow(x, 1, 0, 2)]:
        assert np.shares_memory(y._array, x._array)
        g = np.ones(y.shape, np.float32)
        assert np.shares_memory(y._ctx.backward(g), g) or y._ctx.name in ("Index", "Expand")
    pieces = gn.split(x, 2, dim=2)
    assert all(np.shares_memory(p._array, x._array) for p in pieces)


def test_backward_of_cat_stack_pad_are_views():
    a, b = gn.ones(2, 3, requires_grad=True), gn.ones(2, 3, requires_grad=True)
    for y in [gn.cat([a, b], 1), gn.stack([a, b]), gn.pad(a, (1, 2, 0, 1))]:
        g = np.ones(y.shape, np.float32)
        grads = y._ctx.backward(g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        assert all(np.shares_memory(gi, g) for gi in grads)


@pytest.mark.parametrize("call,error,message", [
    (lambda: gn.reshape(gn.ones(2, 3), (4, 2)), ValueError,
     r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
    (lambda: gn.view(gn.ones(2, 3), -1, 4), ValueError,
     r"view: cannot reshape .* \(6 elements\) into \(-1, 4\)"),
    (lambda: gn.ones(2, 3).reshape(-1, -1), ValueError, r"reshape: invalid shape \(-1, -1\)"),
    (lambda: gn.ones(0, 3).reshape(-1, 0), ValueError, r"reshape: cannot reshape"),
    (lambda: gn.ones(2, 3).reshape(2.0, 3), TypeError, r"reshape: sizes must be integers"),
    (lambda: gn.unflatten(gn.ones(2, 12), 1, (5, -1)), ValueError,
     r"unflatten: cannot reshape dim 1 of size 12"),
    (lambda: gn.ones(2, 3, 4).flatten(2, 1), ValueError,
     r"flatten: start_dim 2 comes after end_dim 1"),
    (lambda: gn.ones(2, 3).transpose(0, 2), ValueError, r"transpose: dim 2 is out of range"),
    (lambda: gn.ones(2, 3, 4).permute(0, 1), ValueError,
     r"permute: dims \(0, 1\) are not a permutation"),
    (lambda: gn.ones(2, 3, 4).permute(0, 1, 1), ValueError, r"permute: dims \(0, 1, 1\)"),
    (lambda: gn.ones(2, 3).unsqueeze(3), ValueError,
     r"unsqueeze: dim 3 is out of range .* \[-3, 2\]"),
    (lambda: gn.movedim(gn.ones(2, 3), (0, 1), 0), ValueError, r"movedim: source \(0, 1\)"),
    (lambda: gn.ones(2, 3).expand(4, 3), ValueError,
     r"expand: cannot expand a tensor of shape \(2, 3\) to \(4, 3\)"),
    (lambda: gn.ones(2, 3).expand(3), ValueError, r"expand: 1 sizes for a tensor of 2 dims"),
    (lambda: gn.ones(3).expand(-1, 3), ValueError, r"expand: cannot expand .* size -1 at dim 0"),
    (lambda: gn.broadcast_to(gn.ones(2), (3,)), ValueError, r"broadcast_to: cannot expand"),
    (lambda: gn.ones(2, 3).repeat(2), ValueError,
     r"repeat: repeats \(2,\) for a tensor of shape \(2, 3\)"),
    (lambda: gn.cat([gn.ones(2, 3), gn.ones(2, 4)]), ValueError,
     r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\); .* except dim 0"),
    (lambda: gn.cat([]), ValueError, r"cat: expected a non-empty list"),
    (lambda: gn.cat(gn.ones(2)), TypeError, r"cat: expected a list or tuple of tensors"),
    (lambda: gn.cat([gn.ones(2), np.ones(2)]), TypeError, r"cat: entry 1 is a ndarray"),
    (lambda: gn.cat([gn.ones(()), gn.ones(())]), ValueError, r"cat: 0-dim tensors"),
    (lambda: gn.stack([gn.ones(2, 3), gn.ones(3, 2)]), ValueError,
     r"stack: tensor 1 has shape \(3, 2\)"),
    (lambda: gn.stack([gn.ones(2)], 2), ValueError, r"stack: dim 2 is out of range"),
    (lambda: gn.split(gn.ones(5), [2, 2]), ValueError, r"split: sizes \[2, 2\] do not add up to 5"),
    (lambda: gn.split(gn.ones(5), 0), ValueError, r"split: split_size must be positive"),
    (lambda: gn.chunk(gn.ones(5), 0), ValueError, r"chunk: chunks must be positive"),
    (lambda: gn.narrow(gn.ones(5), 0, 3, 3), ValueError,
     r"narrow: start 3 and length 3 do not fit"),
    (lambda: gn.pad(gn.ones(2, 3), (1, 2, 3)), ValueError, r"pad: pad \(1, 2, 3\) must hold"),
    (lambda: gn.pad(gn.ones(3), (1, 1, 1, 1)), ValueError, r"pad: pad .* at most one pair per dim"),
    (lambda: gn.pad(gn.ones(2, 3), (-2, -2)), ValueError,
     r"pad: padding \(-2, -2\) would leave dim 1"),
    (lambda: gn.pad(gn.ones(2, 3), (3, 0), mode="reflect"), ValueError,
     r"pad: reflect padding \(3, 0\)"),
    (lambda: gn.pad(gn.ones(2, 3), (4, 0), mode="circular"), ValueError, r"pad: circular padding"),
    (lambda: gn.pad(gn.ones(2, 3), (1, 0), mode="wrap"), ValueError, r"pad: mode must be"),
    (lambda: gn.roll(gn.ones(2, 3), (1, 2), 0), ValueError,
     r"roll: shifts \(1, 2\) and dims \(0,\)"),
    (lambda: gn.tril(gn.ones(3)), ValueError, r"tril: needs a tensor of at least 2 dims"),
])
def test_errors_name_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_flip_returns_a_copy_like_torch():
    for lib in (gn, torch):
        x = lib.arange(4)
        y = lib.flip(x, [0])
        y[0] = 9                      # changes y only: torch.flip copies
        assert x.tolist() == [0, 1, 2, 3] and y.tolist() == [9, 2, 1, 0]
