"""Reading parts of a tensor: `x[key]`, narrow/select/split/chunk/unbind, and the
gathers that losses and embeddings use.

Every read here is one `Index` Function. Its forward is `a[basic][advanced]`:
the basic part (ints, slices, None) gives a NumPy view, the advanced part
(integer or bool arrays) a copy. Splitting the key that way is also how
PyTorch orders things: integers select first, so `x[0, :, [1, 2]]` has shape
(4, 2) for x of shape (3, 4, 5), where NumPy would give (2, 4).

The backward puts the gradient back where the values came from. Positions that
were read once get a plain assignment into zeros; positions an integer array may
have read several times (x[[0, 2, 2]]) must accumulate, which is done with one
`np.add.at` over flat positions (faster than add.at over rows, sort+reduceat or
bincount when measured for embedding-sized scatters).
"""
import operator

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .elementwise import cast, where

__all__ = ["index", "index_key", "narrow", "select", "split", "chunk", "unbind", "index_select",
           "gather", "take_along_dim", "scatter_add", "masked_fill"]


class Index(Function):
    def forward(self, a, basic, advanced, unique):
        if self.needs_input_grad[0]:
            self.shape, self.basic, self.advanced, self.unique = a.shape, basic, advanced, unique
        out = a[basic]
        return out if advanced is None else out[advanced]

    def backward(self, g):  # dL/dx[k] = sum of dL/dy[j] over every output j that read x[k]
        grad = np.zeros(self.shape, g.dtype)
        view = grad[self.basic]
        if self.advanced is None:
            view[...] = g
        elif self.unique:
            view[self.advanced] = g
        else:
            _scatter_add(grad, view, self.advanced, g)
        return grad


