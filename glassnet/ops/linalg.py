"""Matrix products: `matmul` with NumPy/PyTorch broadcasting, and the fused `linear`."""
import numpy as np

from ..autograd.function import Function
from ._util import binary_operands, unbroadcast

__all__ = ["matmul", "linear"]


def _swap(x):
    return np.swapaxes(x, -1, -2)


class Matmul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes "
                             f"{a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: cannot multiply {a.shape} by {b.shape} "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: the batch dims of {a.shape} and {b.shape} "
                             "cannot be broadcast together") from None
        need_a, need_b = self.needs_input_grad
        self.a, self.b = (a if need_b else None), (b if need_a else None)
        self.shapes = (a.shape, b.shape)
        return out

    def backward(self, g):
        # Y = A B:  dL/dA = dL/dY B^T,  dL/dB = A^T dL/dY  (vectors act as 1-row / 1-column
        # matrices; batch dims that broadcast are summed back).
        sa, sb = self.shapes
        a1, b1 = len(sa) == 1, len(sb) == 1
        if b1:
            g = g[..., None]
        if a1:
            g = g[..., None, :]
        ga = gb = None
        if self.needs_input_grad[0]:
            b = self.b[:, None] if b1 else self.b
            ga = np.matmul(g, _swap(b))
            ga = unbroadcast(ga, (1,) + sa if a1 else sa).reshape(sa)
        if self.needs_input_grad[1]:
            a = self.a[None, :] if a1 else self.a
            gb = np.matmul(_swap(a), g)
            gb = unbroadcast(gb, sb + (1,) if b1 else sb).reshape(sb)
        return ga, gb


class Linear(Function):
    """y = x W^T + b in one node: one GEMM forward, two GEMMs and a sum backward."""

    def forward(self, x, weight, bias=None):
        if weight.ndim != 2:
            raise ValueError(f"linear: weight must be 2-D (out_features, in_features), "
                             f"got shape {weight.shape}")
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} "
                             f"features in its last dim, but the weight {weight.shape} expects "
                             f"{weight.shape[1]}")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), "
                             f"got {bias.shape}")
        self.x = x if self.needs_input_grad[1] else None
        self.weight = weight if self.needs_input_grad[0] else None
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, g):
        # dL/dx = dL/dy W,  dL/dW = (dL/dy)^T x  (summed over every batch position),
        # dL/db = sum of dL/dy over every batch position
        need = self.needs_input_grad
        gx = g @ self.weight if need[0] else None
        g2 = g.reshape(-1, g.shape[-1])
        gw = g2.T @ self.x.reshape(-1, self.x.shape[-1]) if need[1] else None
        if len(need) == 3:
            return gx, gw, (g2.sum(axis=0) if need[2] else None)
        return gx, gw


def matmul(input, other):
    return Matmul.apply(*binary_operands(input, other, "matmul"))


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, PyTorch's `F.linear` (weight: out_features x in_features)."""
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
