"""conv_transpose1d / conv_transpose2d and ConvTranspose1d/2d against PyTorch: every
argument form, every gradient, float64 finite differences, output_size, the errors."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F
from glassnet._kernels.workspace import WORKSPACE
from parity import check_op, gradcheck_op

# every test here runs with the compiled loops and with the NumPy ones
pytestmark = pytest.mark.usefixtures("kernels")


def _tolerance(w_shape, groups, stride):
    # float32 sums of up to T products of values ~4 in size: forward sums C_in*kh*kw/stride^2
    # stamps per output pixel, dL/dx C_out/groups*kh*kw products, dL/dW N*H*W of them
    # (bounded here by 400): atol grows with T, rtol stays 1e-4
    k = math.prod(w_shape[2:])
    terms = max(w_shape[0] * k, w_shape[1] * k, 400 // max(groups, 1) + k)
    return dict(rtol=1e-4, atol=max(1e-5, 4e-7 * terms))


def _check(fn_name, x_shape, w_shape, bias, kw):
    c_out = w_shape[1] * kw.get("groups", 1)
    shapes = [x_shape, w_shape] + ([(c_out,)] if bias else [])
    tfn, gfn = getattr(TF, fn_name), getattr(F, fn_name)
    check_op(shapes, lambda *a: tfn(*a[:2], a[2] if bias else None, **kw),
             lambda *a: gfn(*a[:2], a[2] if bias else None, **kw),
             **_tolerance(w_shape, kw.get("groups", 1), kw.get("stride", 1)))


CASES_2D = [  # (input, weight (C_in, C_out/groups, kH, kW), kwargs)
    ((2, 3, 5, 6), (3, 4, 3, 3), {}),
    ((2, 3, 5, 6), (3, 4, 2, 2), {"stride": 2}),                             # the U-Net upsampler
    ((2, 3, 5, 6), (3, 4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 3, 4, 5), (3, 2, 4, 4), {"stride": 2, "padding": 1}),               # DCGAN's
    ((2, 3, 5, 4), (3, 2, 3, 2), {"stride": 3, "padding": (2, 1), "output_padding": (2, 1)}),
    ((2, 3, 5, 5), (3, 4, 3, 3), {"stride": (1, 2), "padding": (0, 1), "output_padding": (0, 1)}),
    ((2, 3, 6, 5), (3, 2, 3, 3), {"dilation": 2}),
    ((2, 3, 6, 5), (3, 2, 3, 2), {"dilation": (2, 1), "stride": 2, "padding": 2}),
    ((2, 3, 5, 5), (3, 2, 3, 3), {"dilation": 2, "output_padding": 1}),      # < dilation, = stride
    ((2, 3, 5, 5), (3, 2, 3, 3), {"dilation": 2, "padding": 3, "output_padding": 1}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"groups": 2, "stride": 2, "padding": 1}),
    ((2, 6, 5, 5), (6, 1, 3, 3), {"groups": 3, "stride": 2, "output_padding": 1}),
    ((2, 4, 5, 6), (4, 1, 3, 3), {"groups": 4, "padding": 1}),               # depthwise
    ((2, 4, 5, 6), (4, 2, 4, 4), {"groups": 4, "stride": 2, "padding": 1}),  # depthwise x2
    ((2, 5, 4, 4), (5, 3, 1, 1), {}),                                        # pointwise
    ((2, 5, 4, 4), (5, 3, 1, 1), {"stride": 2, "output_padding": 1}),
    ((2, 3, 1, 7), (3, 2, 1, 3), {"stride": (1, 2), "padding": (0, 1)}),
    ((2, 3, 7, 3), (3, 2, 5, 1), {"padding": (4, 0)}),                       # output shrinks
    ((1, 2, 1, 1), (2, 3, 3, 3), {}),                                        # one pixel
    ((3, 2, 4, 4), (2, 3, 5, 5), {"stride": 3, "padding": 2, "output_padding": 2}),
    ((0, 3, 5, 5), (3, 4, 3, 3), {"stride": 2}),                             # empty batch
]


@pytest.mark.parametrize("x_shape,w_shape,kw", CASES_2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d(x_shape, w_shape, kw, bias):
    _check("conv_transpose2d", x_shape, w_shape, bias, kw)


def _random_cases(n, seed=7):
    """Random configurations: stride 1-3, dilation 1-2, padding up to what keeps the output
    non-empty, any valid output_padding, groups incl. depthwise, non-square kernels."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in = groups * int(rng.integers(1, 4))
        c_out_g = int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        hw = tuple(int(v) for v in rng.integers(1, 8, 2))
        p = tuple(int(rng.integers(0, 3)) for _ in range(2))
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        out = [(h - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
               for h, si, pi, di, ki, oi in zip(hw, s, p, d, k, op)]
        if min(out) < 1:
            continue
        kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=groups)
        batch = () if rng.random() < 0.2 else (int(rng.integers(1, 4)),)
        cases.append(((*batch, c_in, *hw), (c_in, c_out_g, *k), kw, bool(rng.random() < 0.7)))
    return cases


