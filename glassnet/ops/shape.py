"""Shape operations: the same values laid out differently, joined, padded, tiled or
reordered. (Splitting is slicing: split, chunk and unbind live in indexing.py.)

Reshapes, transposes, expands and flips return NumPy views, as PyTorch's do, and
their backward passes are views of the incoming gradient too. Sizes may be given
as separate ints or as one tuple: `reshape(x, 2, 3)` or `reshape(x, (2, 3))`.
"""
import math
import operator
from functools import reduce

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims, unbroadcast, result_dtype
from .elementwise import cast

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "swapaxes", "swapdims", "permute", "movedim", "moveaxis", "expand", "broadcast_to",
           "cat", "concat", "concatenate", "stack", "pad", "repeat", "tile", "flip", "roll",
           "tril", "triu"]


def _sizes(sizes, op):
    """Sizes given as separate ints or as one tuple/list, as a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    try:
        return tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"{op}: sizes must be integers, got {tuple(sizes)!r}") from None


def _new_dim(dim, ndim, op):
    """A dim for a new axis: any of the ndim + 1 places it can go, negatives from the end."""
    if not -ndim - 1 <= dim <= ndim:
        raise ValueError(f"{op}: dim {dim} is out of range for adding a dim to a tensor with "
                         f"{ndim} dims (expected a dim in [{-ndim - 1}, {ndim}])")
    return dim % (ndim + 1)


# -------------------------------------------------------------- reshaping
class Reshape(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):  # dL/dx = dL/dy, laid back out in x's shape
        return g.reshape(self.shape)


def _infer_shape(shape, size, op, what):
    """`shape` with its one -1 filled in so that it holds `size` elements."""
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = math.prod(n for n in shape if n != -1)
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"{op}: invalid shape {shape}: sizes must be >= 0, with at most one -1")
    if unknown and known and size % known == 0:
        return shape[:unknown[0]] + (size // known,) + shape[unknown[0] + 1:]
    if unknown or known != size:
        raise ValueError(f"{op}: cannot reshape {what} into {shape}")
    return shape


def _reshape(input, shape, op):
    if math.prod(shape) != input._array.size or min(shape, default=0) < 0:
        shape = _infer_shape(shape, input._array.size, op, f"a tensor of shape {input.shape} "
                                                          f"({input._array.size} elements)")
    return Reshape.apply(input, shape=shape)


def reshape(input, *shape):
    return _reshape(input, _sizes(shape, "reshape"), "reshape")


def view(input, *shape):
    return _reshape(input, _sizes(shape, "view"), "view")


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return Reshape.apply(input, shape=(1,))
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape
    return Reshape.apply(input, shape=shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    d = normalize_dim(dim, input.ndim, "unflatten")
    n = input.shape[d]
    sizes = _infer_shape(_sizes((sizes,), "unflatten"), n, "unflatten",
                         f"dim {d} of size {n}")
    return Reshape.apply(input, shape=input.shape[:d] + sizes + input.shape[d + 1:])


def squeeze(input, dim=None):
    """Drop the given size-1 dims (all of them with dim=None); other dims stay as they are."""
    dims = normalize_dims(dim, input.ndim, "squeeze")
    shape = tuple(n for k, n in enumerate(input.shape) if n != 1 or k not in dims)
    return Reshape.apply(input, shape=shape)


def unsqueeze(input, dim):
    d = _new_dim(dim, input.ndim, "unsqueeze")
    return Reshape.apply(input, shape=input.shape[:d] + (1,) + input.shape[d:])


# ------------------------------------------------------------ transposing
class Permute(Function):
    def forward(self, a, axes):
        self.axes = axes
        return a.transpose(axes)

    def backward(self, g):  # dL/dx = dL/dy with the dims put back: the inverse permutation
        return g.transpose(np.argsort(self.axes))


def permute(input, *dims):
    dims = _sizes(dims, "permute")
    axes = tuple(normalize_dim(d, input.ndim, "permute") for d in dims) if input.ndim else ()
    if sorted(axes) != list(range(input.ndim)) or len(dims) != input.ndim:
        raise ValueError(f"permute: dims {dims} are not a permutation of the {input.ndim} dims "
                         f"of a tensor of shape {input.shape}")
    return Permute.apply(input, axes=axes)


def transpose(input, dim0, dim1):
    axes = list(range(input.ndim))
    d0, d1 = (normalize_dim(d, input.ndim, "transpose") for d in (dim0, dim1))
    if axes:
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(input, axes=tuple(axes))


def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def movedim(input, source, destination):
    """Move dims `source` to positions `destination`; the others keep their order."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} differ in length")
    src, dst = (tuple(normalize_dim(d, input.ndim, "movedim") for d in ds) for ds in (src, dst))
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} must not repeat a dim")
    order = [k for k in range(input.ndim) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, axes=tuple(order))


