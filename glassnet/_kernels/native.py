"""The compiled loops (native.c): the window operations NumPy cannot do fast, the
direct and depthwise convolutions (native_conv.h, native_loops.h), GELU (native_gelu.h),
ReLU6/Hardtanh, Linear's bias + ReLU and Adam's step.

Why C here, and only here. A convolution's im2col/col2im and a max-pool's argmax
are loops over many short rows: the MNIST CNN's second convolution has kernel rows
of 14 values. NumPy does them as one strided operation per kernel tap, and each
pass pays for the whole array again (col2im adds every tap's slab separately, the
max-pool backward builds one mask per tap). Profiled in the MNIST CNN's training
step (batch 64), those loops took 9 of 22 ms: col2im 3.6 ms for one 16->32 layer,
where the GEMM next to it takes 1.9 ms, and the max-pool backward 3.4 ms. In C,
each becomes one pass over the data, with the pixel being summed kept in a register
or in the L1 cache. The GEMMs stay with NumPy's BLAS, except for the stride-1
float32 convolutions, which the direct kernel does without a patch matrix
(docs/architecture.md has the measurements for each).

The library is a plain shared object built by `pip install` (setup.py) and called
through ctypes, which lets go of the GIL during the call: the functions take a
range of the leading axes, and `in_parts` runs the parts on the kernel threads.

When the module was not built (no C compiler at install time) or
GLASSNET_NATIVE=0 is set, `LIB` is None and the ops use their NumPy loops, which
compute the same values. The tests run both.
"""
import ctypes
import os

import numpy as np

from .blas import cblas_sgemm, one_thread
from .windows import _CORES, _MIN_PART_BYTES, _PARTS_PER_CORE, in_parts

