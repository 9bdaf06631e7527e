"""Reductions over dims: sum, mean (more to come: var, std, max, min, argmax, argmin, logsumexp)."""
import numpy as np

from ..autograd.function import Function
from ._util import normalize_dims

__all__ = ["sum", "mean"]


def _restore_dims(g, shape, axes, keepdim):
    """Put the reduced axes back as size-1 dims so g broadcasts against the input."""
    if keepdim:
        return g
    return g.reshape([1 if i in axes else n for i, n in enumerate(shape)])


class Sum(Function):
    def forward(self, a, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def backward(self, g):  # dL/da_i = dL/dy for every a_i summed into y
        return np.broadcast_to(_restore_dims(g, self.shape, self.axes, self.keepdim), self.shape)


class Mean(Function):
    def forward(self, a, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return np.mean(a, axis=axes, keepdims=keepdim)

    def backward(self, g):  # dL/da_i = dL/dy / n, n the number of elements averaged
        n = int(np.prod([self.shape[i] for i in self.axes]))
        g = _restore_dims(g, self.shape, self.axes, self.keepdim) / g.dtype.type(n)
        return np.broadcast_to(g, self.shape)


def sum(input, dim=None, keepdim=False):
    return Sum.apply(input, axes=normalize_dims(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    if input.data.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating-point tensor, got {input.data.dtype}; "
                        "use .float() first")
    return Mean.apply(input, axes=normalize_dims(dim, input.ndim, "mean"), keepdim=keepdim)
