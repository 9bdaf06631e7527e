"""Conv1D, Conv2D and the pooling layers, with Keras's (TensorFlow's) padding rules.

Output size per spatial axis, as the notes give it:
    padding='valid': ceil((n - f + 1) / s)        padding='same': ceil(n / s)
'same' pads (out - 1) s + f - n in all, the odd one at the end (bottom/right), which for a
strided convolution is not PyTorch's symmetric padding: the pads go to glassnet's
convolution as explicit (before, after) pairs. These layers compute channels-first; the model
moves the layout only where a channels-last layer follows.
"""
import math
import operator

import numpy as np

from ...ops.conv import conv1d, conv2d
from ...ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from ...ops.shape import pad
from ...tensor import Tensor
from .. import initializers
from .base import Layer, _shape_text
from .core import _Activates, activations


def _tuple(value, n, what, layer):
    """value as n positive ints (one int stands for all n), else a ValueError naming it."""
    given = value
    try:
        value = (operator.index(value),) * n if not isinstance(value, (tuple, list)) else \
            tuple(operator.index(v) for v in value)
    except TypeError:
        value = None
    if value is None or len(value) != n or not all(v > 0 for v in value):
        raise ValueError(f"{layer}: {what} must be a positive int or a tuple of {n} positive "
                         f"ints, got {given!r}")
    return value


def _padding(padding, layer, allowed=("valid", "same")):
    padding = str(padding).lower()
    if padding not in allowed:
        raise ValueError(f"{layer}: padding must be one of {', '.join(map(repr, allowed))}, "
                         f"got {padding!r}")
    return padding


def out_size(n, k, s, padding, dilation=1):
    """One spatial output size (None stays None) by Keras's rules."""
    if n is None:
        return None
    if padding in ("same", "causal"):      # causal: (k - 1) d zeros before, none after
        return math.ceil(n / s)
    reach = dilation * (k - 1) + 1
    return max(math.ceil((n - reach + 1) / s), 0)


def same_pads(n, k, s, dilation=1):
    """TensorFlow's 'same' padding of one axis: (before, after), the odd one after."""
    total = max((math.ceil(n / s) - 1) * s + dilation * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _check_data_format(data_format, layer):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer}: only data_format='channels_last' is supported "
                                  f"(glassnet keeps Keras's layout at the model's edges)")


class _Conv(_Activates, Layer):
    rank = 2
    channels_first = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        self.min_ndim = self.max_ndim = n + 2
        if not (isinstance(filters, int) and filters > 0):
            raise ValueError(f"{cls}: filters must be a positive int, got {filters!r}")
        for what, value in (("kernel_regularizer", kernel_regularizer),
                            ("bias_regularizer", bias_regularizer),
                            ("activity_regularizer", activity_regularizer),
                            ("kernel_constraint", kernel_constraint),
                            ("bias_constraint", bias_constraint)):
            if value is not None:
                raise NotImplementedError(f"{cls}: {what} is not supported yet")
        _check_data_format(data_format, cls)
        if not (isinstance(groups, int) and groups > 0):
            raise ValueError(f"{cls}: groups must be a positive int, got {groups!r}")
        self.filters, self.groups = filters, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", cls)
        self.strides = _tuple(strides, n, "strides", cls)
        self.dilation_rate = _tuple(dilation_rate, n, "dilation_rate", cls)
        self.padding = _padding(padding, cls, ("valid", "same", "causal") if n == 1
                                else ("valid", "same"))
        self.use_bias = bool(use_bias)
        self._set_activation(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.name}: input channels ({channels}) and filters "
                             f"({self.filters}) must be known and divisible by groups "
                             f"({self.groups}); input shape {_shape_text(input_shape)}")
        n = self.rank
        to_keras = (lambda a: a.transpose(*range(2, n + 2), 1, 0))        # (O, I, k..) -> (k.., I, O)
        from_keras = (lambda a: a.transpose(n + 1, n, *range(n)))          # and back
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer,
                                      to_keras=to_keras, from_keras=from_keras)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) \
            if self.use_bias else None

    def compute_output_shape(self, input_shape):
        spatial = tuple(out_size(n, k, s, self.padding, d) for n, k, s, d in zip(
            input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate))
        return (input_shape[0],) + spatial + (self.filters,)

    def _pads(self, spatial):
        if self.padding == "valid":
            return 0
        if self.padding == "causal":
            return ((self.dilation_rate[0] * (self.kernel_size[0] - 1), 0),)
        return tuple(same_pads(n, k, s, d) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))

    def forward(self, x, training):
        op = conv2d if self.rank == 2 else conv1d
        y = op(x, self.kernel._tensor, None if self.bias is None else self.bias._tensor,
               self.strides, self._pads(x.shape[2:]), self.dilation_rate, self.groups)
        return self._activate(y, True)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last",
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": None, "bias_regularizer": None,
                "activity_regularizer": None, "kernel_constraint": None,
                "bias_constraint": None}