__all__ = ["LIB", "DIRECT", "supports", "im2col", "col2im", "col2im_rows", "bias_relu",
           "dense_order", "relu_backward", "clamp", "clamp_backward", "rows", "bn_stats",
           "bn_apply", "bn_backward", "adam", "rmsprop", "like_planes", "max_pool", "max_pool_backward",
           "direct", "padded", "pack_weight", "conv_direct", "conv_weight_grad", "gelu",
           "depthwise", "depthwise_input_grad", "depthwise_weight_grad", "rnn_loops",
           "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]

_VERSION = 16
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_P, _I = ctypes.c_void_p, ctypes.c_int64
_SIGNATURES = {   # argument types, in the order native_loops.h declares them
    "im2col": [_P] + [_I] * 4 + [_I] * 13 + [_P] + [_I] * 4,
    "col2im": [_P] + [_I] * 13 + [_P] + [_I] * 4,
    "col2im_rows": [_P] + [_I] * 14 + [_P, _I, _I],
    "pad_copy": [_P] + [_I] * 11 + [_P] + [_I] * 4,
    "bias_relu": [_P, _P, _I, _I, _I],
    "relu_backward": [_P, _P, _P, _I, _I],
    "clamp": [_P, _P, None, None, _I, _I],                  # None: the float type
    "clamp_backward": [_P, _P, None, None, _P, _I, _I],
    "bn_stats": [_P, _I, _I, _I, _I, _P, _P, _I, _I],
    "bn_apply": [_P, _I, _I, _I, _I, _P, _P, _P, _P, _P, _I, _I, _I, _I],
    "bn_backward": [_P, _I, _I, _P, _I, _I, _I, _I, _P, _P, _P, ctypes.c_int, _P, _I, _I,
                    _P, _P, _I, _I],
    "adam": [_P] * 5 + [None] * 6 + [_I, _I],          # None: the float type, set in _load
    "rmsprop": [_P] * 4 + [None] * 5 + [ctypes.c_int, _I, _I],
    "max_pool": [_P] + [_I] * 4 + [_I] * 12 + [_P, _P, _I, _I] + [_I] * 4,
    "max_pool_backward": [_P] + [_I] * 4 + [_P, _I, _I, _I, _I] + [_P] + [_I] * 4 + [_I] * 4,
    "depthwise": [_P] + [_I] * 7 + [_P, _P] + [_I] * 10 + [_P, _I, _I],
    "depthwise_input_grad": [_P] + [_I] * 3 + [_P] + [_I] * 13 + [_P, _I, _I],
    "depthwise_weight_grad": [_P] + [_I] * 4 + [_P] + [_I] * 16 + [_P, _I, _I],
}
_DIRECT_SIGNATURES = {   # float32 only (native_conv.h)
    "conv_direct_f32": [_P] + [_I] * 4 + [_P, _P] + [_I] * 5 + [_P, _I, _I],
    "conv_weight_grad_f32": [_P, _I, _I, _P] + [_I] * 6 + [_P, _I, _I],
    "max_pool2x2_f32": [_P] + [_I] * 6 + [_P, _P, _I, _I] + [_I] * 4,
    "gelu_f32": [_P, _P, _P, _P, ctypes.c_float, _I, _I],          # native_gelu.h
    "lstm_forward_f32": [_P, ctypes.c_int, _I] + [_P] * 6 + [_I] * 6,   # native_rnn.h
    "lstm_backward_f32": [_P, ctypes.c_int, _I] + [_P] * 9 + [_I] * 6,
    "gru_forward_f32": [_P, ctypes.c_int, _I] + [_P] * 6 + [_I] * 6,
    "gru_backward_f32": [_P, ctypes.c_int, _I] + [_P] * 10 + [_I] * 6,
}


def _load():
    if os.environ.get("GLASSNET_NATIVE", "1") == "0":
        return None
    try:
        from . import _native
    except ImportError:
        return None
    lib = ctypes.CDLL(_native.__file__)
    lib.glassnet_native_version.restype = ctypes.c_int
    if lib.glassnet_native_version() != _VERSION:     # a stale build from older sources
        return None
    for name, argtypes in _SIGNATURES.items():
        for suffix, real in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
            fn = getattr(lib, f"{name}_{suffix}")
            fn.argtypes, fn.restype = [real if a is None else a for a in argtypes], None
    for name, argtypes in _DIRECT_SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, None
    lib.glassnet_direct_conv.restype = ctypes.c_int
    return lib


LIB = _load()
# the CPU can run the AVX2+FMA direct convolution (and GLASSNET_DIRECT_CONV is not 0)
DIRECT = bool(LIB is not None and LIB.glassnet_direct_conv()
              and os.environ.get("GLASSNET_DIRECT_CONV", "1") != "0")


def supports(*arrays):
    """Whether the compiled loops can take these arrays (float32 or float64)."""
    return LIB is not None and all(a.dtype in _SUFFIX for a in arrays)


def _fn(name, dtype):
    return getattr(LIB, f"{name}_{_SUFFIX[dtype]}")


def _steps(a):
    """a's strides in elements."""
    return [s // a.itemsize for s in a.strides]


def _split(a, b, nbytes):
    """[(a0, a1, b0, b1)]: up to _PARTS_PER_CORE*_CORES disjoint blocks of the leading
    axes (a, b), cut along the longer one; one block when the work is too small to
    share (in_parts hands the blocks out as threads come free)."""
    n = min(_PARTS_PER_CORE * _CORES, max(1, nbytes // _MIN_PART_BYTES), max(a, b))
    if _CORES < 2 or n < 2:
        return [(0, a, 0, b)]
    if a >= b:
        return [(a * i // n, a * (i + 1) // n, 0, b) for i in range(n)]
    return [(0, a, b * i // n, b * (i + 1) // n) for i in range(n)]


def im2col(x, pads, kernel, stride, dilation, out_hw, cols):
    """Fill cols (C, kh, kw, N, Ho, Wo) with the patches of x (C, N, H, W), any strides,
    padded by pads = (top, bottom, left, right) with zeros."""
    c, n, h, w = x.shape
    fn = _fn("im2col", x.dtype)
    args = (x.ctypes.data, *_steps(x), n, h, w, *kernel, *stride, *dilation, pads[0],
            pads[2], *out_hw, cols.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1], part[2], part[3]),
             _split(c, n, cols.nbytes))
    return cols


def col2im(cols, pads, kernel, stride, dilation, out_hw, dx):
    """Overwrite dx (C, N, H, W), C-contiguous, with the sum of the patch values in
    cols (C, kh, kw, N, Ho, Wo) that were copied from each of its pixels."""
    c, n, h, w = dx.shape
    fn = _fn("col2im", dx.dtype)
    args = (cols.ctypes.data, n, h, w, *kernel, *stride, *dilation, pads[0], pads[2],
            *out_hw, dx.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1], part[2], part[3]),
             _split(c, n, cols.nbytes))
    return dx


def col2im_rows(cols, pads, kernel, stride, dilation, out_hw, dx, n0, n1):
    """Overwrite images [n0, n1) of dx (C, N, H, W), C-contiguous, from position-major
    columns cols (n1 - n0, Ho, Wo, C, kh, kw) of those images."""
    c, n, h, w = dx.shape
    fn = _fn("col2im_rows", dx.dtype)
    args = (c, n, h, w, *kernel, *stride, *dilation, pads[0], pads[2], *out_hw, dx.ctypes.data)
    per_image = cols.strides[0]

    def run(part):        # the C loop reads its first image's columns at row 0
        fn(cols.ctypes.data + part[0] * per_image, *args, n0 + part[0], n0 + part[1])

    in_parts(run, _split(n1 - n0, 1, cols.nbytes))
    return dx


# ---------------------------------------------------------------- direct convolution

_SLACK = 64        # zeros after the padded input: the kernels read up to kw + 15 past it
OB = 6             # output channels per register block (native_conv.h)


def direct(x, geom):
    """Whether the direct convolution takes this one: float32, stride 1, dilation 1,
    one group, padding of at most kernel-1 on every side (so that dL/dx is the same
    kind of convolution), kernels at most 32 wide (see _SLACK), and not a narrow
    output with many channels, where im2col + GEMM is faster.

    Forward + backward at batch 64, direct / im2col time, measured alternating:
    1->16 5x5 on 28x28 0.60, 16->32 5x5 on 14x14 0.66, 3->16 3x3 on 32x32 0.52,
    64->64 3x3 on 16x16 0.70, 32->64 3x3 on 32x32 0.73; but 32->64 3x3 on 12x12
    (10 wide out) 1.19, 64->128 on 10x10 1.49, 128->128 on 8x8 1.34: on rows that
    short a 16-lane block wastes lanes, and the GEMM of so many channels runs well."""
    g = geom
    return (DIRECT and LIB is not None and x.dtype == np.float32 and g.groups == 1
            and g.stride == (1, 1) and g.dilation == (1, 1) and g.n > 0
            and max(g.pads[:2]) < g.kernel[0] and max(g.pads[2:]) < g.kernel[1]
            and g.kernel[1] <= 32 and (g.out_hw[1] >= 12 or g.o <= 32))


def is_depthwise(x, geom):
    """Whether the depthwise loops take this convolution: one filter per channel (groups
    = in = out channels, more than one), float32 or float64, at most 1024 taps."""
    g = geom
    return (LIB is not None and x.dtype in _SUFFIX and g.groups > 1 and g.groups == g.c == g.o
            and g.kernel[0] * g.kernel[1] <= 1024 and g.n > 0)


def _window_args(g, padded):
    """The C loops' kernel, stride, dilation, (top, left) padding and output size; with
    `padded`, for an input that already carries g's padding."""
    pads = (0, 0) if padded else (g.pads[0], g.pads[2])
    return (*g.kernel, *g.stride, *g.dilation, *pads, *g.out_hw)


def depthwise(x, w, b, geom, y, padded=False):
    """y (C, N, Ho, Wo) C-contiguous = the depthwise convolution of x (C, N, H, W), any
    strides (already padded by geom's padding if `padded`), with w (C, kh, kw)
    C-contiguous and bias b (C,) or None. A 3x3 stride-1 kernel over a padded input takes
    the nine-tap loop."""
    c, n, h, wd = x.shape
    fn = _fn("depthwise", x.dtype)
    args = (x.ctypes.data, *_steps(x), n, h, wd, w.ctypes.data, _ptr(b),
            *_window_args(geom, padded), y.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, x.nbytes + y.nbytes))
    return y


def _rows_unit(a):
    """a with unit steps along its last axis (a copy if need be)."""
    return a if a.strides[-1] == a.itemsize else np.ascontiguousarray(a)


def depthwise_input_grad(gy, w, geom, dx):
    """dL/dx into dx (C, N, H, W) C-contiguous, from dL/dY (C, N, Ho, Wo) and w (C, kh, kw)
    (each output's gradient added onto the inputs it read)."""
    gy = _rows_unit(gy)
    c, n, h, wd = dx.shape
    fn = _fn("depthwise_input_grad", gy.dtype)
    args = (gy.ctypes.data, *_steps(gy)[:3], w.ctypes.data, n, h, wd,
            *_window_args(geom, False), dx.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, gy.nbytes + dx.nbytes))
    return dx


def depthwise_weight_grad(x, gy, geom, dw, padded=False):
    """dL/dW into dw (C, kh, kw) C-contiguous, from x (C, N, H, W) (already padded if
    `padded`) and dL/dY (C, N, Ho, Wo)."""
    gy = _rows_unit(gy)
    c, n, h, wd = x.shape
    fn = _fn("depthwise_weight_grad", x.dtype)
    args = (x.ctypes.data, *_steps(x), gy.ctypes.data, *_steps(gy)[:3], n, h, wd,
            *_window_args(geom, padded), dw.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, x.nbytes + gy.nbytes))
    return dw


def padded(x, pads, workspace):
    """x (C, N, H, W), any strides, zero-padded by pads = (top, bottom, left, right)
    into a C-contiguous workspace array followed by _SLACK zeros (the kernels read a
    little past the last row). Returns (buffer to give back, padded view)."""
    c, n, h, w = x.shape
    top, bottom, left, right = pads
    shape = (c, n, h + top + bottom, w + left + right)
    size = int(np.prod(shape))
    buf = workspace.take((size + _SLACK,), x.dtype)
    xp = buf[:size].reshape(shape)
    fn = _fn("pad_copy", x.dtype)
    args = (x.ctypes.data, *_steps(x), n, h, w, top, left, *shape[2:], xp.ctypes.data)
    in_parts(lambda part: fn(*args, *part), _split(c, n, xp.nbytes))
    buf[size:] = 0
    return buf, xp


def pack_weight(w):
    """w (O, C, kh, kw) as the kernels read it: (ceil(O/6), C, kh, kw, 6), zero past O."""
    o = w.shape[0]
    blocks = -(-o // OB)
    full = np.zeros((blocks * OB, *w.shape[1:]), np.float32)
    full[:o] = w
    return np.ascontiguousarray(full.reshape(blocks, OB, *w.shape[1:]).transpose(0, 2, 3, 4, 1))


def conv_direct(xp, packed, bias, o, out):
    """out (O, N, Ho, Wo) = the stride-1 convolution of the padded xp (from `padded`)
    with the packed weight, plus bias (or None)."""
    c, n, hp, wp = xp.shape
    kh, kw = packed.shape[2:4]
    ho, wo = out.shape[2:]
    args = (xp.ctypes.data, c, n, hp, wp, packed.ctypes.data,
            None if bias is None else bias.ctypes.data, o, kh, kw, ho, wo, out.ctypes.data)
    in_parts(lambda part: LIB.conv_direct_f32(*args, part[0], part[1]),
             _split(n, 1, out.nbytes * 4))
    return out


def conv_weight_grad(gw, ho, xp, kernel, dw):
    """dw (O, C*kh*kw) = dL/dW of the stride-1 convolution from the padded input xp (from
    `padded`) and dL/dY as `gw`: an (O, N, R, Wp) view, each image's Ho rows of dL/dY
    starting at its first element, with rows as wide as xp's and zeros past the Wo
    values of each (dL/dY widened, or padded for dL/dx when that makes rows of Wp)."""
    c, n, hp, wp = xp.shape
    o = gw.shape[0]
    stride = gw.strides[1] // gw.itemsize
    args = (gw.ctypes.data, stride, ho * wp, xp.ctypes.data, c, n, hp, wp, *kernel,
            dw.ctypes.data)
    blocks = -(-o // 4)                           # the kernel takes 4 channels at a time
    in_parts(lambda part: LIB.conv_weight_grad_f32(*args, 4 * part[0], min(o, 4 * part[1])),
             _split(blocks, 1, o * n * stride * 16))
    return dw


def bias_relu(y, b):
    """y = max(y + b, 0) in place, y (rows, cols) C-contiguous, b (cols,) or None."""
    rows, cols = y.shape
    fn = _fn("bias_relu", y.dtype)
    args = (y.ctypes.data, None if b is None else b.ctypes.data, cols)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(rows, 1, y.nbytes))
    return y


def dense_order(*arrays):
    """An axis order in which every array is C-contiguous (the same for all), or None:
    then the arrays can be read as one flat run each, element i matching element i."""
    a = arrays[0]
    order = tuple(np.argsort([-s for s in a.strides], kind="stable"))
    if all(b.shape == a.shape and b.transpose(order).flags.c_contiguous for b in arrays):
        return order
    return None


def relu_backward(dy, y):
    """dL/dx of ReLU from dL/dy and its output y (same dtype, laid out alike, see
    dense_order): dy where y > 0, else 0, in y's layout."""
    dx = np.empty_like(y)
    fn = _fn("relu_backward", y.dtype)
    args = (dy.ctypes.data, y.ctypes.data, dx.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(y.size, 1, y.nbytes * 3))
    return dx


def gelu(x, with_slope, coefficients, z_max):
    """GELU of float32 x in one pass (native_gelu.h; AVX2+FMA, see DIRECT): y = x Phi(x)
    and, if `with_slope`, dy/dx, both laid out as x (copied to C order first unless it is
    dense in some axis order). `coefficients`: the erfc fit P, constant term first."""
    if dense_order(x) is None:
        x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    slope = np.empty_like(x) if with_slope else None
    coef = np.asarray(coefficients, np.float32)
    args = (x.ctypes.data, y.ctypes.data, _ptr(slope), coef.ctypes.data, z_max)
    in_parts(lambda part: LIB.gelu_f32(*args, part[0], part[1]),
             _split(x.size, 1, x.nbytes * 3))
    return y, slope


def rnn_loops(dtype):
    """Whether the compiled LSTM and GRU loops (native_rnn.h) can run: float32 on an AVX2
    CPU, with the sgemm of the OpenBLAS that NumPy loaded found by name."""
    return DIRECT and dtype == np.float32 and _sgemm() is not None


_SGEMM = []


def _sgemm():
    """(address of cblas_sgemm, whether its integers are 64-bit), or None; looked up once."""
    if not _SGEMM:
        _SGEMM.append(cblas_sgemm())
    return _SGEMM[0]


def _walk(fn, rows, arrays, shape, reverse, norms=False):
    """Run a recurrent walk of native_rnn.h over `arrays` (its array arguments, in order)
    for shape (T, B, G, H), with OpenBLAS held to one thread and each step's product
    whole (measured, lstm-long: 183 ms a training step, against 230 in `rows`-row pieces
    and 2.3 s with OpenBLAS's two threads woken every step); and the batch in halves
    walked on two threads at once where there are two cores and half a step's product is
    big enough to pay for the second thread: the rows of a recurrence are independent of
    each other. Where OpenBLAS's thread count cannot be set: one walk, in pieces of `rows`
    rows (see ops/recurrent.py's _block_rows), which OpenBLAS keeps on one thread.
    `norms`: False for the forward walks (no such argument); None, or a (T,) array that
    gets ||dL/dh_t||, for the backward ones (each half returns its squared sums)."""
    T, B, G, H = shape
    address, ilp64 = _sgemm()
    with one_thread() as alone:
        halves = [(0, B)]
        if alone and _CORES > 1 and B >= 16 and B * H * G * H >= 2 * _WALK_SPLIT_MACS:
            halves = [(0, B // 2), (B // 2, B)]
        squares = None if norms is False or norms is None else np.zeros((len(halves), T))
        ptrs = _ptrs(*arrays)
        last = [] if norms is False else [None]

        def run(k):
            extra = last if squares is None else [squares[k].ctypes.data]
            fn(address, ilp64, 1 << 40 if alone else rows, *ptrs, *extra, T, B, H,
               int(reverse), *halves[k])

        in_parts(run, range(len(halves)))
    if squares is not None:
        norms[...] = np.sqrt(squares.sum(axis=0))


# The smallest step product (multiply-adds) of half a batch worth walking on a thread of
# its own: below it, the second thread's start costs more than the half saves.
_WALK_SPLIT_MACS = 1 << 17


def _ptrs(*arrays):
    return [_ptr(a) for a in arrays]


def lstm_forward(a, hs, cs, tc, wh_t, rows, reverse):
    """The whole forward walk of an LSTM layer (see native_rnn.h for the arrays), float32,
    all C-contiguous."""
    tmp = np.empty((a.shape[1], a.shape[2] * a.shape[3]), np.float32)
    _walk(LIB.lstm_forward_f32, rows, (a, hs, cs, tc, wh_t, tmp), a.shape, reverse)


def lstm_backward(act, tc, cs, g, dc, wh, norms, rows, reverse):
    """The whole BPTT walk of an LSTM layer (native_rnn.h), the gate derivatives included;
    returns (dL/dz of every gate (T, B, 4, H), dL/dh_0); dc goes from dL/dc_n to dL/dc_0,
    norms (T,) unless None gets ||dL/dh_t||."""
    dz, dh_rec = np.empty_like(act), np.empty((act.shape[1], act.shape[3]), np.float32)
    _walk(LIB.lstm_backward_f32, rows, (dz, act, tc, cs, g, dc, dh_rec, wh), act.shape,
          reverse, norms)
    return dz, dh_rec


def gru_forward(a, hs, hn, wh_t, b_hn, rows, reverse):
    """The whole forward walk of a GRU layer (native_rnn.h), float32, all C-contiguous."""
    tmp = np.empty((a.shape[1], a.shape[2] * a.shape[3]), np.float32)
    _walk(LIB.gru_forward_f32, rows, (a, hs, hn, wh_t, b_hn, tmp), a.shape, reverse)


def gru_backward(act, hs, hn, g, wh, norms, rows, reverse):
    """The whole BPTT walk of a GRU layer (native_rnn.h), the gate derivatives included;
    returns (the hidden path's dL/dz (T, B, 3, H), dL/dz_n (T, B, H), dL/dh_0); norms as
    in lstm_backward."""
    T, B, _, H = act.shape
    dz, dn = np.empty_like(act), np.empty((T, B, H), np.float32)
    dh, dh_rec = np.empty((B, H), np.float32), np.empty((B, H), np.float32)
    _walk(LIB.gru_backward_f32, rows, (dz, act, hs, hn, dn, g, wh, dh, dh_rec), act.shape,
          reverse, norms)
    return dz, dn, dh_rec


def clamp(x, lo, hi):
    """min(max(x, lo), hi) in one pass, in x's layout (copied to C order first unless x
    is dense in some axis order); NaN stays NaN."""
    if dense_order(x) is None:
        x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    fn = _fn("clamp", x.dtype)
    args = (x.ctypes.data, y.ctypes.data, float(lo), float(hi))
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(x.size, 1, x.nbytes * 2))
    return y


def clamp_backward(dy, y, lo, hi):
    """dL/dx of clamp from dL/dy and its output y (same dtype, laid out alike, see
    dense_order): dy where lo < y < hi, else 0, in y's layout."""
    dx = np.empty_like(y)
    fn = _fn("clamp_backward", y.dtype)
    args = (dy.ctypes.data, y.ctypes.data, float(lo), float(hi), dx.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(y.size, 1, y.nbytes * 3))
    return dx


def rows(x):
    """x (N, C, ...) as an (N, C, L) view whose rows x[n, c] are contiguous, or None."""
    n, c = x.shape[:2]
    length = int(np.prod(x.shape[2:], dtype=np.int64))
    v = x.reshape(n, c, length)
    if not np.may_share_memory(v, x) or (length > 1 and v.strides[2] != x.itemsize):
        return None
    return v


def _ptr(a):
    return None if a is None else a.ctypes.data


def bn_stats(x3):
    """Per-channel mean and biased variance of x3 (N, C, L) from `rows`."""
    n, c, length = x3.shape
    mean, var = np.empty(c, x3.dtype), np.empty(c, x3.dtype)
    fn = _fn("bn_stats", x3.dtype)
    args = (x3.ctypes.data, *_steps(x3)[:2], n, length, mean.ctypes.data, var.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, x3.nbytes))
    return mean, var


def bn_apply(x3, mean, invstd, w, b, y3):
    """y3 = (x3 - mean) * invstd * w + b, per channel (w, b may be None)."""
    n, c, length = x3.shape
    fn = _fn("bn_apply", x3.dtype)
    args = (x3.ctypes.data, *_steps(x3)[:2], n, length, mean.ctypes.data, invstd.ctypes.data,
            _ptr(w), _ptr(b), y3.ctypes.data, *_steps(y3)[:2])
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, x3.nbytes))
    return y3


