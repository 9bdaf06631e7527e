"""Pooling: `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d`, and the 1-D
`max_pool1d` / `avg_pool1d` (a 2-D pool of height 1).

A pooling window is read one kernel tap at a time: tap (p, q) of every window at
once is a strided view of the (padded) input, so a kh*kw window costs kh*kw
whole-array operations and no Python loop over pixels. They act on the last two
axes whatever comes before them (batch, channels, or only channels).
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .._kernels import native, windows as K
from .conv import _as_2d, _ints

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d"]


class PoolGeometry:
    """A pooling window's shapes, checked as PyTorch checks them, in 2-D terms."""

    def __init__(self, op, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim not in (nd + 1, nd + 2) or 0 in x.shape[-nd - 1:]:
            raise ValueError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                             f"input with non-empty non-batch dims, got shape {tuple(x.shape)}")
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{op}: expected a numeric input, got {x.dtype}")
        kernel = _ints(kernel_size, nd, "kernel_size", op)
        stride = kernel if stride is None or stride == () else _ints(stride, nd, "stride", op)
        pads, dilation = _ints(padding, nd, "padding", op), _ints(dilation, nd, "dilation", op)
        if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
            raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got "
                             f"kernel_size={kernel}, stride={stride}, dilation={dilation}")
        if min(pads) < 0 or any(p > k // 2 for p, k in zip(pads, kernel)):
            raise ValueError(f"{op}: padding must be between 0 and half the kernel size, got "
                             f"padding={pads} for kernel_size={kernel}")
        self.kernel, self.stride = _as_2d(kernel, nd, 1), _as_2d(stride, nd, 1)
        self.pads, self.dilation = _as_2d(pads, nd, 0), _as_2d(dilation, nd, 1)
        self.in_hw = _as_2d(x.shape[-nd:], nd, 1)
        self.out_hw = tuple(K.pool_out_size(*a, ceil_mode) for a in zip(
            self.in_hw, self.kernel, self.stride, self.pads, self.dilation))
        if min(self.out_hw) < 1:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} is too small for "
                             f"kernel_size={kernel}, stride={stride}, padding={pads}, "
                             f"dilation={dilation}: the output would be {self.out_hw[-nd:]}")
        lead = tuple(x.shape[:-nd])
        self.x_shape, self.view_shape = tuple(x.shape), lead + self.in_hw
        self.out_shape = lead + self.out_hw[-nd:]
        # Windows that run past the bottom/right edge (ceil_mode) read extra padding there.
        self.padded_hw = tuple(max(s + pad, (o - 1) * st + d * (k - 1) + 1 - pad) + pad for
                               s, pad, o, st, d, k in zip(self.in_hw, self.pads, self.out_hw,
                                                          self.stride, self.dilation, self.kernel))
        self.disjoint = all(st >= d * (k - 1) + 1 for st, d, k in
                            zip(self.stride, self.dilation, self.kernel))
        # The windows tile the padded input: every element is in exactly one of them.
        self.tiles = all(st == k and d == 1 and size == o * st for st, d, k, size, o in zip(
            self.stride, self.dilation, self.kernel, self.padded_hw, self.out_hw))

    def taps(self):
        return K.offsets(self.kernel, self.out_hw, self.stride, self.dilation)

    def pad(self, x, value):
        """x (..., H, W) padded to padded_hw with `value` (x itself when nothing to pad)."""
        (ph, pw), (hp, wp) = self.pads, self.padded_hw
        h, w = self.in_hw
        if (hp, wp) == (h, w):
            return x
        return K.pad_spatial(x, (ph, hp - h - ph, pw, wp - w - pw), value)

    def unpad(self, xp):
        (ph, pw), (h, w) = self.pads, self.in_hw
        return xp[..., ph:ph + h, pw:pw + w]

    def tap_positions(self, axis):
        """For one axis, pos[t, i]: the input position that tap t of output i reads, and
        whether it lies inside the input (not in the padding)."""
        k, st, d, pad = (self.kernel[axis], self.stride[axis], self.dilation[axis],
                         self.pads[axis])
        pos = (np.arange(self.out_hw[axis]) * st)[None, :] + (np.arange(k) * d - pad)[:, None]
        return pos, (pos >= 0) & (pos < self.in_hw[axis])

    def scatter_add(self, dxp, idx, value):
        """dxp's tap view += value; disjoint windows never meet, so a plain write does."""
        view = dxp[(..., *idx)]
        if self.disjoint:
            view[...] = value
        else:
            view += value


# ---------------------------------------------------------------- max pooling

