"""Reductions over dims: sum, mean, prod, var, std, max/min (with or without their
indices), amax/amin, argmax/argmin and logsumexp.

`dim` is an int, a tuple of ints or None (every dim), negative dims allowed;
`keepdim=True` keeps each reduced dim with size 1.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, ValuesIndices
from ._util import normalize_dim, normalize_dims

__all__ = ["sum", "mean", "prod", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
           "logsumexp"]


def _restore_dims(g, shape, axes, keepdim):
    """Put the reduced axes back as size-1 dims so g broadcasts against the input."""
    if keepdim:
        return g
    return g.reshape([1 if i in axes else n for i, n in enumerate(shape)])


def _count(shape, axes):
    n = 1
    for i in axes:
        n *= shape[i]
    return n


def _axes(dim, ndim, op):
    """normalize_dims, except that a 0-d tensor (whose dim may be 0 or -1) has no axes."""
    axes = normalize_dims(dim, ndim, op)
    return axes if ndim else ()


def _drop_dims(y, axes, keepdim):
    """A keepdims=True result with the reduced dims removed unless keepdim, as an ndarray."""
    return np.asarray(y if keepdim else np.squeeze(y, axis=axes))


class _Reduction(Function):
    """Shared bookkeeping: the input's shape and the reduced axes, to undo the reduction."""

    def remember(self, shape, axes, keepdim):
        self.shape, self.axes, self.keepdim = shape, axes, keepdim

    def spread(self, g):
        """dL/dy with the reduced dims put back as size 1."""
        return _restore_dims(g, self.shape, self.axes, self.keepdim)


class Sum(_Reduction):
    def forward(self, a, axes, keepdim):
        self.remember(a.shape, axes, keepdim)
        return np.asarray(np.sum(a, axis=axes, keepdims=keepdim))

    def backward(self, g):  # dL/da_i = dL/dy for every a_i summed into y
        return np.broadcast_to(self.spread(g), self.shape)


class Mean(_Reduction):
    def forward(self, a, axes, keepdim):
        self.remember(a.shape, axes, keepdim)
        return np.asarray(np.mean(a, axis=axes, keepdims=keepdim))

    def backward(self, g):  # dL/da_i = dL/dy / n, n the number of elements averaged
        g = self.spread(g) / g.dtype.type(_count(self.shape, self.axes))
        return np.broadcast_to(g, self.shape)


def _products_of_others(a, axis):
    """For each entry, the product of every other entry along axis: running products from
    the left times running products from the right, so zeros need no division."""
    a = np.moveaxis(a, axis, -1)
    left, right = np.ones_like(a), np.ones_like(a)
    np.cumprod(a[..., :-1], axis=-1, out=left[..., 1:])
    np.cumprod(a[..., :0:-1], axis=-1, out=right[..., -2::-1])
    left *= right
    return np.moveaxis(left, -1, axis)


class Prod(Function):
    def forward(self, a, axis, keepdim):
        self.shape = a.shape
        if axis is None or a.ndim == 0:  # the product of everything, as a 0-d tensor
            a, axis, keepdim = a.reshape(-1), 0, False
        self.axis, self.keepdim = axis, keepdim
        self.a = a if self.needs_input_grad[0] else None
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdim))

    def backward(self, g):  # dL/da_i = dL/dy * (product of every a_j with j != i)
        if not self.keepdim:
            g = np.expand_dims(g, self.axis)
        return (g * _products_of_others(self.a, self.axis)).reshape(self.shape)


class _Moments(_Reduction):
    """var and std: both start from the deviations d = x - mean(x)."""

    def deviations(self, a, axes, keepdim, correction):
        self.remember(a.shape, axes, keepdim)
        d = a - np.mean(a, axis=axes, keepdims=True)
        self.dof = a.dtype.type(np.maximum(_count(a.shape, axes) - correction, 0))
        self.d = d if self.needs_input_grad[0] else None
        with np.errstate(invalid="ignore", divide="ignore"):  # no degrees of freedom: inf/nan
            return np.asarray(np.sum(d * d, axis=axes, keepdims=keepdim) / self.dof)