def bn_backward(g3, x3, mean, invstd, w, batch, dx3):
    """(dw, db), and dx3 filled unless None: see bn_backward in native_loops.h."""
    n, c, length = x3.shape
    dw, db = np.empty(c, x3.dtype), np.empty(c, x3.dtype)
    fn = _fn("bn_backward", x3.dtype)
    args = (g3.ctypes.data, *_steps(g3)[:2], x3.ctypes.data, *_steps(x3)[:2], n, length,
            mean.ctypes.data, invstd.ctypes.data, _ptr(w), int(batch), _ptr(dx3),
            *(_steps(dx3)[:2] if dx3 is not None else (0, 0)), dw.ctypes.data, db.ctypes.data)
    in_parts(lambda part: fn(*args, part[0], part[1]), _split(c, 1, x3.nbytes * 2))
    return dw, db


def adam(w, g, m, v, vmax, s1, b2, s2, c2, eps, step):
    """One Adam step in place on w, m, v (and vmax, or None), all C-contiguous arrays of
    one float dtype; the scalars as optim/adam.py computes them (see native_loops.h)."""
    fn = _fn("adam", w.dtype)
    real = w.dtype.type
    ptrs = [a.ctypes.data for a in (w, g, m, v)] + [None if vmax is None else vmax.ctypes.data]
    scalars = [float(real(x)) for x in (s1, b2, s2, c2, eps, step)]   # rounded to w's type
    in_parts(lambda part: fn(*ptrs, *scalars, part[0], part[1]), _split(w.size, 1, w.nbytes * 5))
    return w


