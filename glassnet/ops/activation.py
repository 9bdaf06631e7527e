"""Activation functions: the nonlinearities between layers, one Function each.

Every one stays finite for inputs of any magnitude: sigmoid takes the branch of
its formula whose exponential cannot overflow, softmax and log_softmax subtract
the maximum first, softplus and elu only ever exponentiate numbers <= 0, and
gelu's normal CDF comes from erfc of a non-negative argument, clamped where it
underflows anyway.

The classic activations of the notes keep for backward what their derivative is
written in (sigmoid and tanh their output y, relu its mask). The others work out
dy/dx during forward, where it shares terms with y, and keep that one array.
"""
import numpy as np

from .._kernels import native

from ..autograd.function import Function
from ..tensor import Tensor
from .. import dtypes
from ._util import choose, normalize_dim

__all__ = ["step", "sigmoid", "tanh", "relu", "relu6", "leaky_relu", "hardtanh", "elu", "gelu",
           "silu", "softplus", "softmax", "log_softmax"]


def _sigmoid(x, e=None):
    """1 / (1 + e^-x) = e^min(x, 0) / (1 + e^-|x|), from e = e^-|x|, which never overflows."""
    if e is None:
        e = np.exp(-np.abs(x))
    y = np.maximum(e, x >= 0)  # e^min(x, 0): 1 where x >= 0 (as e <= 1), e where x < 0
    y /= 1 + e
    return y


# erfc(z) = t e^(P(t) - z^2) with t = 2 / (2 + z), for z >= 0. P's coefficients (constant
# term first) are a least-squares Chebyshev-node fit of log(erfc(z) / t) + z^2, made for
# glassnet against 40-digit mpmath values, over z in [0, z_max]: beyond z_max erfc is below
# the dtype's smallest subnormal, and clamping z there makes the result exactly 0.
# Largest relative error of the fit: 5e-8 (degree 9, for float32) and 1.3e-13 (degree 20, for
# float64); in float32 the rounding of z^2 adds up to about 1e-7 * z^2 in the far tail.
_ERFC_FIT = {
    np.dtype(np.float32): (10.5, (
        -1.2654595234867838, 0.9988684066607028, 0.38460636776816537, 0.04436234330369309,
        -0.027512090960663454, -0.02599468428121665, -0.7619841903429839, 1.206169533450085,
        -0.7018472673895667, 0.1487911551683502)),
    np.dtype(np.float64): (27.5, (
        -1.265512124464483, 1.000000079058092, 0.37499712453132095, 0.08339604873391082,
        -0.08685827319353621, -0.13406519887006962, -0.16761382311496792, 0.4824094852767844,
        -1.9640068391490662, 7.72120425541784, -21.6598926322754, 48.050109536087334,
        -83.797371215168, 110.61955304055942, -108.06669064999116, 76.95049824001282,
        -39.055442300853215, 13.536631678285652, -2.942662824342445, 0.33150886480975744,
        -0.010192471350584648)),
}


