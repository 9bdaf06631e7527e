"""Transposed convolution: `conv_transpose1d` and `conv_transpose2d`.

    y[n, o, i*s + p*d - pad, j*s + q*d - pad] += x[n, c, i, j] * W[c, o, p, q]

Every input pixel stamps its kernel, scaled, onto the output, `stride` apart;
overlapping stamps add up. That is exactly the input gradient of a convolution
whose weight is W (C_in, C_out/groups, kh, kw) read as (O, C/groups, kh, kw):
the convolution maps a (C_out, Ho, Wo) image to a (C_in, H, W) one, and its
transpose maps back. So the forward here is `conv_input_grad` of ops/conv.py
(W^T x, then col2im), and the backward is that convolution's forward: im2col of
dL/dY, then one GEMM with W for dL/dx and one with x for dL/dW.

The convolution is set up on the *full* extent the stamps cover,
R = (H-1)*s + d*(k-1) + 1 per dim, with no padding of its own; the output is
then the window [pad, pad + Ho) of that extent, where
Ho = R - 2*pad + output_padding. output_padding only adds rows past the end;
those that lie beyond R receive no stamp and stay zero.
"""
import numpy as np

from ..autograd.function import Function
from .._kernels import windows as K
from .._kernels.workspace import WORKSPACE
from .conv import ConvGeometry, _as_2d, _ints, _swap01, check_conv_args, conv_input_grad

__all__ = ["conv_transpose1d", "conv_transpose2d"]


class TransposeGeometry:
    """The shapes of one transposed convolution, checked, in 2-D terms (1-D has height 1).

    `conv` is the geometry of the convolution it transposes: input (N, C_out, *R),
    output (N, C_in, H, W). `crop` is, per dim, (first row of the output inside R,
    how many output rows lie inside R).
    """

    def __init__(self, op, nd, x_shape, w_shape, stride, padding, output_padding, dilation,
                 groups):
        stride, dilation = _ints(stride, nd, "stride", op), _ints(dilation, nd, "dilation", op)
        padding = _ints(padding, nd, "padding", op)
        out_pad = _ints(output_padding, nd, "output_padding", op)
        if min(stride) <= 0:
            raise ValueError(f"{op}: stride must be positive, got stride={stride}")
        if min(dilation) <= 0:
            raise ValueError(f"{op}: dilation must be positive, got dilation={dilation}")
        if min(padding) < 0 or min(out_pad) < 0:
            raise ValueError(f"{op}: negative padding is not supported, got padding={padding}, "
                             f"output_padding={out_pad}")
        if any(op_ >= max(s, d) for op_, s, d in zip(out_pad, stride, dilation)):
            raise ValueError(f"{op}: output_padding must be smaller than either stride or "
                             f"dilation, got output_padding={out_pad}, stride={stride}, "
                             f"dilation={dilation}")
        kernel, spatial = tuple(w_shape[2:]), tuple(x_shape[-nd:])
        if min(spatial) < 1:
            raise ValueError(f"{op}: expected a non-empty image, got input of shape "
                             f"{tuple(x_shape)}")
        reach = tuple((h - 1) * s + d * (k - 1) + 1
                      for h, s, d, k in zip(spatial, stride, dilation, kernel))
        out = tuple(r - 2 * p + o for r, p, o in zip(reach, padding, out_pad))
        if min(out) < 1:
            raise ValueError(f"{op}: the output would be {out} for an input of size {spatial} "
                             f"(stride={stride}, padding={padding}, dilation={dilation}, "
                             f"kernel {kernel}): the output size is too small")
        batched = len(x_shape) == nd + 2
        n = x_shape[0] if batched else 1
        self.out_hw, reach2 = _as_2d(out, nd, 1), _as_2d(reach, nd, 1)
        self.conv = ConvGeometry(op, (n, w_shape[1] * groups, *reach2),
                                 (w_shape[0], w_shape[1], *_as_2d(kernel, nd, 1)),
                                 _as_2d(stride, nd, 1), 0, _as_2d(dilation, nd, 1), groups)
        self.crop = tuple((min(p, r), max(0, min(o, r - p)))
                          for p, r, o in zip(_as_2d(padding, nd, 0), reach2, self.out_hw))
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)
        self.out_shape = ((n,) if batched else ()) + (self.conv.c,) + out