class Conv2D(_Conv):
    """2-D convolution over (N, H, W, C) images; kernel (kh, kw, C / groups, filters)."""
    rank = 2


class Conv1D(_Conv):
    """1-D convolution over (N, steps, C) sequences; kernel (k, C / groups, filters);
    padding may also be 'causal' (output t sees inputs up to t only)."""
    rank = 1


class _Pooling(Layer):
    rank, kind = 2, "max"
    channels_first = True

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        self.min_ndim = self.max_ndim = n + 2
        _check_data_format(data_format, cls)
        self.pool_size = _tuple(pool_size, n, "pool_size", cls)
        self.strides = self.pool_size if strides is None else _tuple(strides, n, "strides", cls)
        self.padding = _padding(padding, cls)

    def compute_output_shape(self, input_shape):
        spatial = tuple(out_size(n, k, s, self.padding) for n, k, s in zip(
            input_shape[1:-1], self.pool_size, self.strides))
        if any(s == 0 for s in spatial):
            raise ValueError(f"{self.name}: pool_size {self.pool_size} is larger than the input "
                             f"{_shape_text(input_shape)}")
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def forward(self, x, training):
        ops = {(2, "max"): max_pool2d, (1, "max"): max_pool1d,
               (2, "avg"): avg_pool2d, (1, "avg"): avg_pool1d}
        op = ops[self.rank, self.kind]
        pads = [(0, 0)] * self.rank if self.padding == "valid" else \
            [same_pads(n, k, s) for n, k, s in zip(x.shape[2:], self.pool_size, self.strides)]
        if not any(b or a for b, a in pads):
            return op(x, self.pool_size, self.strides)
        # TensorFlow's 'same' pooling: the pad is -inf for max, and not counted for the mean
        flat = [w for b, a in reversed(pads) for w in (b, a)]
        if self.kind == "max":
            return op(pad(x, flat, value=-np.inf), self.pool_size, self.strides)
        summed = op(pad(x, flat), self.pool_size, self.strides)
        ones = np.ones((1, 1) + tuple(x.shape[2:]), x.dtype)
        counts = op(pad(Tensor(ones), flat), self.pool_size, self.strides)
        return summed / counts

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": "channels_last"}


class MaxPooling2D(_Pooling):
    """The largest value of each pool_size window, every `strides` (default pool_size)."""


class AveragePooling2D(_Pooling):
    """The mean of each window ('same' padding: of its values inside the input)."""
    kind = "avg"


class MaxPooling1D(_Pooling):
    rank = 1


class AveragePooling1D(_Pooling):
    rank, kind = 1, "avg"


class _GlobalPooling(Layer):
    rank, kind = 2, "avg"
    channels_first = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.min_ndim = self.max_ndim = self.rank + 2
        _check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def forward(self, x, training):
        dims = tuple(range(2, x.ndim))
        return x.mean(dims, keepdim=self.keepdims) if self.kind == "avg" else \
            x.amax(dims, keepdim=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last",
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean of each channel over the whole image: (N, H, W, C) -> (N, C)."""


class GlobalMaxPooling2D(_GlobalPooling):
    kind = "max"


class GlobalAveragePooling1D(_GlobalPooling):
    rank = 1


class GlobalMaxPooling1D(_GlobalPooling):
    rank, kind = 1, "max"


MaxPool2D, AvgPool2D, MaxPool1D, AvgPool1D = (MaxPooling2D, AveragePooling2D, MaxPooling1D,
                                              AveragePooling1D)
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
