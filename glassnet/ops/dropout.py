"""Dropout: during training, zero each unit with probability p and scale the survivors
by 1 / (1 - p) ("inverted" dropout), so that nothing needs rescaling at test time.

The mask comes from glassnet's one generator (`gn.manual_seed` makes it repeatable)
and is drawn inside forward from the generator it is handed, so a recorded graph
that is run again draws a fresh mask.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state as _grad_state
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    def forward(self, x, p, mask_shape, generator):
        # keep with probability 1 - p; float32 uniforms are enough for any p and twice as fast
        keep = generator.random(mask_shape, dtype=np.float32) >= p
        mask = keep * x.dtype.type(0 if p == 1 else 1 / (1 - p))
        self.mask = mask if self.needs_input_grad[0] else None
        return x * mask

    def backward(self, g):  # dL/dx = dL/dy * mask, the mask already scaled by 1 / (1 - p)
        return g * self.mask


def _dropout(input, p, training, inplace, mask_shape, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input._array.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {input._array.dtype}")
    if not training or p == 0:
        return input
    out = Dropout.apply(input, p=p, mask_shape=mask_shape, generator=default_generator())
    if inplace and not (input.requires_grad and _grad_state["enabled"]):
        # Outside a graph the input itself can take the result; inside one it cannot (its old
        # values may be saved by other nodes), so the result stays a new tensor.
        input._array[...] = out._array
        return input
    return out


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training
    only: with training=False, or p=0, the input comes back unchanged)."""
    return _dropout(input, p, training, inplace, input.shape if isinstance(input, Tensor) else (),
                    "dropout")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (n, c) feature map of an (N, C, H, W) input (or (N, C, L))
    is dropped with probability p, the rest scaled by 1 / (1 - p)."""
    if isinstance(input, Tensor) and input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input (N, C, ...), got shape "
                         f"{input.shape}")
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2) if isinstance(input, Tensor) else ()
    return _dropout(input, p, training, inplace, mask_shape, "dropout2d")
