"""`Tensor`: an ndarray that remembers how it was computed.

A tensor holds its values in `._array`, the NumPy array that every op and kernel
reads and writes. `.data` is PyTorch's: another Tensor over the same memory,
with no history. When it is the result of
a differentiable operation on tensors that require grad, `._ctx` points to the
`Function` node that made it; `backward()` walks those nodes in reverse and
leaves dL/dx in `.grad` of every leaf tensor x that requires grad.

The methods here are thin: each one names the op in `glassnet.ops` that does
the work, so the math of every operation lives in exactly one place.
"""
from collections import namedtuple

import numpy as np

from . import devices as _device, dtypes, tensor_types as _tensor_types
from .autograd.grad_mode import _state as _grad_state

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def as_array(value):
    """The NumPy array behind a Tensor (no copy), or `value` as an ndarray."""
    return value._array if isinstance(value, Tensor) else np.asarray(value)


def _to_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data._array
    array = np.asarray(data)
    if dtype is None:
        dtype = dtypes.infer_dtype(array)
    return np.asarray(array, dtype=dtype)


class Tensor:
    __slots__ = ("_array", "grad", "requires_grad", "_ctx", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__  # == is elementwise, identity still hashes

    def __init__(self, data, dtype=None, requires_grad=False):
        self._array = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad, ctx):
        """Wrap an array produced by an op (no conversion, no copy)."""
        t = object.__new__(cls)
        t._array = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        t._retains_grad = False
        return t

    # ------------------------------------------------------------------- .data
    @property
    def data(self):
        """The same values as a tensor that shares this one's memory but has no history
        and does not require grad (PyTorch's `.data`): `p.data.mul_(0.9)` changes p."""
        return Tensor._make(self._array, False, None)

    @data.setter
    def data(self, other):
        # p.data = t: p now holds t's values (shares t's memory), whatever their shape
        if not isinstance(other, Tensor):
            raise TypeError(f"data: assign a Tensor to .data, got {type(other).__name__} "
                            "(wrap an array with gn.from_numpy or gn.tensor)")
        self._array = other._array

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad=True):
        if requires_grad and not dtypes.is_floating(self._array.dtype):
            raise TypeError(f"requires_grad: only floating-point tensors can require "
                            f"gradients, this one is {self._array.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad of a tensor "
                               "computed in a graph; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        self._retains_grad = True
        return self

    def backward(self, gradient=None, retain_graph=False):
        """Backpropagate: accumulate d(self)/d(leaf), weighted by `gradient`, into each leaf's .grad."""
        from .autograd.engine import run_backward
        if not self.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no graph; "
                               "did you create it under no_grad or forget requires_grad=True?")
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError(f"backward: a gradient can be created implicitly only for a "
                                   f"scalar output; this output has shape {self.shape}, so pass "
                                   f"gradient= of that shape")
            grad = np.ones_like(self._array)
        else:
            grad = _to_array(gradient, self._array.dtype)
            if grad.shape != self._array.shape:
                raise ValueError(f"backward: gradient has shape {grad.shape} but the output "
                                 f"has shape {self.shape}")
        run_backward(self, grad, retain_graph)

    def detach(self):
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._make(self._array, False, None)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    # ------------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy: call .detach().numpy() on a tensor that requires grad")
        return self._array

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def item(self):
        if self._array.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number, "
                             f"this one has shape {self.shape}")
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._array.item())

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._array.size} "
                               "elements is ambiguous; use .any() or .all()")
        return bool(self._array.item())

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self):
        return self._array.shape

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self):
        return self._array.ndim

    @property
    def dtype(self):
        return self._array.dtype

    def size(self, dim=None):
        if dim is None:
            return self._array.shape
        return self._array.shape[_ops.normalize_dim(dim, self._array.ndim, "size")]

    def numel(self):
        return self._array.size

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        body = np.array2string(self._array, separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self._array.dtype not in (dtypes.DEFAULT_FLOAT, dtypes.DEFAULT_INT, np.bool_):
            extras.append(f"dtype={self._array.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec):
        if self._array.ndim == 0:
            return format(self._array.item(), spec)
        return repr(self)

    # --------------------------------------------------------- devices, dtypes
    @property
    def device(self):
        return _device.CPU

    is_cuda = False

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        _device.check_device("cuda", "cuda")     # always raises: there is no CUDA device

    def to(self, *args, **kwargs):
        """to(dtype), to(device, dtype=None), to(other_tensor), with copy=: PyTorch's forms.
        The device must be the CPU; the same tensor comes back when nothing changes."""
        _, dtype, copy = _device.parse_to("to", args, kwargs)
        out = self if dtype is None else _ops.cast(self, dtype)
        return _ops.clone(out) if copy and out is self else out

    def type(self, dtype=None):
        """x.type(gn.float64) or x.type(gn.DoubleTensor) casts; x.type() names the type."""
        if dtype is None:
            return _tensor_types.type_name(self.dtype)
        return _ops.cast(self, _tensor_types.as_dtype(dtype))

    def astype(self, dtype):
        return _ops.cast(self, dtype)

    def float(self):
        return _ops.cast(self, np.float32)

    def double(self):
        return _ops.cast(self, np.float64)

    def long(self):
        return _ops.cast(self, np.int64)

    def int(self):
        return _ops.cast(self, np.int32)

    def bool(self):
        return _ops.cast(self, np.bool_)

    def clone(self):
        return _ops.clone(self)

    def contiguous(self):
        return self

    # ---------------------------------------------------------------- in-place
    def _check_inplace(self, op):
        if self.requires_grad and _grad_state["enabled"]:
            raise RuntimeError(f"{op}: a tensor that requires grad cannot be modified in place "
                               "while grad mode is on (wrap the update in gn.no_grad())")

    def _inplace(self, op, ufunc, other):
        self._check_inplace(op)
        other = other._array if isinstance(other, Tensor) else other
        try:
            ufunc(self._array, other, out=self._array, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise ValueError(f"{op}: cannot update a tensor of shape {self.shape} and dtype "
                             f"{self.dtype} in place with {np.shape(other)} "
                             f"({np.asarray(other).dtype}): {e}") from None
        return self

    def __iadd__(self, other):
        return self._inplace("+=", np.add, other)

    def __isub__(self, other):
        return self._inplace("-=", np.subtract, other)

    def __imul__(self, other):
        return self._inplace("*=", np.multiply, other)

    def __itruediv__(self, other):
        return self._inplace("/=", np.true_divide, other)

    add_ = __iadd__
    sub_ = __isub__
    mul_ = __imul__
    div_ = __itruediv__

    def zero_(self):
        self._check_inplace("zero_")
        self._array[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self._array[...] = value
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        src = src._array if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.copyto(self._array, np.broadcast_to(src, self._array.shape), casting="unsafe")
        except ValueError:
            raise ValueError(f"copy_: cannot copy a source of shape {np.shape(src)} into a "
                             f"tensor of shape {self.shape}") from None
        return self

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        value = value._array if isinstance(value, Tensor) else value
        self._array[_ops.index_key(key, self._array.shape)] = value

    # --------------------------------------------------------------- operators
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __getitem__(self, key):
        return _ops.index(self, key)

    # ------------------------------------------------------- elementwise ops
    def add(self, other):
        return _ops.add(self, other)

    def sub(self, other):
        return _ops.sub(self, other)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def neg(self):
        return _ops.neg(self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def sign(self):
        return _ops.sign(self)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    # ------------------------------------------------------------ activations
    def step(self):
        return _ops.step(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def tanh(self):
        return _ops.tanh(self)

    def relu(self):
        return _ops.relu(self)

    def softmax(self, dim):
        return _ops.softmax(self, dim)

    def log_softmax(self, dim):
        return _ops.log_softmax(self, dim)

    # -------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False):
        return _ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return _ops.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _ops.prod(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _ops.amin(self, dim, keepdim)

    # ----------------------------------------------------------- linear algebra
    def matmul(self, other):
        return _ops.matmul(self, other)

    # ------------------------------------------------------------------- shape
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        return _ops.view(self, *shape)

    def view_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def t(self):
        if self._array.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}")
        return _ops.transpose(self, 0, -1) if self._array.ndim == 2 else self

    @property
    def T(self):
        return _ops.permute(self, *reversed(range(self._array.ndim)))

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.expand(self, *other.shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def flip(self, dims):
        return _ops.flip(self, dims)

    def tile(self, dims):
        return _ops.tile(self, dims)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    def swapaxes(self, axis0, axis1):
        return _ops.swapaxes(self, axis0, axis1)

    def tril(self, diagonal=0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _ops.triu(self, diagonal)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def select(self, dim, index):
        return _ops.select(self, dim, index)

    # ---------------------------------------------------------- gather/scatter
    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)


from . import ops as _ops  # noqa: E402  (the ops import Tensor from this module)