def _max_masks(xp, m, geom):
    """Yield (p, q, tap slices, mask) per tap: the windows whose gradient PyTorch
    sends to that tap — the first maximum; in a window holding NaN the last NaN;
    never a padding element (which matters only when a window's max is -inf)."""
    floating = m.dtype.kind == "f"
    # a NaN or an inf in m makes its sum NaN or inf: one pass, no temporary, to rule both out
    special = floating and not np.isfinite(np.add.reduce(m, axis=None))
    nan_arg = _last_nan_tap(xp, m, geom) if special and np.isnan(m).any() else None
    guard_pad = special and xp.shape[-2:] != geom.in_hw and np.isneginf(m).any()
    if guard_pad:
        (_, rows_ok), (_, cols_ok) = geom.tap_positions(0), geom.tap_positions(1)
    free, n_taps = None, geom.kernel[0] * geom.kernel[1]
    for t, (p, q, idx) in enumerate(geom.taps()):
        take = np.equal(xp[(..., *idx)], m)
        if guard_pad:
            take &= rows_ok[p][:, None] & cols_ok[q][None, :]
        if nan_arg is not None:
            take = np.where(nan_arg >= 0, nan_arg == t, take)
        if free is None:
            free = ~take
        else:
            take &= free
            if t < n_taps - 1:
                free ^= take                      # free &= ~take, as take lies inside free
        yield p, q, idx, take


def _last_nan_tap(xp, m, geom):
    arg = np.full(m.shape, -1, np.int16)
    for t, (_, _, idx) in enumerate(geom.taps()):
        arg[np.isnan(xp[(..., *idx)])] = t
    return arg


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the element that was the max."""

    def forward(self, x, *, geom, return_indices):
        x = x.reshape(geom.view_shape)
        # the compiled loop when an argmax is wanted; without one, NumPy's vectorised
        # maximum over the taps is as fast (measured on cnn-mnist inference)
        if native.supports(x) and (self.needs_input_grad[0] or return_indices):
            return self._native_forward(x, geom, return_indices)
        self.arg = None
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = geom.pad(x, low)
        taps = [xp[(..., *idx)] for _, _, idx in geom.taps()]
        m = np.maximum(taps[0], taps[1]) if len(taps) > 1 else taps[0].copy()
        for v in taps[2:]:
            np.maximum(m, v, out=m)                  # NaN propagates, as in PyTorch
        self.geom = geom
        self.xp, self.m = (xp, m) if self.needs_input_grad[0] else (None, None)
        out = m.reshape(geom.out_shape)
        if not return_indices:
            return out
        return out, _flat_indices(xp, m, geom).reshape(geom.out_shape)

    def backward(self, grad):
        # dL/dx[argmax of a window] += dL/dy[window]; every other element gets 0
        g = self.geom
        if self.arg is not None:
            dx = native.max_pool_backward(_planes(grad.reshape(self.arg.shape)), self.arg, g)
            return dx.reshape(g.x_shape)
        grad = grad.reshape(self.m.shape)
        # dL/dx keeps x's memory layout (see ops/conv.py); windows that tile x write
        # every element, so it need not be cleared first
        dxp = (np.empty_like if g.tiles else np.zeros_like)(self.xp, grad.dtype)
        routed = None if g.disjoint else np.empty_like(grad)
        for _, _, idx, take in _max_masks(self.xp, self.m, g):
            if g.disjoint:                   # each input element is in one window at most
                np.multiply(grad, take, out=dxp[(..., *idx)])
            else:
                np.multiply(grad, take, out=routed)
                g.scatter_add(dxp, idx, routed)
        return g.unpad(dxp).reshape(g.x_shape)


    def _native_forward(self, x, geom, return_indices):
        """The compiled loop: one pass over x, each window's argmax kept for backward."""
        with_arg = self.needs_input_grad[0] or return_indices
        y, arg = native.max_pool(_planes(x), geom, with_arg)
        self.geom, self.arg = geom, arg if self.needs_input_grad[0] else None
        out = y.reshape(geom.out_shape)
        if not return_indices:
            return out
        return out, arg.astype(np.int64).reshape(geom.out_shape)


def _planes(a):
    """a (..., H, W) with exactly two leading axes, as the compiled loops take it."""
    return a.reshape((1,) * (4 - a.ndim) + a.shape)


def _flat_indices(xp, m, geom):
    """PyTorch's indices: each window max's flat position within its H*W plane."""
    (rows, _), (cols, _) = geom.tap_positions(0), geom.tap_positions(1)
    index = np.zeros(m.shape, np.int64)
    for p, q, _, take in _max_masks(xp, m, geom):
        np.copyto(index, rows[p][:, None] * geom.in_hw[1] + cols[q][None, :], where=take)
    return index


# ---------------------------------------------------------------- average pooling

def _avg_divisor(geom, count_include_pad, divisor_override, dtype):
    """Per output window, what PyTorch divides the window sum by: the window's size
    clipped to the padded input, or only its real elements, or the override."""
    if divisor_override is not None:
        return dtype.type(divisor_override)
    counts = []
    for k, st, pad, size, n in zip(geom.kernel, geom.stride, geom.pads, geom.in_hw, geom.out_hw):
        start = np.arange(n) * st - pad
        end = np.minimum(start + k, size + pad)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(np.maximum(end - start, 1))
    div = np.outer(*counts).astype(dtype)
    return div.flat[0] if (div == div.flat[0]).all() else div