def _erfc_nonnegative(z):
    """erfc(z) for z >= 0, with small relative error even far in the tail."""
    z_max, coefficients = _ERFC_FIT[np.dtype(np.float64 if z.dtype == np.float64 else np.float32)]
    z = np.minimum(z, z.dtype.type(z_max))
    t = 2 / (2 + z)
    p = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:  # Horner's rule
        p *= t
        p += z.dtype.type(c)
    p -= z * z
    return t * np.exp(p, out=p)


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, computed as Phi(-|x|) so the left tail stays exact."""
    tail = _erfc_nonnegative(np.abs(x) * x.dtype.type(np.sqrt(0.5)))
    tail *= x.dtype.type(0.5)
    return choose(x < 0, tail, 1 - tail)


class Step(Function):
    def forward(self, x):
        return (x > 0).astype(x.dtype if x.dtype.kind == "f" else dtypes.DEFAULT_FLOAT)

    def backward(self, g):  # flat on both sides of the jump: dL/dx = 0
        return np.zeros_like(g)


class Sigmoid(Function):
    def forward(self, x):
        y = _sigmoid(x)
        self.y = y if self.needs_input_grad[0] else None
        return y

    def backward(self, g):  # dL/dx = dL/dy * y * (1 - y)
        d = 1 - self.y
        d *= self.y
        d *= g
        return d


class Tanh(Function):
    def forward(self, x):
        y = np.tanh(x)
        self.y = y if self.needs_input_grad[0] else None
        return y

    def backward(self, g):  # dL/dx = dL/dy * (1 - y^2)
        d = 1 - self.y * self.y
        d *= g
        return d


class ReLU(Function):
    """max(x, 0). Backward reads the output, which is kept anyway as the next layer's
    input, instead of a mask made in forward: one pass over x forward, not two."""

    def forward(self, x):
        y = np.maximum(x, x.dtype.type(0))
        self.y = y if self.needs_input_grad[0] else None
        return y

    def backward(self, g):  # dL/dx = dL/dy where x > 0 (y > 0 exactly there; NaN: 0), else 0
        y = self.y
        if native.supports(g, y) and g.dtype == y.dtype and native.dense_order(y, g):
            return native.relu_backward(g, y)              # one pass, no mask
        return np.multiply(g, y > 0)


class Hardtanh(Function):
    """min(max(x, lo), hi), ReLU6 on [0, 6]. Like ReLU, backward reads the output: the
    slope is 1 where lo < y < hi, which is exactly where lo < x < hi (PyTorch's slope, 0
    on the bounds themselves); compiled, one pass each way."""

    def forward(self, x, lo, hi):
        self.lo, self.hi = x.dtype.type(lo), x.dtype.type(hi)
        y = native.clamp(x, self.lo, self.hi) if native.supports(x) else \
            np.clip(x, self.lo, self.hi)
        self.y = y if self.needs_input_grad[0] else None
        return y

    def backward(self, g):
        y = self.y
        if native.supports(g, y) and g.dtype == y.dtype and native.dense_order(y, g):
            return native.clamp_backward(g, y, self.lo, self.hi)
        return g * ((y > self.lo) & (y < self.hi))


class _SlopeFromForward(Function):
    """Activations that compute dy/dx in forward, where it shares terms with y."""

    def keep(self, slope):
        self.slope = slope if self.needs_input_grad[0] else None

    def backward(self, g):  # dL/dx = dL/dy * dy/dx
        return g * self.slope


class LeakyReLU(_SlopeFromForward):
    def forward(self, x, slope):
        dydx = choose(x > 0, x.dtype.type(1), x.dtype.type(slope))  # 1 for x > 0, else slope
        self.keep(dydx)
        return x * dydx


class ELU(_SlopeFromForward):
    def forward(self, x, alpha):
        alpha = x.dtype.type(alpha)
        negative_part = np.expm1(np.minimum(x, x.dtype.type(0))) * alpha  # 0 where x >= 0
        if self.needs_input_grad[0]:  # dy/dx = 1 for x > 0, alpha e^x = y + alpha otherwise
            self.keep(choose(x > 0, x.dtype.type(1), negative_part + alpha))
        return np.maximum(x, x.dtype.type(0)) + negative_part


class Softplus(_SlopeFromForward):
    def forward(self, x, beta, threshold):
        z = x * x.dtype.type(beta)
        e = np.exp(-np.abs(z))
        y = np.asarray((np.maximum(z, x.dtype.type(0)) + np.log1p(e)) / x.dtype.type(beta))
        slope = np.asarray(_sigmoid(z, e)) if self.needs_input_grad[0] else None
        linear = z > threshold
        if linear.any():  # PyTorch returns x itself there, with slope 1
            np.copyto(y, x, where=linear)
            if slope is not None:
                np.copyto(slope, 1, where=linear)
        self.keep(slope)  # dy/dx = sigmoid(beta x), 1 on the linear part
        return y


class SiLU(_SlopeFromForward):
    def forward(self, x):
        s = _sigmoid(x)
        if self.needs_input_grad[0]:  # y = x s(x): dy/dx = s (1 + x (1 - s))
            self.keep(s * (1 + x * (1 - s)))
        return x * s


_SQRT_2_OVER_PI = np.sqrt(2 / np.pi)
_GELU_CUBIC = 0.044715


class GELU(_SlopeFromForward):
    def forward(self, x, approximate):
        return self.tanh_form(x) if approximate == "tanh" else self.exact(x)

    def exact(self, x):
        if native.DIRECT and x.dtype == np.float32 and x.size:   # one compiled pass
            z_max, coefficients = _ERFC_FIT[x.dtype]
            y, slope = native.gelu(x, self.needs_input_grad[0], coefficients, z_max)
            self.keep(slope)
            return y
        cdf = _normal_cdf(x)
        if self.needs_input_grad[0]:  # y = x Phi(x): dy/dx = Phi(x) + x phi(x)
            xc = np.clip(x, x.dtype.type(-40), x.dtype.type(40))  # phi(40) underflows to 0
            pdf = np.exp(xc * xc * x.dtype.type(-0.5))
            pdf *= x.dtype.type(1 / np.sqrt(2 * np.pi))
            self.keep(cdf + x * pdf)
        return x * cdf

    def tanh_form(self, x):
        k, c = x.dtype.type(_SQRT_2_OVER_PI), x.dtype.type(_GELU_CUBIC)
        # tanh is +-1 long before |x| = 50, and the clipped x^3 cannot overflow
        xc = np.clip(x, x.dtype.type(-50), x.dtype.type(50))
        t = np.tanh(k * (xc + c * xc * xc * xc))
        half_x = x * x.dtype.type(0.5)
        if self.needs_input_grad[0]:  # dy/dx = (1 + t) / 2 + x/2 (1 - t^2) k (1 + 3 c x^2)
            slope = half_x * (1 - t * t) * k * (1 + 3 * c * xc * xc)
            slope += (1 + t) * x.dtype.type(0.5)
            self.keep(slope)
        return half_x * (1 + t)


def _softmax_parts(x, axis):
    """x - max(x), e^(x - max(x)) and its sum along axis (kept as a size-1 dim)."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=axis, keepdims=True)