moveaxis = movedim


# ------------------------------------------------------------ broadcasting
class Expand(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):  # dL/dx = dL/dy summed over every copy the expansion made
        return unbroadcast(g, self.shape)


def _expand(input, sizes, op):
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(f"{op}: {len(sizes)} sizes for a tensor of {input.ndim} dims; "
                         "give at least one size per dim")
    shape = []
    for k, s in enumerate(sizes):
        n = input.shape[k - lead] if k >= lead else None
        if s == -1 and n is not None:
            s = n
        elif s < 0 or (n is not None and n not in (1, s)):
            raise ValueError(f"{op}: cannot expand a tensor of shape {input.shape} to "
                             f"{tuple(sizes)}: size {s} at dim {k} is not allowed there "
                             "(only size-1 dims stretch; -1 keeps an existing dim)")
        shape.append(s)
    return Expand.apply(input, shape=tuple(shape))


def expand(input, *sizes):
    return _expand(input, _sizes(sizes, "expand"), "expand")


def broadcast_to(input, shape):
    return _expand(input, _sizes((shape,), "broadcast_to"), "broadcast_to")


class Repeat(Function):
    def forward(self, a, reps):
        self.shape, self.reps = a.shape, reps
        return np.tile(a, reps)

    def backward(self, g):  # dL/dx = dL/dy summed over the copies of each value
        reps = self.reps
        padded = (1,) * (len(reps) - len(self.shape)) + self.shape
        pairs = [k for r, n in zip(reps, padded) for k in (r, n)]
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2))).reshape(self.shape)


def repeat(input, *sizes):
    """Tile `input` sizes[k] times along dim k (new leading dims if more sizes than dims)."""
    reps = _sizes(sizes, "repeat")
    if len(reps) < input.ndim or any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeats {reps} for a tensor of shape {input.shape}: need "
                         "one non-negative count per dim at least")
    return Repeat.apply(input, reps=reps)


def tile(input, dims):
    reps = _sizes((dims,), "tile")
    return repeat(input, (1,) * (input.ndim - len(reps)) + reps)