class AvgPool2d(Function):
    """Mean over each window; every element of a window gets an equal share of its gradient."""

    def forward(self, x, *, geom, count_include_pad, divisor_override):
        x = x.reshape(geom.view_shape)
        xp = geom.pad(x, 0)
        taps = [xp[(..., *idx)] for _, _, idx in geom.taps()]
        s = np.add(taps[0], taps[1]) if len(taps) > 1 else taps[0].copy()
        for v in taps[2:]:
            s += v
        self.div = _avg_divisor(geom, count_include_pad, divisor_override, x.dtype)
        s /= self.div
        self.geom, self.padded_shape = geom, xp.shape
        return s.reshape(geom.out_shape)

    def backward(self, grad):
        # dL/dx[every element of a window] += dL/dy[window] / divisor
        g = self.geom
        share = grad.reshape(self.padded_shape[:-2] + g.out_hw) / self.div
        dxp = np.zeros(self.padded_shape, grad.dtype)
        for _, _, idx in g.taps():
            g.scatter_add(dxp, idx, share)
        return g.unpad(dxp).reshape(g.x_shape)


# ---------------------------------------------------------------- adaptive average pooling

def _adaptive_matrix(n_in, n_out, dtype):
    """A (n_out, n_in) averaging matrix: row i averages PyTorch's window
    [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))."""
    i = np.arange(n_out)
    start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    j = np.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _separable(x, a, b):
    """a @ x @ b^T over the last two axes of x, as two plain GEMMs."""
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    batch, oh, ow = int(np.prod(lead)), a.shape[0], b.shape[0]
    t = x.reshape(batch * h, w) @ b.T                                  # rows pooled
    t = t.reshape(batch, h, ow).transpose(0, 2, 1).reshape(batch * ow, h) @ a.T
    return t.reshape(batch, ow, oh).transpose(0, 2, 1).reshape(*lead, oh, ow)


class AdaptiveAvgPool2d(Function):
    """Average over PyTorch's adaptive windows, written as y = A x B^T per plane: for
    small planes one GEMM with the Kronecker product of A and B (global pooling is
    then a single matrix-vector product), else two GEMMs, one per axis."""

    def forward(self, x, *, output_size):
        (h, w), (oh, ow) = x.shape[-2:], output_size
        a, b = _adaptive_matrix(h, oh, x.dtype), _adaptive_matrix(w, ow, x.dtype)
        self.shape = x.shape
        if oh * ow * h * w <= 1 << 16:
            self.pool, self.a = np.kron(a, b), None        # (oh*ow, h*w)
            return (x.reshape(-1, h * w) @ self.pool.T).reshape(*x.shape[:-2], oh, ow)
        self.pool, self.a, self.b = None, a, b
        return _separable(x, a, b)

    def backward(self, grad):  # dL/dx = A^T dL/dy B
        if self.pool is None:
            return _separable(grad, self.a.T, self.b.T)
        g = grad.reshape(-1, self.pool.shape[0])
        # one output per plane: broadcasting beats a GEMM with an inner dimension of 1
        dx = g * self.pool if self.pool.shape[0] == 1 else g @ self.pool
        return dx.reshape(self.shape)


# ---------------------------------------------------------------- public functions

def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    geom = PoolGeometry(op, input, nd, kernel_size, stride, padding, dilation, ceil_mode)
    return MaxPool2d.apply(input, geom=geom, return_indices=bool(return_indices))


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    geom = PoolGeometry(op, input, nd, kernel_size, stride, padding, 1, ceil_mode)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if divisor_override is not None and (
            not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    return AvgPool2d.apply(input, geom=geom, count_include_pad=bool(count_include_pad),
                           divisor_override=divisor_override)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L) or (C, L) input; see `max_pool2d`."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W) input, every `stride`
    (default: kernel_size), the input padded with -inf. ceil_mode keeps a last partial
    window if it starts inside the input or its left padding. return_indices also
    gives each max's flat index within its H*W plane (for max_unpool)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L) input; see `avg_pool2d`."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W) input, zero-padded.

    The divisor is PyTorch's: the window size clipped to the padded input
    (count_include_pad=True), or the number of real elements in it (False), or
    divisor_override when given.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Average (N, C, H, W) or (C, H, W) input down (or up) to output_size (an int, or a
    pair whose None entries keep that dim); window i spans
    [floor(i*H/out), ceil((i+1)*H/out)), as in PyTorch."""
    op = "adaptive_avg_pool2d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ValueError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input with "
                         f"non-empty non-batch dims, got shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    ok = len(sizes) == 2 and all(
        s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0)
        for s in sizes)
    if not ok:
        raise ValueError(f"{op}: output_size must be a non-negative int or a pair of them "
                         f"(None keeps that dim), got {output_size!r}")
    size = tuple(int(input.shape[-2 + i] if s is None else s) for i, s in enumerate(sizes))
    return AdaptiveAvgPool2d.apply(input, output_size=size)