class Var(_Moments):
    def forward(self, a, axes, keepdim, correction):
        return self.deviations(a, axes, keepdim, correction)

    def backward(self, g):  # dL/dx_i = dL/dy * 2 d_i / (n - correction)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.spread(g) * (self.d * (2 / self.dof))


class Std(_Moments):
    def forward(self, a, axes, keepdim, correction):
        y = np.asarray(np.sqrt(self.deviations(a, axes, keepdim, correction)))
        self.y = y if self.needs_input_grad[0] else None
        return y

    def backward(self, g):
        # dL/dx_i = dL/dy * d_i / ((n - correction) y), and 0 where y = 0 (as PyTorch has it)
        y = self.spread(self.y)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = self.spread(g) / (y * self.dof)
        return np.where(y == 0, 0, scale) * self.d


class Amax(_Reduction):
    pick = staticmethod(np.max)

    def forward(self, a, axes, keepdim):
        y = self.pick(a, axis=axes, keepdims=True)
        if self.needs_input_grad[0]:
            self.remember(a.shape, axes, keepdim)
            self.winners = a == y
        return _drop_dims(y, axes, keepdim)

    def backward(self, g):  # dL/dx_i = dL/dy / (number of tied extremes) where x_i = y, else 0
        ties = np.sum(self.winners, axis=self.axes, keepdims=True, dtype=g.dtype)
        return self.winners * (self.spread(g) / ties)


class Amin(Amax):
    pick = staticmethod(np.min)


class MaxWithIndices(Function):
    pick = staticmethod(np.argmax)

    def forward(self, a, axis, keepdim):
        indices = self.pick(a, axis=axis, keepdims=True).astype(np.int64, copy=False)
        values = np.take_along_axis(a, indices, axis)
        if self.needs_input_grad[0]:
            self.shape, self.axis, self.indices = a.shape, axis, indices
        return _drop_dims(values, axis, keepdim), _drop_dims(indices, axis, keepdim)

    def backward(self, g):  # dL/dx_i = dL/dy at the index chosen (the first extreme), else 0
        gx = np.zeros(self.shape, g.dtype)
        np.put_along_axis(gx, self.indices, g.reshape(self.indices.shape), self.axis)
        return gx


class MinWithIndices(MaxWithIndices):
    pick = staticmethod(np.argmin)


class LogSumExp(_Reduction):
    def forward(self, a, axes, keepdim):
        m = np.max(a, axis=axes, keepdims=True, initial=-np.inf)  # an empty slice gives -inf
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf) in a slice: nothing to shift by
        e = np.exp(a - m)
        total = np.sum(e, axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # an all -inf slice: -inf, its p nan
            y = np.log(total) + m
            if self.needs_input_grad[0]:
                self.remember(a.shape, axes, keepdim)
                self.p = e / total
        return _drop_dims(y, axes, keepdim)

    def backward(self, g):  # dL/dx_i = dL/dy * e^(x_i - y), the softmax of x
        return self.spread(g) * self.p


# ----------------------------------------------------------------- functions
def _require_float(input, op):
    if input._array.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got {input._array.dtype}; "
                        "use .float() first")


def _check_nonempty(input, axes, op):
    if any(input.shape[i] == 0 for i in axes) or (not axes and input._array.size == 0):
        raise ValueError(f"{op}: cannot reduce over an empty dim (input shape {input.shape}, "
                         f"dims {axes})")


