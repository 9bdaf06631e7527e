"""Resizing by interpolation: `interpolate` (and its old name `upsample`).

Resizing is separable and linear: along each spatial axis, output position j
reads one input position (nearest) or two (linear),

    y[j] = l0[j] * x[i0[j]] + l1[j] * x[i1[j]]

so a 2-D resize is y = A_H x A_W^T with a sparse interpolation matrix A per
axis, and its backward is dL/dx = A_H^T dL/dy A_W: every output gradient goes
back to the positions it was read from, with the same weights (bilinear: the
four neighbours, as l0_H*l0_W, l0_H*l1_W, ...). Nothing of x is needed for
backward, only the index and weight vectors, which are tiny.

The index formulas are PyTorch's, with the roundings of its CPU kernels (they
decide ties such as (20 + 0.5) * 2/41 = 1, which float32 rounds down):

    nearest:         i = min(floor(j * scale), in - 1)
    nearest-exact:   i = min(floor((j + 0.5) * scale), in - 1)
    linear:          src = scale * j                      (align_corners=True)
                     src = max(scale * (j + 0.5) - 0.5, 0)    (align_corners=False)
                     i0 = floor(src), i1 = min(i0 + 1, in - 1), l1 = src - i0

where scale = (in-1)/(out-1) with align_corners, else 1/scale_factor when a
scale factor was given (and not recomputed), else in/out. That is why
`scale_factor=1.5` and `size=` the same output size may read different pixels.
Two of PyTorch's special cases are kept: an axis whose size does not change is
copied in the linear modes and in 4-D 'nearest', and 4-D 'nearest' reads j // 2
when out == 2 * in. (Its 1-D 'nearest' forward has no such cases but its backward
does, so there its gradient disagrees with its own forward; glassnet's is the
true adjoint.)

Antialiasing (`antialias=True`, bilinear only) is PIL's resampling, as PyTorch's
CPU kernel computes it: output j reads the input pixels within `support` of its
centre c = scale * (j + 0.5), weighted by a triangle filter stretched by the scale
when shrinking (support = max(scale, 1)) and normalised to sum to 1, so a pixel of
the result averages every input pixel it covers instead of sampling two. The taps
are the same (indices, weights) pairs as above, 2 * ceil(support) + 1 of them, the
unused ones weighted 0; forward and backward are unchanged.

Backward: nearest by an integer factor sums the factor's strided copies (no
index arrays; the forward is as many strided writes); a small axis multiplies by
the dense (out, in) matrix A, one BLAS call; a long one sums, with one
`np.add.reduceat`, the runs of equal source indices (every index vector is
non-decreasing, so the outputs that read one input pixel are contiguous).
"""
import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["interpolate"]

_MODES = {"nearest": (3, 4), "nearest-exact": (3, 4), "linear": (3,), "bilinear": (4,)}