def rmsprop(w, g, s, buf, a, eps, lr, mu, eps_inside):
    """One RMSprop step (not centered) in place on w, s (and buf, or None: no momentum),
    all C-contiguous arrays of one float dtype (see native_loops.h)."""
    fn = _fn("rmsprop", w.dtype)
    real = w.dtype.type
    ptrs = [a_.ctypes.data for a_ in (w, g, s)] + [None if buf is None else buf.ctypes.data]
    scalars = [float(real(x)) for x in (a, 1 - a, eps, lr, mu)]    # rounded to w's type
    in_parts(lambda part: fn(*ptrs, *scalars, int(bool(eps_inside)), part[0], part[1]),
             _split(w.size, 1, w.nbytes * 4))
    return w


def like_planes(x, hw, dtype):
    """An empty (A, B, *hw) array whose two leading axes are in x's memory order: NCHW
    input in (C, N, H, W) memory (see ops/conv.py) gives output in that layout too."""
    a, b = x.shape[:2]
    if x.strides[0] < x.strides[1]:
        return np.empty((b, a, *hw), dtype).swapaxes(0, 1)
    return np.empty((a, b, *hw), dtype)


def max_pool(x, geom, with_arg):
    """(y, arg) for x (A, B, H, W), any strides: the window maxima and their flat
    indices in the plane (int32; None unless with_arg), laid out as x."""
    a, b = x.shape[:2]
    y = like_planes(x, geom.out_hw, x.dtype)
    arg = like_planes(x, geom.out_hw, np.int32) if with_arg else None
    ya, yb = _steps(y)[:2]
    xa, xb, xh, xw = _steps(x)
    if (DIRECT and with_arg and x.dtype == np.float32 and xw == 1 and geom.kernel == (2, 2)
            and geom.stride == (2, 2) and geom.pads == (0, 0) and geom.dilation == (1, 1)
            and 2 * geom.out_hw[0] <= geom.in_hw[0] and 2 * geom.out_hw[1] <= geom.in_hw[1]):
        # the commonest pool, 8 windows a step with AVX2 (native_conv.h)
        args = (x.ctypes.data, xa, xb, xh, geom.in_hw[1], *geom.out_hw, y.ctypes.data,
                arg.ctypes.data, ya, yb)
        in_parts(lambda part: LIB.max_pool2x2_f32(*args, *part), _split(a, b, x.nbytes))
        return y, arg
    fn = _fn("max_pool", x.dtype)
    args = (x.ctypes.data, xa, xb, xh, xw, *geom.in_hw, *geom.kernel, *geom.stride,
            *geom.dilation, *geom.pads, *geom.out_hw, y.ctypes.data,
            None if arg is None else arg.ctypes.data, ya, yb)
    in_parts(lambda part: fn(*args, *part), _split(a, b, x.nbytes))
    return y, arg


def max_pool_backward(grad, arg, geom):
    """dL/dx (A, B, H, W) from dL/dy (A, B, Ho, Wo), any strides, and the forward's arg:
    each window's gradient added onto its maximum. Laid out as arg."""
    a, b = arg.shape[:2]
    dx = like_planes(arg, geom.in_hw, grad.dtype)
    fn = _fn("max_pool_backward", grad.dtype)
    args = (grad.ctypes.data, *_steps(grad), arg.ctypes.data, *_steps(arg)[:2],
            *geom.out_hw, dx.ctypes.data, *_steps(dx)[:2], *geom.in_hw)
    in_parts(lambda part: fn(*args, *part), _split(a, b, dx.nbytes))
    return dx