def sum(input, dim=None, keepdim=False):
    return Sum.apply(input, axes=_axes(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    _require_float(input, "mean")
    return Mean.apply(input, axes=_axes(dim, input.ndim, "mean"), keepdim=keepdim)


def prod(input, dim=None, keepdim=False):
    """Product of the entries along one dim, or of all of them (a 0-d tensor) for dim=None."""
    axis = None if dim is None else normalize_dim(dim, input.ndim, "prod")
    return Prod.apply(input, axis=axis, keepdim=keepdim)


def _moments(fn, input, dim, unbiased, keepdim, correction, op):
    _require_float(input, op)
    if correction is None:
        correction = 1 if unbiased else 0
    return fn.apply(input, axes=_axes(dim, input.ndim, op), keepdim=keepdim,
                    correction=correction)


def var(input, dim=None, unbiased=True, keepdim=False, correction=None):
    """sum((x - mean)^2) / (n - correction); correction (default 1, or 0 if not unbiased)."""
    return _moments(Var, input, dim, unbiased, keepdim, correction, "var")


def std(input, dim=None, unbiased=True, keepdim=False, correction=None):
    """sqrt(var(...)), with var's arguments."""
    return _moments(Std, input, dim, unbiased, keepdim, correction, "std")


def _extreme(full, with_indices, input, dim, keepdim, op):
    if dim is None:
        _check_nonempty(input, (), op)
        return full.apply(input, axes=tuple(range(input.ndim)), keepdim=False)
    axis = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:  # a 0-d tensor is its own extreme, at index 0
        return ValuesIndices(full.apply(input, axes=(), keepdim=False),
                             Tensor._make(np.zeros((), np.int64), False, None))
    _check_nonempty(input, (axis,), op)
    return ValuesIndices(*with_indices.apply(input, axis=axis, keepdim=keepdim))


def max(input, dim=None, keepdim=False):
    """The largest entry (0-d; tied maxima share the gradient), or with a dim the pair
    (values, indices) of each slice's first maximum, the one that takes the gradient."""
    return _extreme(Amax, MaxWithIndices, input, dim, keepdim, "max")


def min(input, dim=None, keepdim=False):
    """The smallest entry, or (values, indices) along dim; see `max`."""
    return _extreme(Amin, MinWithIndices, input, dim, keepdim, "min")


def _amax_amin(fn, input, dim, keepdim, op):
    everything = isinstance(dim, (tuple, list)) and len(dim) == 0  # PyTorch's dim=()
    axes = tuple(range(input.ndim)) if everything else _axes(dim, input.ndim, op)
    _check_nonempty(input, axes, op)
    return fn.apply(input, axes=axes, keepdim=keepdim)


def amax(input, dim=(), keepdim=False):
    """The largest entries over one or more dims (all for dim=()); ties share the gradient."""
    return _amax_amin(Amax, input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False):
    """The smallest entries over one or more dims (all for dim=()); ties share the gradient."""
    return _amax_amin(Amin, input, dim, keepdim, "amin")


def _arg_extreme(pick, input, dim, keepdim, op):
    a = input._array
    if dim is None:
        _check_nonempty(input, (), op)
        index = np.asarray(pick(a), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * a.ndim) if keepdim else index, False, None)
    axis = normalize_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return Tensor._make(np.zeros((), np.int64), False, None)
    _check_nonempty(input, (axis,), op)
    return Tensor._make(np.asarray(pick(a, axis=axis, keepdims=keepdim), dtype=np.int64),
                        False, None)


def argmax(input, dim=None, keepdim=False):
    """Index of the first largest entry (of the flattened tensor when dim is None)."""
    return _arg_extreme(np.argmax, input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the first smallest entry (of the flattened tensor when dim is None)."""
    return _arg_extreme(np.argmin, input, dim, keepdim, "argmin")


def logsumexp(input, dim, keepdim=False):
    """log(sum(e^x)) over dim, computed as m + log(sum(e^(x - m))) with m the maximum."""
    _require_float(input, "logsumexp")
    return LogSumExp.apply(input, axes=_axes(dim, input.ndim, "logsumexp"),
                           keepdim=keepdim)
