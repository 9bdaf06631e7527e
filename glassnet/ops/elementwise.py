"""Elementwise arithmetic, with broadcasting, and the comparisons.

Each Function keeps only what its backward needs. Broadcast inputs get their
gradient summed back to their own shape (`unbroadcast`).
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .. import dtypes
from ._util import binary_operands, check_broadcast, choose, lift, unbroadcast, normalize_dims

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sign",
           "clamp", "maximum", "minimum", "where", "floor_divide", "remainder", "cast", "clone",
           "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or",
           "any", "all", "isnan", "isinf", "isfinite"]


class _Binary(Function):
    """Shared forward bookkeeping: both input shapes, for unbroadcasting in backward."""
    op = "binary"

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        if a.shape != b.shape:
            check_broadcast(self.op, a.shape, b.shape)
        return self.compute(a, b)


class Add(_Binary):
    op = "add"

    def compute(self, a, b):
        return a + b

    def backward(self, g):  # dL/da = dL/dy, dL/db = dL/dy
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(_Binary):
    op = "sub"

    def compute(self, a, b):
        return a - b

    def backward(self, g):  # dL/da = dL/dy, dL/db = -dL/dy
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(-g, sb)


class Mul(_Binary):
    op = "mul"

    def compute(self, a, b):
        need_a, need_b = self.needs_input_grad
        self.a = a if need_b else None
        self.b = b if need_a else None
        return a * b

    def backward(self, g):  # dL/da = dL/dy * b, dL/db = dL/dy * a
        sa, sb = self.shapes
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * self.b, sa) if need_a else None,
                unbroadcast(g * self.a, sb) if need_b else None)


class Div(_Binary):
    op = "div"

    def compute(self, a, b):
        if a.dtype.kind != "f":  # true division of integers gives floats, as in PyTorch
            a, b = a.astype(dtypes.DEFAULT_FLOAT), b.astype(dtypes.DEFAULT_FLOAT)
        out = a / b
        self.b, self.out = b, (out if self.needs_input_grad[1] else None)
        return out

    def backward(self, g):  # dL/da = dL/dy / b, dL/db = -dL/dy * y / b
        sa, sb = self.shapes
        ga = g / self.b
        return (unbroadcast(ga, sa) if self.needs_input_grad[0] else None,
                unbroadcast(-ga * self.out, sb) if self.needs_input_grad[1] else None)


class Pow(_Binary):
    op = "pow"

    def compute(self, a, b):
        out = np.power(a, b)
        self.a, self.b, self.out = a, b, out
        return out

    def backward(self, g):
        # dL/da = dL/dy * b * a^(b-1)   (0 where b == 0, as in PyTorch)
        # dL/db = dL/dy * y * ln(a)     (0 where a == 0 and b >= 0)
        a, b, out = self.a, self.b, self.out
        sa, sb = self.shapes
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                ga = unbroadcast(np.where(b == 0, 0, g * b * np.power(a, b - 1)), sa)
            if self.needs_input_grad[1]:
                gb = unbroadcast(np.where((a == 0) & (b >= 0), 0, g * out * np.log(a)), sb)
        return ga, gb


class PowScalar(Function):
    def forward(self, a, exponent):
        self.a, self.exponent = a, exponent
        return np.power(a, a.dtype.type(exponent)) if a.dtype.kind == "f" else np.power(a, exponent)

    def backward(self, g):  # dL/da = dL/dy * p * a^(p-1)
        p = self.exponent
        if p == 0:
            return np.zeros_like(g)
        return g * (p * np.power(self.a, self.a.dtype.type(p - 1)))


class Maximum(_Binary):
    op = "maximum"

    def compute(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):  # the larger input takes dL/dy; ties split it in halves
        return _split_by_winner(g, self.a > self.b, self.a == self.b, self.shapes)


class Minimum(_Binary):
    op = "minimum"

    def compute(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, g):  # the smaller input takes dL/dy; ties split it in halves
        return _split_by_winner(g, self.a < self.b, self.a == self.b, self.shapes)


def _split_by_winner(g, a_wins, tie, shapes):
    share = choose(tie, g.dtype.type(0.5), a_wins.astype(g.dtype))   # a's share of dL/dy
    ga = g * share
    return unbroadcast(ga, shapes[0]), unbroadcast(g - ga, shapes[1])


class Remainder(_Binary):
    op = "remainder"

    def compute(self, a, b):
        self.a, self.b = a, b
        return np.remainder(a, b)

    def backward(self, g):  # y = a - floor(a/b) * b: dL/da = dL/dy, dL/db = -dL/dy * floor(a/b)
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(-g * np.floor_divide(self.a, self.b), sb)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):  # dL/da = -dL/dy
        return -g


class Exp(Function):
    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):  # dL/da = dL/dy * e^a = dL/dy * y
        return g * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(self, g):  # dL/da = dL/dy / a
        with np.errstate(divide="ignore"):
            return g / self.a


class Sqrt(Function):
    def forward(self, a):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(a)
        return self.out

    def backward(self, g):  # dL/da = dL/dy / (2 sqrt(a))
        with np.errstate(divide="ignore"):
            return g / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):  # dL/da = dL/dy * sign(a)   (0 at a = 0)
        return g * np.sign(self.a)


class Sign(Function):
    def forward(self, a):
        return np.sign(a)

    def backward(self, g):  # sign is flat wherever it is differentiable
        return np.zeros_like(g)


class Clamp(Function):
    def forward(self, a, lo, hi):
        self.a, self.lo, self.hi = a, lo, hi
        return np.clip(a, lo, hi)

    def backward(self, g):  # dL/da = dL/dy where lo <= a <= hi, else 0
        inside = np.ones(self.a.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.a >= self.lo
        if self.hi is not None:
            inside &= self.a <= self.hi
        return g * inside


class Where(Function):
    def forward(self, condition, a, b):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        check_broadcast("where", condition.shape, a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, g):  # dL/da = dL/dy where the condition holds; dL/db elsewhere
        zero = g.dtype.type(0)
        sa, sb = self.shapes
        return (None,
                unbroadcast(np.where(self.condition, g, zero), sa),
                unbroadcast(np.where(self.condition, zero, g), sb))


class Cast(Function):
    def forward(self, a, dtype):
        self.source = a.dtype
        return a.astype(dtype)

    def backward(self, g):  # a change of precision: the gradient returns to the source's
        return g.astype(self.source)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


# ----------------------------------------------------------------- functions
def add(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(*binary_operands(input, other, "add"))


def sub(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(*binary_operands(input, other, "sub"))


def mul(input, other):
    return Mul.apply(*binary_operands(input, other, "mul"))


def div(input, other):
    return Div.apply(*binary_operands(input, other, "div"))


def neg(input):
    return Neg.apply(input)


def pow(input, exponent):
    if isinstance(input, Tensor) and isinstance(exponent, (int, float, np.number)) \
            and not isinstance(exponent, bool):
        return PowScalar.apply(input, exponent=exponent)
    return Pow.apply(*binary_operands(input, exponent, "pow"))


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def abs(input):
    return Abs.apply(input)


def sign(input):
    return Sign.apply(input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input if min is None else maximum(input, min)
        return out if max is None else minimum(out, max)
    return Clamp.apply(input, lo=min, hi=max)


clip = clamp


def maximum(input, other):
    return Maximum.apply(*binary_operands(input, other, "maximum"))


def minimum(input, other):
    return Minimum.apply(*binary_operands(input, other, "minimum"))


def where(condition, input, other):
    condition = lift(condition, np.dtype(bool))
    if condition._array.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {condition._array.dtype}")
    input, other = binary_operands(input, other, "where")
    return Where.apply(condition, input, other)


def remainder(input, other):
    return Remainder.apply(*binary_operands(input, other, "remainder"))


def floor_divide(input, other):
    # Piecewise constant: no gradient flows through it (the result never requires grad).
    a, b = binary_operands(input, other, "floor_divide")
    return Tensor._make(np.floor_divide(a._array, b._array), False, None)


def cast(input, dtype):
    dtype = np.dtype(dtype)
    if input._array.dtype == dtype:
        return input
    if dtypes.is_floating(dtype):
        return Cast.apply(input, dtype=dtype)
    return Tensor._make(input._array.astype(dtype), False, None)


def clone(input):
    return Clone.apply(input)


# ------------------------------------------------ comparisons and logic (no grad)
def _compare(ufunc, name):
    def compare(input, other):
        a, b = binary_operands(input, other, name)
        check_broadcast(name, a.shape, b.shape)
        return Tensor._make(ufunc(a._array, b._array), False, None)
    compare.__name__ = name
    compare.__doc__ = f"Elementwise {name} as a bool tensor (not differentiable)."
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")


def logical_not(input):
    return Tensor._make(np.logical_not(input._array), False, None)


def isnan(input):
    return Tensor._make(np.isnan(input._array), False, None)


def isinf(input):
    return Tensor._make(np.isinf(input._array), False, None)


def isfinite(input):
    return Tensor._make(np.isfinite(input._array), False, None)


def any(input, dim=None, keepdim=False):
    axes = normalize_dims(dim, input.ndim, "any")
    return Tensor._make(np.any(input._array, axis=axes, keepdims=keepdim), False, None)


def all(input, dim=None, keepdim=False):
    axes = normalize_dims(dim, input.ndim, "all")
    return Tensor._make(np.all(input._array, axis=axes, keepdims=keepdim), False, None)