# -------------------------------------------------------- joining, splitting
def _joinable(tensors, op):
    """The tensors as a list, all of one dtype (promoted as PyTorch does)."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: entry {i} is a {type(t).__name__}, not a tensor")
    dtype = reduce(result_dtype, [t._array.dtype for t in tensors])
    return [cast(t, dtype) for t in tensors]


class Cat(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([a.shape[axis] for a in arrays[:-1]])
        return np.concatenate(arrays, axis=axis)

    def backward(self, g):  # each input gets back the slice of dL/dy its values went to
        return tuple(np.split(g, self.bounds, axis=self.axis))


def cat(tensors, dim=0):
    tensors = _joinable(tensors, "cat")
    # like PyTorch, 1-d empty tensors join anything (the usual start of a growing list)
    tensors = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    ref = tensors[0]
    if ref.ndim == 0:
        raise ValueError("cat: 0-dim tensors cannot be concatenated; use stack")
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(m != n for k, (m, n) in enumerate(zip(t.shape, ref.shape))
                                     if k != d):
            raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{ref.shape}; they must match in every dim except dim {d}")
    return Cat.apply(*tensors, axis=d)


concat = concatenate = cat


class Stack(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, g):  # each input gets back its own slice of dL/dy along the new dim
        return tuple(np.moveaxis(g, self.axis, 0))


def stack(tensors, dim=0):
    tensors = _joinable(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{tensors[0].shape}; stacked tensors must have one shape")
    return Stack.apply(*tensors, axis=_new_dim(dim, tensors[0].ndim, "stack"))


# ------------------------------------------------------------------ padding
class ConstantPad(Function):
    def forward(self, a, widths, value):
        src, dst, shape = [], [], []
        for n, (left, right) in zip(a.shape, widths):
            lo, hi = max(-left, 0), n - max(-right, 0)  # what survives negative (cropping) pads
            hi = max(hi, lo)
            src.append(slice(lo, hi))
            dst.append(slice(max(left, 0), max(left, 0) + hi - lo))
            shape.append(n + left + right)
        self.shape, self.src, self.dst = a.shape, tuple(src), tuple(dst)
        out = np.zeros(shape, a.dtype) if value == 0 else np.full(shape, value, a.dtype)
        out[self.dst] = a[self.src]
        return out

    def backward(self, g):  # dL/dx = dL/dy where x was copied to; padding values have none
        inner = g[self.dst]
        if inner.shape == self.shape:
            return inner
        grad = np.zeros(self.shape, g.dtype)
        grad[self.src] = inner
        return grad


class SourcePad(Function):
    """reflect / replicate / circular padding: along each padded dim, output position p
    copies input position idx[p]; positions [left, left + count) copy the contiguous run
    [lo, lo + count), the rest (the pads) copy from inside it."""

    def forward(self, a, sources):
        self.shape, self.sources = a.shape, sources
        for axis, idx, *_ in sources:
            a = np.take(a, idx, axis=axis)
        return a

    def backward(self, g):  # dL/dx[k] = sum of dL/dy over every output that copied x[k]
        for axis, idx, left, count, lo in reversed(self.sources):
            pre = (slice(None),) * axis
            shape = g.shape[:axis] + (self.shape[axis],) + g.shape[axis + 1:]
            folded = np.zeros(shape, g.dtype)
            folded[pre + (slice(lo, lo + count),)] = g[pre + (slice(left, left + count),)]
            for p in [*range(left), *range(left + count, len(idx))]:  # the few pad positions
                folded[pre + (idx[p],)] += g[pre + (p,)]
            g = folded
        return g


def _reflect(i, n, left, right):
    if max(left, right) >= n:
        raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the "
                         f"size {n} of the dim it pads")
    i = np.abs(i)
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def _replicate(i, n, left, right):
    if n <= 0:
        raise ValueError("pad: replicate padding needs a non-empty dim to copy")
    return np.clip(i, 0, n - 1)


def _circular(i, n, left, right):
    if max(left, right) > n or n <= 0:
        raise ValueError(f"pad: circular padding ({left}, {right}) wraps around more than once "
                         f"a dim of size {n}")
    return i % n


_SOURCE_INDEX = {"reflect": _reflect, "replicate": _replicate, "circular": _circular}


def pad(input, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: `pad` lists (left, right) pairs from the LAST dim backwards;
    negative pads crop."""
    pads = _sizes((pad,), "pad")
    k = len(pads) // 2
    if len(pads) % 2 or k > input.ndim:
        raise ValueError(f"pad: pad {pads} must hold (left, right) pairs, at most one pair per "
                         f"dim of the input of shape {input.shape}")
    lead = input.ndim - k
    widths = [(0, 0)] * lead + [(pads[2 * j], pads[2 * j + 1]) for j in reversed(range(k))]
    for d, (n, (left, right)) in enumerate(zip(input.shape, widths)):
        if n + left + right < 0:
            raise ValueError(f"pad: padding ({left}, {right}) would leave dim {d} of size {n} "
                             f"with {n + left + right} elements")
    if mode == "constant":
        return ConstantPad.apply(input, widths=widths, value=0 if value is None else value)
    if mode not in _SOURCE_INDEX:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    sources = []
    for d in range(lead, input.ndim):
        (left, right), n = widths[d], input.shape[d]
        if left or right:  # as in PyTorch, negative pads crop first; the rest pads what is left
            lo = max(-left, 0)
            count = n - lo - max(-right, 0)
            left, right = max(left, 0), max(right, 0)
            idx = _SOURCE_INDEX[mode](np.arange(-left, count + right), count, left, right) + lo
            sources.append((d, idx, left, count, lo))
    return SourcePad.apply(input, sources=tuple(sources))


# ------------------------------------------------------------------ reordering
class Flip(Function):
    def forward(self, a, axes):
        self.axes = axes
        return np.flip(a, axes).copy()      # a new tensor, as torch.flip: not a view of a

    def backward(self, g):  # flipping is its own inverse: dL/dx = flip(dL/dy)
        return np.flip(g, self.axes)


def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(input, axes=normalize_dims(dims, input.ndim, "flip"))


class Roll(Function):
    def forward(self, a, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(a, shifts, axes)

    def backward(self, g):  # dL/dx = dL/dy rolled back by the same shifts
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return np.roll(g, back, self.axes)


def roll(input, shifts, dims=None):
    """Shift elements along dims, wrapping around; with dims=None, over the flattened tensor."""
    if dims is None:
        return Roll.apply(input, shifts=operator.index(shifts), axes=None)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} differ in length")
    axes = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, axes=axes)


class Triangle(Function):
    def forward(self, a, diagonal, upper):
        self.diagonal, self.keep = diagonal, np.triu if upper else np.tril
        return self.keep(a, diagonal)

    def backward(self, g):  # dL/dx = dL/dy on the kept triangle, 0 on the zeroed one
        return self.keep(g, self.diagonal)


def _triangle(input, diagonal, upper, op):
    if input.ndim < 2:
        raise ValueError(f"{op}: needs a tensor of at least 2 dims, got shape {input.shape}")
    return Triangle.apply(input, diagonal=operator.index(diagonal), upper=upper)


def tril(input, diagonal=0):
    return _triangle(input, diagonal, False, "tril")


def triu(input, diagonal=0):
    return _triangle(input, diagonal, True, "triu")