class ConvTranspose(Function):
    """conv_transpose1d/2d with the bias fused: the forward is a convolution's col2im
    backward, the backward that convolution's im2col + GEMM forward."""

    def forward(self, x, weight, bias=None, *, geom):
        g, c, ws = geom, geom.conv, WORKSPACE
        need_x, need_w = self.needs_input_grad[:2]
        xs = _swap01(x, (c.n, c.o, c.hw), ws)                 # C_in, N, H*W
        x3 = xs.reshape(c.groups, c.o // c.groups, c.m)
        full = conv_input_grad(x3, weight.reshape(c.groups, c.o // c.groups, -1), c, ws)
        y = np.empty((c.n, c.c, *g.out_hw), x.dtype)          # N, C_out, Ho, Wo
        (top, hh), (left, ww) = g.crop
        inside = full[:, :, top:top + hh, left:left + ww].transpose(1, 0, 2, 3)
        b = 0 if bias is None else bias[:, None, None]
        np.add(inside, b, out=y[:, :, :hh, :ww])    # the layout copy adds the bias on the way
        y[:, :, hh:] = b                      # output_padding past the stamps' reach
        y[:, :, :hh, ww:] = b
        ws.give(full.base)
        self.geom = g
        self.w = weight if need_x else None
        self.x3 = x3 if need_w else None      # back to the workspace in release()
        if not need_w:
            ws.give(xs)
        return y.reshape(g.out_shape)

    def backward(self, grad):
        # Y = col2im(W^T X) + b:  dL/dcols = im2col(dL/dY),  dL/dX = W dL/dcols (a conv2d
        # of dL/dY with W),  dL/dW = X dL/dcols^T (a correlation),  dL/db = sum of dL/dY
        g, c, ws = self.geom, self.geom.conv, WORKSPACE
        need = self.needs_input_grad
        gy = grad.reshape(c.n, c.c, *g.out_hw)
        (top, hh), (left, ww) = g.crop
        (rh, rw) = c.in_hw
        gyt = gy[:, :, :hh, :ww].transpose(1, 0, 2, 3)        # C_out, N, rows inside R
        gp = K.pad_spatial(gyt, (top, rh - top - hh, left, rw - left - ww), 0, ws)
        cols = K.im2col(gp, c.kernel, c.out_hw, c.stride, c.dilation, ws)
        ws.give(gp)
        cols3 = cols.reshape(c.cols_shape)                    # G, C_out/G*kh*kw, N*H*W
        gx = gw = gb = None
        if need[0]:
            dx = ws.take((c.groups, c.o // c.groups, c.m), grad.dtype)
            np.matmul(self.w.reshape(c.groups, c.o // c.groups, -1), cols3, out=dx)
            gx = _swap01(dx, (c.o, c.n, c.hw)).reshape(g.x_shape)
            ws.give(dx)
        if need[1]:
            gw = np.matmul(self.x3, cols3.transpose(0, 2, 1)).reshape(g.w_shape)
        ws.give(cols)
        if len(need) == 3 and need[2]:
            hw = g.out_hw[0] * g.out_hw[1]
            gb = (gy.reshape(c.n, c.c, hw) @ np.ones(hw, gy.dtype)).sum(0)
        return gx, gw, gb

    def release(self):
        x3 = self.__dict__.get("x3")
        WORKSPACE.give(None if x3 is None else x3.base)
        super().release()


def _check(op, nd, x, weight, bias, groups):
    check_conv_args(op, nd, x, weight, bias, groups, "in_channels, out_channels/groups")
    c_in = weight.shape[0]
    if c_in == 0 or c_in % groups or weight.shape[1] == 0:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} does not match "
                         f"groups={groups}: in_channels {c_in} is not a positive multiple of "
                         f"groups")
    if x.shape[-nd - 1] != c_in:
        raise ValueError(f"{op}: expected input with {c_in} channels, got {x.shape[-nd - 1]} "
                         f"(input {tuple(x.shape)}, weight {tuple(weight.shape)})")
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: expected bias of shape ({c_out},) for weight "
                         f"{tuple(weight.shape)} and groups={groups}, got {tuple(bias.shape)}")


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    _check(op, nd, input, weight, bias, groups)
    geom = TransposeGeometry(op, nd, input.shape, weight.shape, stride, padding, output_padding,
                             dilation, int(groups))
    tensors = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose.apply(*tensors, geom=geom)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of (N, C_in, L) or (C_in, L) input with weight
    (C_in, C_out/groups, k); output length (L-1)*stride - 2*padding + dilation*(k-1)
    + output_padding + 1."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) or (C_in, H, W) input
    with weight (C_in, C_out/groups, kH, kW), PyTorch's argument order. Each output dim is
    (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1; output_padding (smaller
    than stride or dilation) picks one of the sizes a stride-s convolution maps to H."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
