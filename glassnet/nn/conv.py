"""Convolution layers: Conv1d and Conv2d, with every option of F.conv1d/F.conv2d, and
their transposes ConvTranspose1d/ConvTranspose2d."""
from .. import creation
from ..ops.conv import conv1d, conv2d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from .linear import make_weight_and_bias, reset_weight_and_bias
from .module import Module
from .parameter import Parameter


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    _nd = 2
    _fn = staticmethod(conv2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        name = type(self).__name__
        if groups <= 0 or out_channels % groups or (in_channels and in_channels % groups):
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be 'same', 'valid' or numbers, "
                             f"got {padding!r}")
        n = self._nd
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation, self.padding_mode = _tuple(dilation, n), padding_mode
        if in_channels:
            self._create_parameters(bias, dtype)

    def _create_parameters(self, bias, dtype):
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        make_weight_and_bias(self, shape, bias, dtype)

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return self._fn(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input."""
    _nd = 1
    _fn = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input (PyTorch's cross-correlation)."""


class LazyConv2d(Conv2d):
    """Conv2d that takes in_channels from its first input (Keras' way: Conv2D(filters, ...)).

    Run one batch through the model before handing its parameters to an optimizer;
    after that first call the layer is an ordinary Conv2d.
    """

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype)
        self._lazy = (bias, dtype)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"LazyConv2d: expected a 3-D or 4-D input, got shape "
                             f"{tuple(input.shape)}")
        self.in_channels = input.shape[-3]
        if self.in_channels % self.groups:
            raise ValueError(f"LazyConv2d: the input's {self.in_channels} channels are not "
                             f"divisible by groups ({self.groups})")
        self._create_parameters(*self._lazy)
        del self._lazy
        self.__class__ = Conv2d
        return self.forward(input)


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d/2d: the weight is (in_channels, out_channels/groups, *kernel_size), and
    PyTorch's default init on it gives fan_in = out_channels/groups * prod(kernel_size)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be numbers, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)
        self.output_padding = _tuple(output_padding, self._nd)

    def _create_parameters(self, bias, dtype):
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:     # one per output channel: make_weight_and_bias would size it by shape[0]
            self.bias = Parameter(creation.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _output_padding(self, input, output_size):
        """output_padding, or the one that gives `output_size` (PyTorch's rule: any size
        from the smallest output up to stride - 1 more)."""
        if output_size is None:
            return self.output_padding
        n, name = self._nd, type(self).__name__
        output_size = tuple(int(s) for s in output_size)
        if len(output_size) == input.ndim:
            output_size = output_size[-n:]
        if len(output_size) != n:
            raise ValueError(f"{name}: for {input.ndim}-D input, output_size must have {n} or "
                             f"{input.ndim} elements, got {output_size}")
        low = tuple((h - 1) * s - 2 * p + d * (k - 1) + 1 for h, s, p, d, k in zip(
            input.shape[-n:], self.stride, self.padding, self.dilation, self.kernel_size))
        high = tuple(lo + s - 1 for lo, s in zip(low, self.stride))
        if any(not lo <= o <= hi for o, lo, hi in zip(output_size, low, high)):
            raise ValueError(f"{name}: requested an output size of {output_size}, but valid "
                             f"sizes range from {low} to {high} (for an input of "
                             f"{tuple(input.shape[-n:])})")
        return tuple(o - lo for o, lo in zip(output_size, low))

    def forward(self, input, output_size=None):
        return self._fn(input, self.weight, self.bias, self.stride, self.padding,
                        self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self):
        s = super().extra_repr()
        if self.output_padding != (0,) * self._nd:
            ends = [i for i in (s.find(", groups="), s.find(", bias=False")) if i >= 0]
            cut = min(ends, default=len(s))
            s = f"{s[:cut]}, output_padding={self.output_padding}{s[cut:]}"
        return s


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C, L) input: learned upsampling of sequences."""
    _nd = 1
    _fn = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C, H, W) input: learned upsampling (DCGAN's
    generator, decoders). forward(input, output_size) picks output_padding for a size."""
    _fn = staticmethod(conv_transpose2d)