@pytest.mark.parametrize("x_shape,w_shape,kw,bias", _random_cases(40))
def test_conv_transpose2d_random(x_shape, w_shape, kw, bias):
    _check("conv_transpose2d", x_shape, w_shape, bias, kw)


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((3, 5, 6), (3, 4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((4, 5, 5), (4, 1, 3, 2), {"groups": 4}),
])
def test_conv_transpose2d_unbatched(x_shape, w_shape, kw):
    _check("conv_transpose2d", x_shape, w_shape, True, kw)


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((2, 3, 7), (3, 4, 3), {}),
    ((2, 3, 7), (3, 4, 4), {"stride": 2, "padding": 1}),
    ((2, 3, 7), (3, 2, 3), {"stride": 3, "padding": 1, "output_padding": 2}),
    ((2, 3, 7), (3, 2, 3), {"dilation": 3, "output_padding": 2}),
    ((2, 4, 6), (4, 2, 3), {"groups": 2, "stride": 2, "output_padding": (1,)}),
    ((2, 4, 6), (4, 1, 5), {"groups": 4, "padding": 2}),                   # depthwise
    ((3, 7), (3, 4, 3), {"stride": 2}),                                     # unbatched
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose1d(x_shape, w_shape, kw, bias):
    _check("conv_transpose1d", x_shape, w_shape, bias, kw)


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    """The definition: <conv_transpose2d(y, W), x> = <y, conv2d(x, W)> for every x, y."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 3))
    kw = dict(stride=2, padding=1, dilation=1, groups=2)
    y = F.conv2d(gn.tensor(x, dtype=gn.float64), gn.tensor(w, dtype=gn.float64), **kw)
    g = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(gn.tensor(g, dtype=gn.float64), gn.tensor(w, dtype=gn.float64),
                              output_padding=(0, 1), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(back._array * x), np.sum(g * y._array), rtol=1e-10)


def test_only_some_inputs_need_grad():
    for requires in ([False, True, True], [True, False, False], [False, False, True]):
        check_op([(2, 3, 5, 5), (3, 4, 3, 3), (4,)],
                 lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1),
                 lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
                 requires_grad=requires)


def test_keeps_float64():
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(s) for s in [(2, 3, 5, 4), (3, 2, 3, 3), (2,)]]
    out = check_op(None, lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1, 1),
                   lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), values=values,
                   rtol=1e-10, atol=1e-12)
    assert out[0].dtype == np.float64


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((2, 2, 3, 4), (2, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 3, 3), (4, 1, 3, 3), {"groups": 4, "dilation": 2, "output_padding": 1}),
    ((1, 4, 3, 2), (4, 2, 2, 3), {"groups": 2, "stride": (3, 1), "padding": (2, 1)}),
    ((3, 3, 3), (3, 2, 2, 2), {"stride": 2}),
])
def test_gradcheck_conv_transpose2d(x_shape, w_shape, kw):
    c_out = w_shape[1] * kw.get("groups", 1)
    gradcheck_op([x_shape, w_shape, (c_out,)],
                 lambda x, w, b: F.conv_transpose2d(x, w, b, **kw))


def test_gradcheck_conv_transpose1d():
    gradcheck_op([(2, 2, 4), (2, 3, 3), (3,)], lambda x, w, b: F.conv_transpose1d(
        x, w, b, stride=2, padding=1, output_padding=1))


def test_a_repeated_step_allocates_no_scratch():
    x = gn.randn(4, 6, 7, 7, requires_grad=True)
    w, b = gn.randn(6, 4, 3, 3, requires_grad=True), gn.randn(4, requires_grad=True)
    step = lambda: F.conv_transpose2d(x, w, b, 2, 1, 1).sum().backward()  # noqa: E731
    step()
    misses = WORKSPACE.misses
    step()
    assert WORKSPACE.misses == misses


def test_no_grad_records_nothing():
    x, w = gn.randn(2, 3, 4, 4, requires_grad=True), gn.randn(3, 2, 3, 3, requires_grad=True)
    with gn.no_grad():
        y = F.conv_transpose2d(x, w, stride=2)
    assert not y.requires_grad and y.shape == (2, 2, 9, 9)


# ------------------------------------------------------------------------------- modules
def _torch_copy(module, tmodule):
    """Load the torch module's parameters into the glassnet one, by state-dict name."""
    module.load_state_dict({k: v.detach().numpy() for k, v in tmodule.state_dict().items()})