def _scatter_add(base, view, advanced, values):
    """base.flat[p] += values for every position p that view[advanced] reads.

    `view` is a strided view into the contiguous array `base`; the flat position
    of each element read is its coordinates dotted with the view's strides.
    """
    if values.size == 0:
        return
    itemsize = base.itemsize
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0])
    pos = None
    for k, (n, stride) in enumerate(zip(view.shape, view.strides)):
        if n == 1:
            continue
        steps = np.arange(n, dtype=np.intp) * (stride // itemsize)
        coord = np.broadcast_to(steps.reshape((n,) + (1,) * (view.ndim - k - 1)),
                                view.shape)[advanced]
        pos = coord if pos is None else np.add(pos, coord, out=pos)
    if pos is None:
        pos = np.zeros(values.shape, np.intp)
    pos += offset // itemsize
    np.add.at(base.reshape(-1), pos.reshape(-1), values.reshape(-1))


def _apply(input, basic, advanced=None, unique=True):
    return Index.apply(input, basic=basic, advanced=advanced, unique=unique)


# ----------------------------------------------------------------------- keys
def _plain(seq):
    """A nested list/tuple with its tensors replaced by arrays, ready for np.asarray."""
    return [_plain(e) if isinstance(e, (list, tuple)) else e._array if isinstance(e, Tensor) else e
            for e in seq]


def _convert(k):
    if isinstance(k, Tensor):
        k = k._array.astype(bool) if k._array.dtype == np.uint8 else k._array  # a byte tensor is a mask
    if k is None or k is Ellipsis or isinstance(k, slice):
        return k
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(k)
    if isinstance(k, (int, np.integer)):
        return int(k)
    if isinstance(k, (list, tuple)):
        k = np.asarray(_plain(k))
        if k.size == 0:
            k = k.astype(np.intp)
    if isinstance(k, np.ndarray):
        if k.dtype.kind == "b":
            return k
        if k.dtype.kind in "iu":
            return int(k) if k.ndim == 0 else k
        raise TypeError(f"index: tensors used as indices must be integer or bool tensors, "
                        f"got {k.dtype}")
    raise TypeError(f"index: cannot index with {type(k).__name__} {k!r}; use ints, slices, "
                    "None, ..., or integer/bool tensors")


def _dims_used(k):
    if isinstance(k, (int, slice)):
        return 1
    if isinstance(k, np.ndarray):
        return k.ndim if k.dtype.kind == "b" else 1
    return 0


def _check_array(k, shape, d):
    if k.dtype.kind == "b":
        if k.shape != shape[d:d + k.ndim]:
            raise IndexError(f"index: a mask of shape {k.shape} does not match the shape "
                             f"{shape[d:d + k.ndim]} of the dims it indexes, from dim {d}")
        return
    n = shape[d]
    if k.size:
        lo, hi = k.min(), k.max()
        if lo < -n or hi >= n:
            raise IndexError(f"index: index {lo if lo < -n else hi} is out of bounds for "
                             f"dim {d} with size {n}")


def _expand(items, shape):
    """The key with its Ellipsis spelled out as slices, every index checked against `shape`."""
    ellipses = sum(k is Ellipsis for k in items)
    used = sum(_dims_used(k) for k in items)
    if ellipses > 1:
        raise IndexError("index: a key can hold only one Ellipsis (...)")
    if used > len(shape):
        raise IndexError(f"index: too many indices for a tensor of shape {tuple(shape)}: "
                         f"the key indexes {used} dims")
    if ellipses:
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items = items[:at] + (slice(None),) * (len(shape) - used) + items[at + 1:]
    d = 0
    for k in items:
        if isinstance(k, int):
            if not -shape[d] <= k < shape[d]:
                raise IndexError(f"index: index {k} is out of bounds for dim {d} "
                                 f"with size {shape[d]}")
        elif isinstance(k, np.ndarray):
            _check_array(k, shape, d)
        d += _dims_used(k)
    return items


def index_key(key, shape=None):
    """`key` as a tuple NumPy can index with: tensors become arrays, and when `shape`
    is given every index is checked against it (IndexError naming dim and size)."""
    items = tuple(_convert(k) for k in (key if isinstance(key, tuple) else (key,)))
    return items if shape is None else _expand(items, tuple(shape))


def _plan(items):
    """Split an expanded key into its basic part (on the input) and advanced part
    (on the resulting view), and say whether every output reads a distinct input."""
    basic, advanced, arrays, masks = [], [], 0, 0
    for k in items:
        if isinstance(k, int):
            basic.append(k)
        elif k is None or isinstance(k, slice):
            basic.append(k)
            advanced.append(slice(None))
        else:
            basic.extend([slice(None)] * (k.ndim if k.dtype.kind == "b" else 1))
            advanced.append(k)
            arrays += 1
            masks += k.dtype.kind == "b"
    basic.append(Ellipsis)  # keeps a full integer selection a 0-d view, not a scalar
    if not arrays:
        return tuple(basic), None, True
    return tuple(basic), tuple(advanced), arrays == masks == 1


def index(input, key):
    """input[key], with PyTorch's semantics; see the module docstring."""
    basic, advanced, unique = _plan(index_key(key, input.shape))
    return _apply(input, basic, advanced, unique)


# ------------------------------------------------------------------ slicing
def narrow(input, dim, start, length):
    d = normalize_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    start = start + n if -n <= start < 0 else start
    if length < 0 or not 0 <= start <= n or start + length > n:
        raise ValueError(f"narrow: start {start} and length {length} do not fit in dim {d} "
                         f"of size {n}")
    return _apply(input, (slice(None),) * d + (slice(start, start + length), Ellipsis))


def select(input, dim, index):
    d = normalize_dim(dim, input.ndim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of bounds for dim {d} with size {n}")
    return _apply(input, (slice(None),) * d + (int(index), Ellipsis))


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last may be smaller), or of the listed sizes."""
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [operator.index(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {d}")
    else:
        size = operator.index(split_size_or_sections)
        if size <= 0 and n:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + [n % size] * bool(n % size) if n else [0]
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(tensor, d, int(s), k) for s, k in zip(starts, sizes))


def chunk(input, chunks, dim=0):
    """Split into pieces of ceil(n / chunks) along dim; there may be fewer than `chunks`."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    if n == 0:
        return tuple(narrow(input, d, 0, 0) for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    d = normalize_dim(dim, input.ndim, "unbind")
    return tuple(select(input, d, i) for i in range(input.shape[d]))


# ------------------------------------------------------------------ gathers
def _int_array(index, op):
    array = index._array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {array.dtype}")
    return array


def _check_range(idx, n, d, op):
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= n:
            raise IndexError(f"{op}: index {lo if lo < 0 else hi} is out of bounds for dim {d} "
                             f"with size {n}")


def _along_dim_key(in_shape, idx, d):
    """The advanced key reading input[..., idx[i, j, k], ...] at dim d for every position
    (i, j, k) of idx; a size-1 input dim is read at 0 whatever the position (broadcasting)."""
    ndim = len(in_shape)
    key = []
    for k in range(ndim):
        if k == d:
            key.append(idx)
            continue
        n = idx.shape[k]
        coord = np.zeros(n, np.intp) if in_shape[k] == 1 else np.arange(n, dtype=np.intp)
        key.append(coord.reshape((n,) + (1,) * (ndim - k - 1)))
    # each output reads its own input position, unless idx runs along d or the input broadcasts
    unique = idx.shape[d] <= 1 and not any(
        k != d and in_shape[k] == 1 and idx.shape[k] > 1 for k in range(ndim))
    return tuple(key), unique


def _check_same_ndim(input, idx, op):
    if idx.ndim != input.ndim or input.ndim == 0:
        raise ValueError(f"{op}: index of shape {idx.shape} and input of shape {input.shape} "
                         "must have the same number of dims (at least one)")


def gather(input, dim, index):
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim=1 (and likewise for other dims)."""
    idx = _int_array(index, "gather")
    _check_same_ndim(input, idx, "gather")
    d = normalize_dim(dim, input.ndim, "gather")
    for k, (m, n) in enumerate(zip(idx.shape, input.shape)):
        if k != d and m > n:
            raise ValueError(f"gather: index of shape {idx.shape} is larger than input of "
                             f"shape {input.shape} in dim {k}")
    _check_range(idx, input.shape[d], d, "gather")
    key, unique = _along_dim_key(input.shape, idx, d)
    return _apply(input, (Ellipsis,), key, unique)


def take_along_dim(input, indices, dim=None):
    """gather with the input and the indices broadcast against each other outside `dim`;
    with dim=None, a gather from the flattened input."""
    idx = _int_array(indices, "take_along_dim")
    if dim is None:
        idx = idx.reshape(-1)
        _check_range(idx, input._array.size, 0, "take_along_dim")
        return _apply(input, (Ellipsis,), np.unravel_index(idx, input.shape), False)
    _check_same_ndim(input, idx, "take_along_dim")
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    shape = []
    for k, (m, n) in enumerate(zip(idx.shape, input.shape)):
        if k != d and m != n and 1 not in (m, n):
            raise ValueError(f"take_along_dim: indices of shape {idx.shape} and input of shape "
                             f"{input.shape} cannot be broadcast together outside dim {d}")
        shape.append(m if k == d else max(m, n))
    _check_range(idx, input.shape[d], d, "take_along_dim")
    key, unique = _along_dim_key(input.shape, np.broadcast_to(idx, shape), d)
    return _apply(input, (Ellipsis,), key, unique)


def index_select(input, dim, index):
    """The entries of `input` at positions `index` (a vector) along `dim`."""
    idx = _int_array(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: index must be a vector, got shape {idx.shape}")
    d = normalize_dim(dim, input.ndim, "index_select")
    _check_range(idx, input.shape[d] if input.ndim else 1, d, "index_select")
    if input.ndim == 0:
        return _apply(input, (None,) if idx.ndim else (Ellipsis,))
    key = (slice(None),) * d + (idx.reshape(-1),)
    return _apply(input, (Ellipsis,), key, idx.size <= 1)


class ScatterAdd(Function):
    def forward(self, a, src, key, src_key):
        self.key, self.src_key, self.src_shape = key, src_key, src.shape
        out = a.copy()
        _scatter_add(out, out, key, np.ascontiguousarray(src[src_key]))
        return out

    def backward(self, g):  # dL/da = dL/dy; dL/dsrc = dL/dy read back where src was added
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = np.zeros(self.src_shape, g.dtype)
            gsrc[self.src_key] = g[self.key]
        return g, gsrc


def scatter_add(input, dim, index, src):
    """A copy of input with src[i][j][k] added at [i][index[i][j][k]][k] (dim=1)."""
    idx = _int_array(index, "scatter_add")
    _check_same_ndim(input, idx, "scatter_add")
    d = normalize_dim(dim, input.ndim, "scatter_add")
    for k, (m, n, s) in enumerate(zip(idx.shape, input.shape, src.shape)):
        if m > s or (k != d and m > n):
            raise ValueError(f"scatter_add: index of shape {idx.shape} is larger than src of "
                             f"shape {src.shape} or input of shape {input.shape} in dim {k}")
    _check_range(idx, input.shape[d], d, "scatter_add")
    if src.dtype != input.dtype:
        raise TypeError(f"scatter_add: src has dtype {src.dtype}, input {input.dtype}")
    key, _ = _along_dim_key(input.shape, idx, d)
    return ScatterAdd.apply(input, src, key=key, src_key=tuple(slice(0, m) for m in idx.shape))


def masked_fill(input, mask, value):
    """input with `value` wherever the bool `mask` (broadcast against input) is True."""
    mask_dtype = mask._array.dtype if isinstance(mask, Tensor) else np.asarray(mask).dtype
    if mask_dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask_dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-dim tensor, "
                             f"got shape {value.shape}")
        value = cast(value, input.dtype)
    else:
        value = Tensor._make(np.asarray(value, dtype=input.dtype), False, None)
    return where(mask, value, input)
