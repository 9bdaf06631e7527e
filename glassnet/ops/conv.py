"""Convolution (PyTorch's cross-correlation): `conv1d` and `conv2d`.

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * x[n, c, i*s + p*d - pad, j*s + q*d - pad]

Every window of the (padded) input is copied out once, as a column of the patch
matrix `cols` (im2col: kh*kw strided copies), and the whole layer becomes one
matrix product per group, W (O, C*kh*kw) @ cols (C*kh*kw, N*Ho*Wo). Backward is
two more products: dL/dW = dL/dY cols^T, and dL/dcols = W^T dL/dY, whose columns
are added back onto the windows they came from (col2im: kh*kw strided adds).

Internally the image batch is laid out (C, N, H, W) — see `glassnet._kernels.windows`
for why; the API stays NCHW. conv1d is a conv2d of height 1, and an unbatched
input a batch of one, inside the same Function (no extra graph nodes).

Three ways to run it, the same values from each (the tests run all three):
- float32, stride 1, dilation 1, one group, on a CPU with AVX2+FMA: the compiled
  direct convolution (`glassnet._kernels.native_conv.h`), no patch matrix at all;
- otherwise im2col + GEMM as above, with compiled im2col/col2im loops
  (`glassnet._kernels.native`) when the extension is built;
- else the same with NumPy's strided copies (`glassnet._kernels.windows`).
Big temporaries are recycled through `glassnet._kernels.workspace`, because fresh
pages cost a page fault each. docs/architecture.md has the measurements.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .._kernels import native, windows as K
from .._kernels.workspace import WORKSPACE

__all__ = ["conv1d", "conv2d"]


def _ints(value, n, name, op):
    """An int, or a sequence of n ints (or of one, repeated), as an n-tuple."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return (int(value),) * n
    if (isinstance(value, (tuple, list)) and len(value) in (1, n)
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    raise ValueError(f"{op}: expected {name} to be an int or a tuple of {n} ints, got {value!r}")


def _as_2d(values, nd, fill):
    """A 1-D op's per-dim tuple as a 2-D one, with `fill` for the missing height."""
    return tuple(values) if nd == 2 else (fill, *values)


def _conv_pads(padding, kernel, stride, dilation, op):
    """Padding as (before, after) per spatial dim; 'same' pads the odd extra on the
    after side, as PyTorch does for even kernels. Explicit (before, after) pairs, one per
    spatial dim, give any asymmetric padding (TensorFlow's 'same' for strided
    convolutions)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (got stride={stride})")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    if isinstance(padding, (tuple, list)) and padding and all(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple(_ints(p, 2, "padding", op) for p in padding)
        if len(pairs) != n or min(min(p) for p in pairs) < 0:
            raise ValueError(f"{op}: expected padding as {n} (before, after) pairs of "
                             f"non-negative ints, got {padding!r}")
        return pairs
    pads = _ints(padding, n, "padding", op)
    if min(pads) < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding!r}")
    return tuple((p, p) for p in pads)


class ConvGeometry:
    """The shapes of one convolution, checked, in 2-D terms (a 1-D one has height 1)."""

    def __init__(self, op, x_shape, w_shape, stride, padding, dilation, groups):
        nd = len(w_shape) - 2
        kernel = tuple(w_shape[2:])
        stride, dilation = _ints(stride, nd, "stride", op), _ints(dilation, nd, "dilation", op)
        if min(stride) <= 0:
            raise ValueError(f"{op}: stride must be positive, got stride={stride}")
        if min(dilation) <= 0:
            raise ValueError(f"{op}: dilation must be positive, got dilation={dilation}")
        pads = _conv_pads(padding, kernel, stride, dilation, op)
        spatial = tuple(x_shape[-nd:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, pads))
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        if any(r > p for r, p in zip(reach, padded)):
            raise ValueError(f"{op}: kernel size {kernel} (dilated to {reach}) is larger than "
                             f"the padded input {padded}")
        self.kernel, self.stride = _as_2d(kernel, nd, 1), _as_2d(stride, nd, 1)
        self.dilation = _as_2d(dilation, nd, 1)
        (t, b), (l, r) = _as_2d(pads, nd, (0, 0))
        self.pads = (t, b, l, r)
        self.in_hw, self.padded_hw = _as_2d(spatial, nd, 1), _as_2d(padded, nd, 1)
        self.out_hw = tuple(K.conv_out_size(s, k, st, d, lo, hi) for s, k, st, d, lo, hi in zip(
            self.in_hw, self.kernel, self.stride, self.dilation, (t, l), (b, r)))
        batched = len(x_shape) == nd + 2
        self.n = x_shape[0] if batched else 1
        self.c, self.o, self.groups = x_shape[-nd - 1], w_shape[0], groups
        self.hw = self.out_hw[0] * self.out_hw[1]
        self.m = self.hw * self.n                           # columns of the patch matrix
        self.cols_shape = (groups, self.c // groups * self.kernel[0] * self.kernel[1], self.m)
        # a 1x1 convolution whose patch matrix would be x itself: one GEMM (Conv)
        self.pointwise = (self.kernel == (1, 1) and self.stride == (1, 1) and groups == 1
                          and not any(self.pads))
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)
        out_spatial = self.out_hw[-nd:]
        self.out_shape = ((self.n,) if batched else ()) + (self.o,) + out_spatial


def _swap01(a, shape, workspace=None):
    """a, viewed as `shape`, with its first two axes swapped (NCHW <-> CNHW): a copy
    of whole H*W planes, into a workspace array when one is given."""
    a = a.reshape(shape).transpose(1, 0, *range(2, len(shape)))
    if workspace is None:
        return np.ascontiguousarray(a)
    out = workspace.take(a.shape, a.dtype)
    np.copyto(out, a)
    return out


_SLAB_ROWS = 256     # rows of W^T dL/dY per GEMM in conv_input_grad (see _weight_columns)


def _weight_columns(w, gy, geom, ws):
    """Yield, per kernel column q, the slab (kh, G, C/G, N, Ho, Wo) of W^T dL/dY.

    A few kernel columns per GEMM (enough for ~_SLAB_ROWS output rows) so that the
    whole (C*kh*kw, N*Ho*Wo) matrix never exists at once. Fewer, taller GEMMs than
    the ~64 rows that are best on an idle machine: each two-thread GEMM ends in a
    barrier, and when other processes share the cores a barrier can wait a whole
    scheduler tick for a descheduled thread (measured: 64 rows 26 ms, 256 rows 16 ms
    for the MNIST CNN's 16->32 layer under load; 7.0 vs 8.0 ms on one idle thread).
    """
    g = geom
    (kh, kw), cg, og = g.kernel, g.c // g.groups, g.o // g.groups
    wt = np.ascontiguousarray(w.reshape(g.groups, og, cg, kh, kw).transpose(0, 4, 2, 3, 1))
    per = min(kw, -(-_SLAB_ROWS // (cg * kh)))
    for q0 in range(0, kw, per):
        nq = min(per, kw - q0)
        buf = ws.take((g.groups, nq * cg * kh, g.m), gy.dtype)
        w_rows = wt[:, q0:q0 + nq].reshape(g.groups, nq * cg * kh, og)
        _rows_times(w_rows, gy, buf)
        slabs = buf.reshape(g.groups, nq, cg, kh, g.n, *g.out_hw)
        for i in range(nq):
            yield slabs[:, i].transpose(2, 0, 1, 3, 4, 5)
        ws.give(buf)


def _rows_times(w_rows, gy, out):
    """out = w_rows @ gy, per group."""
    if w_rows.shape[-1] == 1:  # depthwise: an outer product, which numpy's matmul does slowly
        np.multiply(w_rows, gy, out=out)
    else:
        np.matmul(w_rows, gy, out=out)


def _channel_columns(w, gy, geom, ws):
    """Yield (c0, c1, block): W^T dL/dY for input channels [c0, c1) as a
    (c1 - c0, kh, kw, N, Ho, Wo) array, ~_SLAB_ROWS rows per GEMM: whole groups at a
    time when a group has fewer rows than that (depthwise: many groups per product),
    else a few channels of one group."""
    g = geom
    (kh, kw), cg, og = g.kernel, g.c // g.groups, g.o // g.groups
    w3 = w.reshape(g.groups, og, cg * kh * kw)
    per_group = cg * kh * kw
    if per_group <= _SLAB_ROWS:
        step = max(1, _SLAB_ROWS // per_group)
        for g0 in range(0, g.groups, step):
            g1 = min(g.groups, g0 + step)
            buf = ws.take((g1 - g0, per_group, g.m), gy.dtype)
            _rows_times(w3[g0:g1].transpose(0, 2, 1), gy[g0:g1], buf)
            yield g0 * cg, g1 * cg, buf.reshape((g1 - g0) * cg, kh, kw, g.n, *g.out_hw)
            ws.give(buf)
        return
    step = max(1, _SLAB_ROWS // (kh * kw))
    for gi in range(g.groups):
        for c0 in range(0, cg, step):
            c1 = min(cg, c0 + step)
            buf = ws.take(((c1 - c0) * kh * kw, g.m), gy.dtype)
            _rows_times(w3[gi, :, c0 * kh * kw:c1 * kh * kw].T, gy[gi], buf)
            yield gi * cg + c0, gi * cg + c1, buf.reshape(c1 - c0, kh, kw, g.n, *g.out_hw)
            ws.give(buf)


# dL/dcols per GEMM + col2im round in _col2im_by_positions: the whole batch of the MNIST
# CNN (20 MB) in one round was faster than 1, 4 or 8 MiB rounds (measured alternating:
# the 16->32 layer's forward+backward 0.90x the time of the channel-major way, 8 MiB
# 0.97x, 1 MiB 1.14x); bigger batches go in rounds of this size.
_POSITION_CHUNK_BYTES = 32 << 20


def _col2im_by_positions(w, gy, g, ws, dx):
    """dL/dx = col2im(dL/dcols) with dL/dcols = dL/dY^T W, position-major (one row of
    C*kh*kw values per output position), a chunk of images at a time. OpenBLAS runs
    this orientation in 1.8 ms on the MNIST CNN's 16->32 layer, W^T dL/dY in 2.5-2.7;
    the compiled col2im_rows reads it a row of positions at a time."""
    kk = g.c * g.kernel[0] * g.kernel[1]
    w2, gy3 = w.reshape(g.o, kk), gy.reshape(g.o, g.n, g.hw)
    per = max(1, _POSITION_CHUNK_BYTES // (g.hw * kk * gy.itemsize))
    for n0 in range(0, g.n, per):
        n1 = min(g.n, n0 + per)
        buf = ws.take(((n1 - n0) * g.hw, kk), gy.dtype)
        np.matmul(gy3[:, n0:n1].reshape(g.o, -1).T, w2, out=buf)
        native.col2im_rows(buf.reshape(n1 - n0, *g.out_hw, g.c, *g.kernel), g.pads, g.kernel,
                           g.stride, g.dilation, g.out_hw, dx, n0, n1)
        ws.give(buf)


def conv_input_grad(gy, weight, geom, workspace=WORKSPACE, out=None):
    """dL/dx as a (C, N, H, W) array, from dL/dY (G, O/G, N*Ho*Wo) and the weight
    as (G, O/G, C/G*kh*kw): the transposed convolution, reusable by ConvTranspose.
    Written into `out` (C-contiguous, (C, N, H, W)) when given; else the result is a
    view of a workspace array: copy it out, then give its base back. The NumPy path
    takes `out` only for a convolution without padding.
    """
    # dL/dcols = W^T dL/dY; every column goes back onto the window it was copied from
    g = geom
    if native.supports(gy):
        dx = workspace.take((g.c, g.n, *g.in_hw), gy.dtype)[...] if out is None else out
        if g.groups == 1:
            _col2im_by_positions(weight, gy, g, workspace, dx)
            return dx
        for c0, c1, block in _channel_columns(weight, gy, g, workspace):
            native.col2im(block, g.pads, g.kernel, g.stride, g.dilation, g.out_hw, dx[c0:c1])
        return dx
    shape = (g.groups, g.c // g.groups, g.n, *g.padded_hw)
    dxp = K.col2im(_weight_columns(weight, gy, g, workspace), shape, g.kernel, g.out_hw,
                   g.stride, g.dilation, gy.dtype, workspace,
                   None if out is None else out.reshape(shape))
    top, _, left, _ = g.pads
    h, w = g.in_hw
    return dxp.reshape(g.c, g.n, *g.padded_hw)[..., top:top + h, left:left + w]


class Conv(Function):
    """conv1d/conv2d with the bias fused: im2col, one GEMM per group, two GEMMs and a
    col2im backward. Its big temporaries live in the workspace (see _kernels.workspace).

    Memory layout: the output is returned as an (N, O, Ho, Wo) view of the GEMM's
    (O, N, Ho, Wo) result, not copied into NCHW order. Elementwise ops and pooling
    keep that layout (NumPy's ufuncs follow their input's memory order), so the next
    conv's (C, N, H, W) view of its input, and this one's view of dL/dY in backward,
    are already contiguous: the NCHW <-> CNHW copies then happen nowhere.
    """

    def forward(self, x, weight, bias=None, *, geom):
        g, ws = geom, WORKSPACE
        need_x, need_w = self.needs_input_grad[:2]
        xt = x.reshape(g.n, g.c, *g.in_hw).transpose(1, 0, 2, 3)        # C, N, H, W
        self.pointwise = g.pointwise                             # the route taken
        self.direct = not self.pointwise and native.direct(x, g)
        self.depthwise = not (self.pointwise or self.direct) and native.is_depthwise(x, g)
        if self.pointwise:
            return self._pointwise_forward(xt, weight, bias, g)
        if self.direct:
            return self._direct_forward(xt, weight, bias, g)
        if self.depthwise:
            return self._depthwise_forward(xt, weight, bias, g)
        cols = _im2col(xt, g, ws)
        w = weight.reshape(g.groups, g.o // g.groups, g.cols_shape[1])
        out = np.empty((g.o, g.n, *g.out_hw), x.dtype)       # returned: not a workspace array
        np.matmul(w, cols.reshape(g.cols_shape), out=out.reshape(g.groups, g.o // g.groups, g.m))
        if bias is not None:
            flat = out.reshape(g.o, g.m)
            flat += bias[:, None]
        self.geom = g
        self.w = w if need_x else None
        self.cols = cols if need_w else None       # back to the workspace in release()
        if not need_w:
            ws.give(cols)
        return out.transpose(1, 0, 2, 3).reshape(g.out_shape)

    def backward(self, grad):
        # Y = W cols + b:  dL/dW = dL/dY cols^T,  dL/dx = col2im(W^T dL/dY),
        # dL/db = dL/dY summed over the batch and every position
        g, ws = self.geom, WORKSPACE
        need = self.needs_input_grad
        gy = grad.reshape(g.n, g.o, *g.out_hw).transpose(1, 0, 2, 3)      # O, N, Ho, Wo
        if self.pointwise:
            return self._pointwise_backward(grad, gy, g, ws)
        if self.direct:                    # reads dL/dY in whatever layout it comes
            return self._direct_backward(gy, g, ws)
        if self.depthwise:
            return self._depthwise_backward(gy, g)
        copied = not gy.flags.c_contiguous
        if copied:
            gy = _swap01(grad, (g.n, g.o, g.hw), ws)
        gy3 = gy.reshape(g.groups, g.o // g.groups, g.m)
        gx = gw = gb = None
        if need[0]:
            gx = _input_grad(gy3, self.w, g, ws)
        if need[1]:
            gw = _weight_grad(gy3, self.cols.reshape(g.cols_shape), g)
        if len(need) == 3 and need[2]:
            gb = gy.reshape(g.o, g.m) @ np.ones(g.m, gy.dtype)     # a GEMV beats .sum(1) 5x
        if copied:
            ws.give(gy)
        return gx, gw, gb

    def _direct_forward(self, xt, weight, bias, g):
        """The AVX2 direct convolution (native_conv.h): no patch matrix; backward keeps
        the padded input instead, for dL/dW."""
        buf, xp = native.padded(xt, g.pads, WORKSPACE)
        out = np.empty((g.o, g.n, *g.out_hw), xt.dtype)
        native.conv_direct(xp, native.pack_weight(weight.reshape(g.o, g.c, *g.kernel)),
                           None if bias is None else np.ascontiguousarray(bias), g.o, out)
        return self._keep_padded(out, weight, buf, xp, g)

    def _keep_padded(self, out, weight, buf, xp, g):
        """The direct and depthwise routes' end: keep what backward needs (the weight for
        dL/dx, the padded input for dL/dW; its buffer goes back to the workspace if
        unneeded) and return out (O, N, H, W) in the caller's layout."""
        need_x, need_w = self.needs_input_grad[:2]
        self.geom = g
        self.weight = weight if need_x else None
        self.xbuf, self.xp = (buf, xp) if need_w else (None, None)
        if not need_w:
            WORKSPACE.give(buf)
        return out.transpose(1, 0, 2, 3).reshape(g.out_shape)

    def _direct_backward(self, gy, g, ws):
        # dL/dW[o, c, p, q] = sum over (n, i, j) of dL/dY[o, n, i, j] xp[c, n, i+p, j+q];
        # dL/dx = dL/dY padded by kernel-1-pad, convolved with W flipped, C and O swapped;
        # dL/db = dL/dY summed over the batch and every position
        need = self.needs_input_grad
        gx = gw = gb = None
        (kh, kw), (top, bottom, left, right) = g.kernel, g.pads
        (ho, wo), wp = g.out_hw, g.padded_hw[1]
        gbuf = None
        if need[0]:
            gbuf, gyp = native.padded(gy, (kh - 1 - top, kh - 1 - bottom, kw - 1 - left,
                                           kw - 1 - right), ws)
        if need[1] or (len(need) == 3 and need[2]):
            # conv_weight_grad and the bias sum read dL/dY in rows as wide as xp's, zeros
            # on the right: the padded dL/dY has them when its rows are that wide ('same'
            # padding), else a widened copy is made
            if gbuf is not None and gyp.shape[3] == wp:
                start = (kh - 1 - top) * wp + kw - 1 - left
                rows = gyp.reshape(g.o, g.n, -1)[:, :, start:start + ho * wp]
                buf = None
            else:
                buf, wide = native.padded(gy, (0, 0, 0, wp - wo), ws)
                rows = wide.reshape(g.o, g.n, ho * wp)
            if need[1]:
                gw = native.conv_weight_grad(rows, ho, self.xp, g.kernel, np.empty(
                    (g.o, g.c * kh * kw), gy.dtype)).reshape(g.w_shape)
            if len(need) == 3 and need[2]:
                gb = (rows @ np.ones(rows.shape[2], gy.dtype)).sum(axis=1)  # GEMVs: 5x .sum
            ws.give(buf)
        if need[0]:
            w4 = self.weight.reshape(g.o, g.c, kh, kw)
            flipped = w4[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                  # C, O, kh, kw
            dx = native.conv_direct(gyp, native.pack_weight(flipped), None, g.c,
                                    np.empty((g.c, g.n, *g.in_hw), gy.dtype))
            ws.give(gbuf)
            gx = dx.transpose(1, 0, 2, 3).reshape(g.x_shape)
        return gx, gw, gb

    def _pointwise_forward(self, xt, weight, bias, g):
        """A 1x1 convolution (stride 1, no padding, one group) is one GEMM on the input
        itself, W (O, C) @ x (C, N*H*W): its patch matrix would be a copy of x. In the
        (C, N, H, W) layout the previous layers leave, x needs no copy either."""
        need_x, need_w = self.needs_input_grad[:2]
        x2 = np.ascontiguousarray(xt).reshape(g.c, g.m)       # no copy when laid out so
        out = np.empty((g.o, g.n, *g.out_hw), xt.dtype)
        w2 = weight.reshape(g.o, g.c)
        np.matmul(w2, x2, out=out.reshape(g.o, g.m))
        if bias is not None:
            flat = out.reshape(g.o, g.m)
            flat += bias[:, None]
        self.geom = g
        self.w = w2 if need_x else None
        self.x2 = x2 if need_w else None
        return out.transpose(1, 0, 2, 3).reshape(g.out_shape)

    def _pointwise_backward(self, grad, gy, g, ws):
        # dL/dx = W^T dL/dY, dL/dW = dL/dY x^T (as _weight_grad takes it), dL/db = row sums
        need = self.needs_input_grad
        copied = not gy.flags.c_contiguous
        if copied:
            gy = _swap01(grad, (g.n, g.o, g.hw), ws)
        gy2 = gy.reshape(g.o, g.m)
        gx = gw = gb = None
        if need[0]:
            dx = np.empty((g.c, g.n, *g.in_hw), gy.dtype)
            np.matmul(self.w.T, gy2, out=dx.reshape(g.c, g.m))
            gx = dx.transpose(1, 0, 2, 3).reshape(g.x_shape)
        if need[1]:
            gw = np.ascontiguousarray(np.matmul(self.x2, gy2.T).T).reshape(g.w_shape)
        if len(need) == 3 and need[2]:
            gb = gy2 @ np.ones(g.m, gy.dtype)
        if copied:
            ws.give(gy)
        return gx, gw, gb

    def _depthwise_forward(self, xt, weight, bias, g):
        """One filter per channel (native.depthwise): the padded input convolved plane by
        plane, no patch matrix. Backward keeps the padded input, for dL/dW."""
        buf, xp = native.padded(xt, g.pads, WORKSPACE)
        out = np.empty((g.o, g.n, *g.out_hw), xt.dtype)
        native.depthwise(xp, np.ascontiguousarray(weight).reshape(g.c, *g.kernel),
                         None if bias is None else np.ascontiguousarray(bias), g, out,
                         padded=True)
        return self._keep_padded(out, weight, buf, xp, g)

    def _depthwise_backward(self, gy, g):
        # dL/dx: at stride 1, the convolution of dL/dY padded by kernel-1-pad with the
        # flipped filters; otherwise each output's gradient added onto what it read
        need = self.needs_input_grad
        gx = gw = gb = None
        (kh, kw), (top, bottom, left, right) = g.kernel, g.pads
        if need[0]:
            w3 = np.ascontiguousarray(self.weight).reshape(g.c, kh, kw)
            dx = np.empty((g.c, g.n, *g.in_hw), gy.dtype)
            if g.stride == (1, 1) and g.dilation == (1, 1) and max(g.pads[:2]) < kh \
                    and max(g.pads[2:]) < kw:
                buf, gyp = native.padded(gy, (kh - 1 - top, kh - 1 - bottom, kw - 1 - left,
                                              kw - 1 - right), WORKSPACE)
                flipped = np.ascontiguousarray(w3[:, ::-1, ::-1])
                native.depthwise(gyp, flipped, None, ConvGeometry(
                    "conv2d", (g.n, g.c, *gyp.shape[2:]), (g.c, 1, kh, kw), 1, 0, 1, g.c),
                    dx, padded=True)
                WORKSPACE.give(buf)
            else:
                native.depthwise_input_grad(gy, w3, g, dx)
            gx = dx.transpose(1, 0, 2, 3).reshape(g.x_shape)
        if need[1]:
            gw = native.depthwise_weight_grad(self.xp, gy, g, np.empty(
                (g.c, kh, kw), gy.dtype), padded=True).reshape(g.w_shape)
        if len(need) == 3 and need[2]:
            gb = gy.sum(axis=(1, 2, 3))
        return gx, gw, gb

    def release(self):
        WORKSPACE.give(self.__dict__.get("cols"), self.__dict__.get("xbuf"))
        super().release()


def _im2col(xt, g, ws):
    """The patch matrix of xt (C, N, H, W), as a workspace array (C, kh, kw, N, Ho, Wo)."""
    if native.supports(xt):
        cols = ws.take((g.c, *g.kernel, g.n, *g.out_hw), xt.dtype)
        return native.im2col(xt, g.pads, g.kernel, g.stride, g.dilation, g.out_hw, cols)
    copied = any(g.pads) or not xt.flags.c_contiguous
    xp = K.pad_spatial(xt, g.pads, 0, ws) if copied else xt
    cols = K.im2col(xp, g.kernel, g.out_hw, g.stride, g.dilation, ws)
    if copied:
        ws.give(xp)
    return cols


def _input_grad(gy3, w, g, ws):
    """dL/dx in x's shape, as an NCHW view of a (C, N, H, W) array (see Conv)."""
    if any(g.pads) and not native.supports(gy3):
        dx = conv_input_grad(gy3, w, g, ws)
        gx = np.empty(dx.shape, dx.dtype)
        np.copyto(gx, dx)
        ws.give(dx.base)
    else:                                  # the whole image is dL/dx: no copy
        gx = conv_input_grad(gy3, w, g, ws, out=np.empty((g.c, g.n, *g.in_hw), gy3.dtype))
    return gx.transpose(1, 0, 2, 3).reshape(g.x_shape)


def _weight_grad(gy3, cols, g):
    """dL/dW = dL/dY cols^T, taken the other way round, (cols dL/dY^T)^T: both operands
    are long in the summed N*Ho*Wo dim, and in this orientation OpenBLAS's two threads
    share the work evenly. Measured on this machine's shapes: within 10% of the other
    order on a quiet machine, and 5-50x faster when other processes load the cores (the
    other order then waits, tick after tick, for a descheduled thread)."""
    gw = np.matmul(cols, gy3.transpose(0, 2, 1))               # G, C/G*kh*kw, O/G
    return np.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(g.w_shape)


def check_conv_args(op, nd, x, weight, bias, groups, weight_layout):
    """The argument checks convolutions and transposed convolutions share: types, ranks,
    dtypes and groups. `weight_layout` names the weight's first two dims in the message."""
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
                         f"got input of shape {tuple(x.shape)}")
    if weight.ndim != nd + 2:
        dims = "kH, kW" if nd == 2 else "kL"
        raise ValueError(f"{op}: expected a {nd + 2}-D weight ({weight_layout}, {dims}), "
                         f"got shape {tuple(weight.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: {name} dtype {t.dtype} does not match input dtype {x.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


def _check_conv(op, nd, x, weight, bias, groups):
    check_conv_args(op, nd, x, weight, bias, groups, "out_channels, in_channels/groups")
    o, c = weight.shape[0], x.shape[-nd - 1]
    if o == 0 or o % groups:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} does not match "
                         f"groups={groups}: out_channels {o} is not a positive multiple of groups")
    if c != weight.shape[1] * groups:
        raise ValueError(f"{op}: expected input with {weight.shape[1] * groups} channels, got {c} "
                         f"(input {tuple(x.shape)}, weight {tuple(weight.shape)}, groups={groups})")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: expected bias of shape ({o},) for weight "
                         f"{tuple(weight.shape)}, got {tuple(bias.shape)}")


