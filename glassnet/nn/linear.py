"""Identity and Linear (the fully connected layer: y = x W^T + b)."""
import math

from .. import creation
from ..ops.linalg import linear
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, weight (out_features, in_features) as in PyTorch.

    Default initialisation is PyTorch's: W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))
    (kaiming_uniform_ with a = sqrt(5) works out to exactly that bound for W).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._create_parameters(bias, dtype)

    def _create_parameters(self, bias, dtype):
        self.weight = Parameter(creation.empty(self.out_features, self.in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input "
                             f"with {self.in_features} features in its last dim, got shape "
                             f"{tuple(input.shape)}")
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """Linear that takes in_features from its first input (Keras' way: Dense(512)).

    Run one batch through the model before handing its parameters to an optimizer;
    after that first call the layer is an ordinary Linear.
    """

    def __init__(self, out_features, bias=True, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features = 0, int(out_features)
        self._lazy = (bias, dtype)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim == 0:
            raise ValueError("LazyLinear: expected an input with at least 1 dim, got a scalar")
        self.in_features = input.shape[-1]
        self._create_parameters(*self._lazy)
        del self._lazy
        self.__class__ = Linear
        return self.forward(input)