class Softmax(Function):
    def forward(self, x, axis):
        _, y, total = _softmax_parts(x, axis)
        y /= total
        self.y, self.axis = (y if self.needs_input_grad[0] else None), axis
        return y

    def backward(self, g):  # dL/dx = y * (dL/dy - sum(dL/dy * y))
        d = g - np.sum(g * self.y, axis=self.axis, keepdims=True)
        d *= self.y
        return d


class LogSoftmax(Function):
    def forward(self, x, axis):
        y, _, total = _softmax_parts(x, axis)
        y -= np.log(total)
        self.y, self.axis = (y if self.needs_input_grad[0] else None), axis
        return y

    def backward(self, g):  # dL/dx = dL/dy - e^y * sum(dL/dy)
        d = np.exp(self.y)
        d *= -np.sum(g, axis=self.axis, keepdims=True)
        d += g
        return d


# ----------------------------------------------------------------- functions
def _floating(input, op, promote=False):
    """The input as a floating tensor, or a TypeError naming the op (ints are cast if `promote`)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input._array.dtype.kind != "f":
        if not promote:
            raise TypeError(f"{op}: expected a floating-point tensor, got {input._array.dtype}")
        return Tensor._make(input._array.astype(dtypes.DEFAULT_FLOAT), False, None)
    return input


def step(input):
    """Heaviside step, the perceptron's activation: 1 where x > 0, else 0 (gradient 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"step: expected a Tensor, got {type(input).__name__}")
    return Step.apply(input)


def sigmoid(input):
    return Sigmoid.apply(_floating(input, "sigmoid", promote=True))


def tanh(input):
    return Tanh.apply(_floating(input, "tanh", promote=True))


def relu(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"relu: expected a Tensor, got {type(input).__name__}")
    return ReLU.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(_floating(input, "hardtanh"), lo=min_val, hi=max_val)


def relu6(input):
    return Hardtanh.apply(_floating(input, "relu6"), lo=0.0, hi=6.0)


def leaky_relu(input, negative_slope=0.01):
    return LeakyReLU.apply(_floating(input, "leaky_relu"), slope=negative_slope)


def elu(input, alpha=1.0):
    return ELU.apply(_floating(input, "elu"), alpha=alpha)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_floating(input, "gelu"), approximate=approximate)


def silu(input):
    return SiLU.apply(_floating(input, "silu"))


def softplus(input, beta=1.0, threshold=20.0):
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    return Softplus.apply(_floating(input, "softplus"), beta=beta, threshold=threshold)


def _along_dim(fn, input, dim, dtype, op):
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dim whose entries form each distribution)")
    if dtype is not None:
        input = input.to(dtype)
    input = _floating(input, op)
    axis = normalize_dim(dim, input.ndim, op) if input.ndim else None
    return fn.apply(input, axis=axis)


def softmax(input, dim, dtype=None):
    """e^x / sum(e^x) along dim, computed as e^(x - max) / sum(e^(x - max))."""
    return _along_dim(Softmax, input, dim, dtype, "softmax")


def log_softmax(input, dim, dtype=None):
    """x - log(sum(e^x)) along dim, computed as (x - max) - log(sum(e^(x - max)))."""
    return _along_dim(LogSoftmax, input, dim, dtype, "log_softmax")