@pytest.mark.parametrize("args,kw,x_shape,output_size", [
    ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 5), None),
    ((4, 6, 3), dict(stride=2, padding=1), (2, 4, 5, 5), (10, 10)),
    ((4, 6, 3), dict(stride=2, padding=1), (2, 4, 5, 5), (2, 6, 9, 10)),     # with N, C
    ((4, 6, (3, 2)), dict(stride=(3, 2), bias=False), (4, 5, 4), (16, 9)),   # unbatched
    ((3, 3, 4), dict(stride=2, padding=1, dilation=2, groups=3), (2, 3, 4, 5), [12, 13]),
])
def test_conv_transpose2d_module(args, kw, x_shape, output_size):
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(*args, **kw)
    m = nn.ConvTranspose2d(*args, **kw)
    assert repr(m) == repr(tm)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    _torch_copy(m, tm)
    check_op([x_shape], lambda x: tm(x, output_size), lambda x: m(x, output_size),
             rtol=1e-4, atol=2e-5)
    params = [p.grad._array for p in m.parameters()]
    assert all(p is not None for p in params)


def test_conv_transpose1d_module():
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1)
    m = nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1)
    assert repr(m) == repr(tm)
    _torch_copy(m, tm)
    check_op([(2, 3, 6)], lambda x: tm(x), lambda x: m(x))
    check_op([(2, 3, 6)], lambda x: tm(x, [11]), lambda x: m(x, [11]))


def test_conv_transpose_module_default_init():
    """PyTorch's rule: kaiming_uniform(a=sqrt(5)) on the (C_in, C_out/groups, k, k) weight,
    so weight and bias lie in +-1/sqrt(fan_in), fan_in = C_out/groups * k * k."""
    gn.manual_seed(0)
    m = nn.ConvTranspose2d(64, 32, 4, groups=2)
    assert m.weight.shape == (64, 16, 4, 4) and m.bias.shape == (32,)
    bound = 1 / math.sqrt(16 * 4 * 4)
    for p in (m.weight._array, m.bias._array):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    assert abs(m.weight._array.std() - bound / math.sqrt(3)) < 0.05 * bound


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2)(gn.ones(1, 4, 5, 5), output_size=(13, 11)),
     ValueError, r"ConvTranspose2d: requested an output size of \(13, 11\), but valid sizes "
                 r"range from \(11, 11\) to \(12, 12\)"),
    (lambda: nn.ConvTranspose2d(4, 6, 3)(gn.ones(1, 4, 5, 5), output_size=(7, 7, 7)),
     ValueError, r"ConvTranspose2d: for 4-D input, output_size must have 2 or 4 elements"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=4), ValueError, r"must both be divisible"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding="same"), ValueError,
     r"ConvTranspose2d: padding must be numbers"),
])
def test_module_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,match", [
    (lambda: F.conv_transpose2d(gn.ones(2, 3, 5, 5), gn.ones(4, 2, 3, 3)),
     r"conv_transpose2d: expected input with 4 channels, got 3"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), output_padding=1),
     r"conv_transpose2d: output_padding must be smaller than either stride or dilation, got "
     r"output_padding=\(1, 1\), stride=\(1, 1\), dilation=\(1, 1\)"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), stride=2,
                                output_padding=(1, 2)),
     r"output_padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), padding=4),
     r"conv_transpose2d: the output would be \(-1, -1\) for an input of size \(5, 5\)"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), padding=-1),
     r"conv_transpose2d: negative padding is not supported"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), groups=3),
     r"conv_transpose2d: weight of shape \(4, 2, 3, 3\) does not match groups=3"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), gn.ones(4)),
     r"conv_transpose2d: expected bias of shape \(2,\)"),
    (lambda: F.conv_transpose2d(gn.ones(4, 5), gn.ones(4, 2, 3, 3)),
     r"conv_transpose2d: expected 3-D \(unbatched\) or 4-D \(batched\) input"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3)),
     r"conv_transpose2d: expected a 4-D weight \(in_channels, out_channels/groups, kH, kW\)"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), stride=0),
     r"conv_transpose2d: stride must be positive"),
    (lambda: F.conv_transpose2d(gn.ones(2, 4, 5, 5), gn.ones(4, 2, 3, 3), padding="same"),
     r"conv_transpose2d: expected padding to be an int or a tuple of 2 ints"),
    (lambda: F.conv_transpose1d(gn.ones(2, 3, 5), gn.ones(4, 2, 3)),
     r"conv_transpose1d: expected input with 4 channels, got 3"),
    (lambda: F.conv_transpose1d(gn.ones(2, 4, 5), gn.ones(4, 2, 3), stride=2, output_padding=2),
     r"conv_transpose1d: output_padding must be smaller"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match=r"conv_transpose2d: weight dtype float32 does not match "
                                        r"input dtype float64"):
        F.conv_transpose2d(gn.ones(1, 2, 3, 3, dtype=gn.float64), gn.ones(2, 2, 3, 3))
    with pytest.raises(TypeError, match=r"conv_transpose2d: input must be a Tensor"):
        F.conv_transpose2d(np.ones((1, 2, 3, 3)), gn.ones(2, 2, 3, 3))