# Without a graph (inference), a big batch is convolved in slices whose patch matrix is
# about this many bytes: the matrix is then written and read back while still in cache.
# Measured on cnn-mnist's layers at batch 1000: conv 1->16 62.6 -> 12.3 ms, conv 16->32
# 108 -> 60-72 ms. With a graph the whole patch matrix is kept for dL/dW anyway.
_INFERENCE_COLS_BYTES = 8 << 20


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_conv(op, nd, input, weight, bias, groups)
    geom = ConvGeometry(op, input.shape, weight.shape, stride, padding, dilation, int(groups))
    tensors = (input, weight) if bias is None else (input, weight, bias)
    per_image = geom.cols_shape[0] * geom.cols_shape[1] * geom.hw * input._array.itemsize
    rows = max(1, _INFERENCE_COLS_BYTES // per_image)
    graph = is_grad_enabled() and any(t.requires_grad for t in tensors)
    if (geom.n > 2 * rows and len(input.shape) == nd + 2 and not graph and not geom.pointwise
            and not native.direct(input._array, geom)):   # these two need no patch matrix
        return _sliced_conv(op, input, tensors[1:], geom, rows,
                            (stride, padding, dilation, int(groups)))
    return Conv.apply(*tensors, geom=geom)


def _sliced_conv(op, input, params, geom, rows, options):
    """The batch in slices of `rows` images, each through Conv, into one output laid out
    as Conv's own: an (N, O, Ho, Wo) view of an (O, N, Ho, Wo) array."""
    out = np.empty((geom.o, geom.n, geom.hw), input._array.dtype)
    for start in range(0, geom.n, rows):
        part = Tensor._make(input._array[start:start + rows], False, None)
        g = ConvGeometry(op, part.shape, params[0].shape, *options)
        y = Conv.apply(part, *params, geom=g)._array                # (n, O, Ho, Wo) view
        out[:, start:start + g.n] = np.moveaxis(y, 0, 1).reshape(g.o, g.n, g.hw)  # no copy
    return Tensor._make(out.transpose(1, 0, 2).reshape(geom.out_shape), False, None)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L) input with weight (O, C/groups, k)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) input with weight (O, C/groups, kH, kW).

    padding: an int, a pair, 'valid' (none), 'same' (output as large as the input;
    stride 1 only; an odd total goes to the bottom/right, as in PyTorch), or
    ((top, bottom), (left, right)) for any asymmetric padding.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
