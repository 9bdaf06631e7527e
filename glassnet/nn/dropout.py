"""Dropout layers: active in train() mode, the identity in eval() mode."""
from ..ops.dropout import dropout, dropout2d
from .module import Module


class _DropoutNd(Module):
    _fn = staticmethod(dropout)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return self._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p, scale the rest by 1/(1-p) (training only)."""


class Dropout2d(_DropoutNd):
    """Zero whole channels with probability p (training only)."""
    _fn = staticmethod(dropout2d)