class AxisMap:
    """How one output axis reads its input axis: a list of (indices, weights) taps
    (weights None for nearest) and, when there is one, a faster equivalent form:
    'same' (a copy), 'repeat' (each input pixel `factor` times), 'every' (every
    `factor`-th pixel)."""

    # Up to this many input pixels, backward multiplies by the dense (out, in) matrix A:
    # one BLAS call does in ~2 ms what the sparse sums (np.add.reduceat over runs of
    # ~2 values) need ~9 ms for, on (64, 32, 28, 28) -> 14. Beyond it, the flops A's
    # zeros cost grow with in_size and the sparse sums win. (A non-finite gradient
    # spreads NaN along its row this way: 0 * inf.)
    DENSE_UP_TO = 64

    def __init__(self, in_size, out_size, taps, dtype):
        self.in_size, self.out_size, self.taps = in_size, out_size, taps
        self.kind, self.factor, self.dense = None, 1, None
        j = np.arange(out_size)
        if len(taps) == 1:
            idx = taps[0][0]
            if out_size == in_size and np.array_equal(idx, j):
                self.kind = "same"
            elif out_size % in_size == 0 and np.array_equal(idx, j // (out_size // in_size)):
                self.kind, self.factor = "repeat", out_size // in_size
            elif out_size > 1 and idx[1] > 0 and np.array_equal(idx, j * idx[1]):
                self.kind, self.factor = "every", int(idx[1])
        if self.kind is None and in_size <= self.DENSE_UP_TO:
            self.dense = np.zeros((out_size, in_size), dtype)
            for idx, lam in taps:
                np.add.at(self.dense, (j, idx), 1 if lam is None else lam)
            self.dense_t = np.ascontiguousarray(self.dense.T)
        # the runs of equal indices, for the sparse backward sums
        self.runs = []
        for idx, _ in taps:
            starts = np.flatnonzero(np.diff(idx, prepend=-1))
            self.runs.append((starts, idx[starts]))

    @staticmethod
    def _resized(shape, axis, size):
        shape = list(shape)
        shape[axis] = size
        return shape

    def _split(self, a, axis, fill=None):
        """The `factor` interleaved copies along `axis` of a repeated array `a`, as views;
        with `fill`, each is first set to it and `a` is returned."""
        n = a.ndim + axis
        split = a.reshape(a.shape[:n] + (self.in_size, self.factor) + a.shape[n + 1:])
        copies = [split[(slice(None),) * (n + 1) + (r,)] for r in range(self.factor)]
        if fill is None:
            return copies
        for c in copies:
            c[...] = fill
        return a

    def _every(self):
        return slice(None, self.out_size * self.factor, self.factor)

    def apply(self, x, axis):
        """x resized along `axis` (a negative axis)."""
        if self.kind == "same":
            return x
        if self.kind == "repeat":          # `factor` strided copies of x, no index arrays
            return self._split(np.empty(self._resized(x.shape, axis, self.out_size), x.dtype),
                               axis, x)
        if self.kind == "every":
            return x[_along(axis, self._every(), x.ndim)]
        (i0, l0), *rest = self.taps
        y = np.take(x, i0, axis=axis)
        if l0 is None:
            return y
        y *= _column(l0, axis)
        for idx, lam in rest:              # y = l0 * x[i0] + l1 * x[i1]
            y += np.take(x, idx, axis=axis) * _column(lam, axis)
        return y

    def adjoint(self, g, axis):
        """A^T g along `axis`: every gradient goes back to the pixel it was read from,
        times the weight it was read with."""
        if self.kind == "same":
            return g
        if self.kind == "repeat":           # the `factor` copies of a pixel are summed
            copies = self._split(g, axis)
            out = copies[0].copy()
            for c in copies[1:]:
                out += c
            return out
        shape = self._resized(g.shape, axis, self.in_size)
        if self.kind == "every":
            out = np.zeros(shape, g.dtype)
            out[_along(axis, self._every(), g.ndim)] = g
            return out
        if self.dense is not None:
            return g @ self.dense if axis == -1 else np.matmul(self.dense_t, g)
        out = None
        for (idx, lam), (starts, where) in zip(self.taps, self.runs):
            weighted = g if lam is None else g * _column(lam, axis)
            sums = np.add.reduceat(weighted, starts, axis=axis)
            if len(where) == self.in_size:             # every input pixel was read
                if out is None:
                    out = sums
                else:
                    out += sums
                continue
            if out is None:
                out = np.zeros(shape, g.dtype)
            out[_along(axis, where, g.ndim)] += sums
        return out


def _along(axis, index, ndim):
    """An index tuple that applies `index` to one axis."""
    return (slice(None),) * (ndim + axis) + (index,)


def _column(weights, axis):
    """weights shaped to broadcast along `axis`."""
    return weights.reshape((-1,) + (1,) * (-axis - 1))


def _axis_map(mode, in_size, out_size, scale_factor, align_corners, dtype, images=False,
              antialias=False):
    """PyTorch's source indices (and weights) for one axis, computed the way its CPU
    kernels compute them, roundings included (they decide ties such as j*in/out landing
    on an integer)."""
    ft = dtype.type
    if antialias and in_size != out_size:
        taps = _antialias_taps(in_size, out_size, scale_factor, align_corners, dtype)
        return AxisMap(in_size, out_size, taps, dtype)
    if mode.startswith("nearest"):
        j = np.arange(out_size)
        idx = (_nearest_image_index if images else _nearest_sequence_index)(
            mode, j, in_size, out_size, scale_factor, dtype)
        return AxisMap(in_size, out_size, [(np.minimum(idx, in_size - 1), None)], dtype)
    if in_size == out_size:       # PyTorch copies, whatever the scale factor says
        return AxisMap(in_size, out_size, [(np.arange(out_size), None)], dtype)
    scale = _scale(in_size, out_size, scale_factor, align_corners, ft)
    j = np.arange(out_size, dtype=dtype)
    if align_corners:
        src = j * scale
    else:
        src = np.maximum(scale * (j + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(np.intp)
    i1 = np.minimum(i0 + 1, in_size - 1)
    l1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return AxisMap(in_size, out_size, [(i0, ft(1) - l1), (i1, l1)], dtype)


def _antialias_taps(in_size, out_size, scale_factor, align_corners, dtype):
    """PIL's triangle-filter taps with PyTorch's CPU roundings: the scale, centre, bounds
    and weights in the input's precision, the filter's argument formed in double, the
    weights summed tap by tap and divided by their total."""
    ft = dtype.type
    scale = _scale(in_size, out_size, scale_factor, align_corners, ft)
    support, invscale = (scale, ft(1.0 / float(scale))) if scale >= 1 else (ft(1), ft(1))
    centre = (float(scale) * (np.arange(out_size) + 0.5)).astype(dtype)
    lo = np.maximum(np.trunc((centre - support).astype(np.float64) + 0.5).astype(np.intp), 0)
    size = np.minimum(np.trunc((centre + support).astype(np.float64) + 0.5).astype(np.intp),
                      in_size) - lo
    count = int(math.ceil(support)) * 2 + 1
    weights, total = [], np.zeros(out_size, dtype)
    for k in range(count):
        x = (((k + lo).astype(dtype) - centre).astype(np.float64) + 0.5) * float(invscale)
        x = np.abs(x.astype(dtype))
        w = np.where((x < 1) & (k < size), ft(1) - x, ft(0)).astype(dtype)
        total += w
        weights.append(w)
    total[total == 0] = 1
    return [(np.minimum(lo + k, in_size - 1), w / total) for k, w in enumerate(weights)]


def _nearest_image_index(mode, j, in_size, out_size, scale_factor, dtype):
    """4-D input: float32 arithmetic whatever the dtype; 'nearest' copies when out == in
    and halves the index when out == 2*in, whatever the scale factor says."""
    if mode == "nearest" and out_size in (in_size, 2 * in_size):
        return j * in_size // out_size
    scale = _scale(in_size, out_size, scale_factor, False, np.float32)
    if mode == "nearest":
        return np.floor(j.astype(np.float32) * scale).astype(np.intp)
    return np.floor(((j + 0.5) * np.float64(scale)).astype(np.float32)).astype(np.intp)


def _nearest_sequence_index(mode, j, in_size, out_size, scale_factor, dtype):
    """3-D input: the input's precision, rounded to float32 before the floor; 'nearest-exact'
    as max(scale*(j + 0.5) - 0.5, 0) (one fused multiply-add) rounded half up."""
    scale = _scale(in_size, out_size, scale_factor, False, dtype.type)
    if mode == "nearest":
        src = (j.astype(dtype) * scale).astype(np.float32)
    else:
        centre = np.maximum((np.float64(scale) * (j + 0.5) - 0.5).astype(dtype), 0)
        src = (centre.astype(np.float64) + 0.5).astype(np.float32)
    return np.floor(src).astype(np.intp)


def _scale(in_size, out_size, scale_factor, align_corners, ft):
    """Input pixels per output pixel, in precision ft."""
    if align_corners:
        return ft(in_size - 1) / ft(out_size - 1) if out_size > 1 else ft(0)
    if scale_factor is not None and scale_factor > 0:
        return ft(1.0 / scale_factor)
    return ft(in_size) / ft(out_size)


class Interpolate(Function):
    """Separable resize of the last one or two axes; `maps` holds one AxisMap per axis."""

    def forward(self, x, *, maps):
        # y = A_H x A_W^T: each axis map applied along its axis
        self.maps = maps
        y = x
        for axis, m in reversed(list(zip(range(-len(maps), 0), maps))):   # width first
            y = m.apply(y, axis)
        return y if y is not x else x.copy()

    def backward(self, grad):
        # dL/dx = A_H^T dL/dy A_W: each gradient goes back to the pixels it was read from,
        # times the weight it was read with
        g = grad
        for axis, m in zip(range(-len(self.maps), 0), self.maps):
            g = m.adjoint(g, axis)
        return g


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _per_dim(value, dim, name, x, check):
    """size / scale_factor as one value per spatial dim."""
    values = list(value) if isinstance(value, (tuple, list)) else [value] * dim
    if len(values) != dim:
        raise ValueError(f"interpolate: input of shape {tuple(x.shape)} has {dim} spatial "
                         f"dim(s), but {name}={value!r} has {len(values)}")
    if not all(check(v) for v in values):
        raise TypeError(f"interpolate: expected {name} to be "
                        f"{'an int' if name == 'size' else 'a number'} or a tuple of "
                        f"{dim}, got {value!r}")
    return values


def _plan(x, size, scale_factor, recompute_scale_factor):
    """Output size and the scale factors the kernels use (None: from the sizes)."""
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    spatial = x.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        out, scales = _per_dim(size, dim, "size", x, _is_int), [None] * dim
    else:
        scales = _per_dim(scale_factor, dim, "scale_factor", x,
                          lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool))
        out = [math.floor(s * f) for s, f in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = [None] * dim
    out = [int(o) for o in out]
    if min(out) <= 0 or min(spatial) <= 0:
        raise ValueError(f"interpolate: input and output sizes should be greater than 0, got "
                         f"input {tuple(spatial)} and output {tuple(out)}")
    return out, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) input to `size`, or by `scale_factor` (output
    floor(in * scale_factor)), as torch.nn.functional.interpolate.

    mode: 'nearest' (PyTorch's floor rule), 'nearest-exact' (pixel centres), 'linear'
    (3-D input) or 'bilinear' (4-D input); align_corners (linear modes only, default
    False) maps the corner pixels' centres onto each other; antialias (bilinear only)
    averages every input pixel an output pixel covers when shrinking, as PIL does.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: unsupported mode {mode!r}, expected one of "
                         f"{', '.join(map(repr, _MODES))}")
    if input.ndim not in _MODES[mode]:
        need = " or ".join(f"{n}-D" for n in _MODES[mode])
        raise ValueError(f"interpolate: mode {mode!r} needs {need} input (N, C, ...), got "
                         f"input of shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got {input.dtype}")
    if mode.startswith("nearest"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the "
                             "interpolating modes 'linear' and 'bilinear'")
    if antialias and mode != "bilinear":
        raise ValueError(f"interpolate: antialias is available for mode 'bilinear' (4-D input) "
                         f"only, got mode {mode!r}")
    out, scales = _plan(input, size, scale_factor, recompute_scale_factor)
    maps = tuple(_axis_map(mode, s, o, f, bool(align_corners), input.dtype, input.ndim == 4,
                           bool(antialias))
                 for s, o, f in zip(input.shape[2:], out, scales))
    return Interpolate.apply(input, maps=maps)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The old name of `interpolate` (deprecated in PyTorch as well)."""
    return interpolate(input, size, scale_factor, mode, align_corners)
