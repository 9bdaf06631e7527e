"""Activation layers: each calls its op from glassnet.ops.activation."""
from ..ops import activation as A
from .module import Module


class _Activation(Module):
    """A layer applying `fn(input, **options)`; options show in the repr."""
    fn = None
    options = ()

    def forward(self, input):
        return type(self).fn(input, **{k: getattr(self, k) for k in self.options})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" if isinstance(getattr(self, k), str)
                         else f"{k}={getattr(self, k)}" for k in self.options)


class Step(_Activation):
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation; zero gradient)."""
    fn = A.step


class ReLU(_Activation):
    fn = A.relu

    def __init__(self, inplace=False):
        super().__init__()


class Hardtanh(_Activation):
    """Clip to [min_val, max_val]; slope 1 strictly inside, 0 outside and on the bounds.

    `inplace` is accepted for PyTorch's signature and shown in the repr as PyTorch does,
    but the result is always a new tensor (glassnet keeps every input for backward).
    """
    fn, options = A.hardtanh, ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def extra_repr(self):
        return super().extra_repr() + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): ReLU capped at 6, MobileNet's activation (Hardtanh on [0, 6])."""
    fn, options = A.relu6, ()

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(_Activation):
    fn = A.sigmoid


class Tanh(_Activation):
    fn = A.tanh


class SiLU(_Activation):
    fn = A.silu


class LeakyReLU(_Activation):
    fn, options = A.leaky_relu, ("negative_slope",)

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope


class ELU(_Activation):
    fn, options = A.elu, ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha


class GELU(_Activation):
    fn, options = A.gelu, ("approximate",)

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate


class Softplus(_Activation):
    fn, options = A.softplus, ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class Softmax(_Activation):
    fn, options = A.softmax, ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return A.softmax(input, _softmax_dim(self.dim, input, "Softmax"))


class LogSoftmax(_Activation):
    fn, options = A.log_softmax, ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return A.log_softmax(input, _softmax_dim(self.dim, input, "LogSoftmax"))


def _softmax_dim(dim, input, layer):
    if dim is not None:
        return dim
    if input.ndim in (0, 1, 3):   # PyTorch's legacy choice when no dim is given
        return 0
    return 1
