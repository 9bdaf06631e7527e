"""Identity and Linear (the fully connected layer: y = x W^T + b)."""
import math

from .. import creation
from ..ops.linalg import linear
from . import init
from .module import Module
from .parameter import Parameter


def reset_weight_and_bias(weight, bias):
    """PyTorch's default for Linear and Conv layers: W ~ kaiming_uniform(a = sqrt(5)),
    which is U(+-1/sqrt(fan_in)), and b ~ U(+-1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def make_weight_and_bias(module, weight_shape, bias, dtype):
    """Register `weight` of weight_shape and `bias` of (weight_shape[0],) (or None), with
    PyTorch's default initialisation."""
    module.weight = Parameter(creation.empty(*weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(creation.empty(weight_shape[0], dtype=dtype))
    else:
        module.register_parameter("bias", None)
    reset_weight_and_bias(module.weight, module.bias)


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, weight (out_features, in_features) as in PyTorch.

    Default initialisation is PyTorch's: W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._create_parameters(bias, dtype)

    def _create_parameters(self, bias, dtype):
        make_weight_and_bias(self, (self.out_features, self.in_features), bias, dtype)

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

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
