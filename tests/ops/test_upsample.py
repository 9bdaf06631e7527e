"""interpolate / Upsample against PyTorch: every mode and align_corners, sizes up and down,
integer and fractional scale factors (whose index rule differs from size=), gradients,
float64 finite differences, the layers and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F
from glassnet.ops.upsample import Interpolate, _axis_map
from parity import check_op, gradcheck_op

LINEAR = {3: "linear", 4: "bilinear"}


def _check(shape, **kw):
    check_op([shape], lambda x: TF.interpolate(x, **kw), lambda x: F.interpolate(x, **kw),
             rtol=1e-5, atol=1e-5)


SIZES = [  # (input shape, size or scale_factor)
    ((2, 3, 5, 7), {"scale_factor": 2}),
    ((2, 3, 5, 7), {"scale_factor": 3}),
    ((2, 3, 5, 7), {"scale_factor": 1.5}),
    ((2, 3, 6, 7), {"scale_factor": 0.5}),
    ((2, 3, 9, 8), {"scale_factor": (1 / 3, 2.5)}),
    ((2, 3, 5, 7), {"scale_factor": (2, 1)}),
    ((2, 3, 5, 7), {"scale_factor": 1.1}),                   # output = input: PyTorch copies
    ((2, 3, 5, 7), {"size": (10, 14)}),
    ((2, 3, 5, 7), {"size": (8, 11)}),
    ((2, 3, 9, 8), {"size": (4, 3)}),                        # down
    ((2, 3, 9, 8), {"size": (13, 5)}),                       # up and down
    ((2, 3, 5, 7), {"size": 6}),
    ((2, 3, 4, 4), {"size": (1, 1)}),
    ((1, 2, 1, 1), {"size": (3, 4)}),
    ((2, 3, 7), {"scale_factor": 2}),
    ((2, 3, 7), {"scale_factor": 3}),
    ((2, 3, 7), {"scale_factor": 1.5}),
    ((2, 3, 8), {"scale_factor": 0.5}),
    ((2, 3, 7), {"size": 12}),
    ((2, 3, 12), {"size": (5,)}),
]


@pytest.mark.parametrize("shape,kw", SIZES)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest(shape, kw, mode):
    _check(shape, mode=mode, **kw)


@pytest.mark.parametrize("shape,kw", SIZES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_linear(shape, kw, align_corners):
    _check(shape, mode=LINEAR[len(shape)], align_corners=align_corners, **kw)


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 70), dict(size=150, mode="linear")),
    ((1, 2, 90), dict(scale_factor=0.7, mode="linear", align_corners=True)),
    ((1, 2, 70), dict(scale_factor=1.5, mode="nearest")),
    ((1, 2, 66, 5), dict(size=(100, 7), mode="bilinear")),
    ((1, 2, 5, 81), dict(size=(3, 40), mode="nearest-exact")),
])
def test_long_axes_take_the_sparse_backward(shape, kw):
    """Past AxisMap.DENSE_UP_TO input pixels, backward sums runs instead of a GEMM."""
    _check(shape, **kw)


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False),
                                                ("bilinear", True)])
@pytest.mark.parametrize("scale", [1.5, 0.7, 2.3])
def test_recompute_scale_factor(mode, align_corners, scale):
    _check((2, 2, 7, 9), scale_factor=scale, mode=mode, align_corners=align_corners,
           recompute_scale_factor=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("images", [False, True])
def test_index_rules_match_pytorch_everywhere(dtype, images):
    """Every input length 1..16 to every output length 1..40 and some beyond (ties such as
    (20 + 0.5) * 2/41 = 1, which float32 rounds down), and by awkward scale factors,
    whose float rounding decides which pixel is read: the forward picks the same pixels
    (PyTorch's 1-D and 2-D kernels round differently, so both are checked)."""
    modes = [("nearest", None), ("nearest-exact", None), (LINEAR[3 + images], False),
             (LINEAR[3 + images], True)]
    tol = 1e-4 if dtype == np.float32 else 1e-10     # a wrong pixel is off by ~1 or more
    for n in range(1, 17):
        x = np.arange(n * 2 ** images, dtype=dtype).reshape((1, 1, n) + (2,) * images) * 7 % 11
        calls = [dict(size=(m,) + (2,) * images) for m in [*range(1, 41), 41, 47, 55, 61, 82]]
        calls += [dict(scale_factor=(f,) + (1.0,) * images)
                  for f in (0.3, 0.7, 1.1, 1.5, 2.01, 2.5, 3.3, 2 / 3, 4.1) if int(n * f) >= 1]
        for kw in calls:
            for mode, ac in modes:
                got = F.interpolate(gn.tensor(x, dtype=dtype), mode=mode, align_corners=ac, **kw)
                want = TF.interpolate(torch.tensor(x), mode=mode, align_corners=ac, **kw)
                np.testing.assert_allclose(got._array, want.numpy(), rtol=0, atol=tol,
                                           err_msg=f"{n} {kw} {mode} {ac}")


def test_nearest_1d_gradient_is_the_adjoint_of_its_forward():
    """PyTorch's 1-D nearest backward assumes out == in is a copy, while its forward reads
    floor(j / 1.1): glassnet matches the forward and keeps the gradient its true adjoint."""
    x = gn.tensor(np.arange(5.0), requires_grad=True).reshape(1, 1, 5)
    y = F.interpolate(x, scale_factor=1.1)
    np.testing.assert_array_equal(y._array, TF.interpolate(torch.arange(5.0)[None, None],
                                                         scale_factor=1.1).numpy())
    gradcheck_op([(1, 2, 5)], lambda t: F.interpolate(t, scale_factor=1.1))
    gradcheck_op([(1, 2, 5)], lambda t: F.interpolate(t, scale_factor=2.01))


def test_keeps_float64():
    rng = np.random.default_rng(1)
    out = check_op(None, lambda x: TF.interpolate(x, scale_factor=1.5, mode="bilinear"),
                   lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
                   values=[rng.standard_normal((2, 2, 5, 4))], rtol=1e-12, atol=1e-12)
    assert out[0].dtype == np.float64


@pytest.mark.parametrize("shape,kw", [
    ((2, 2, 3, 4), dict(scale_factor=2, mode="nearest")),
    ((2, 2, 5, 4), dict(size=(3, 7), mode="nearest")),
    ((2, 2, 5, 4), dict(size=(3, 7), mode="nearest-exact")),
    ((2, 2, 3, 4), dict(scale_factor=1.5, mode="bilinear", align_corners=False)),
    ((2, 2, 5, 4), dict(size=(3, 7), mode="bilinear", align_corners=True)),
    ((2, 2, 5), dict(scale_factor=2.5, mode="linear")),
    ((2, 2, 6), dict(size=4, mode="linear", align_corners=True)),
])
def test_gradcheck(shape, kw):
    gradcheck_op([shape], lambda x: F.interpolate(x, **kw))


@pytest.mark.parametrize("kw,kinds", [
    (dict(scale_factor=2), ("repeat", "repeat")),
    (dict(scale_factor=(3, 2)), ("repeat", "repeat")),
    (dict(size=(12, 8)), ("repeat", "same")),
    (dict(scale_factor=0.5), ("every", "every")),
    (dict(scale_factor=1.5), (None, None)),
])
def test_integer_factors_take_the_index_free_path(kw, kinds):
    x = gn.randn(2, 3, 4, 8)
    maps = [_axis_map("nearest", n, m, f, False, np.dtype(np.float32))
            for n, m, f in zip((4, 8), F.interpolate(x, **kw).shape[2:],
                               np.broadcast_to(kw.get("scale_factor", 0), 2))]
    assert tuple(m.kind for m in maps) == kinds


def test_no_grad_records_nothing_and_backward_saves_no_arrays():
    x = gn.randn(2, 3, 4, 4, requires_grad=True)
    with gn.no_grad():
        assert not F.interpolate(x, scale_factor=2).requires_grad
    y = F.interpolate(x, scale_factor=1.5, mode="bilinear")
    assert isinstance(y._ctx, Interpolate)
    assert not any(isinstance(v, np.ndarray) and v.size >= x._array.size
                   for v in vars(y._ctx).values())


# ------------------------------------------------------------------------------- modules
@pytest.mark.parametrize("make,shape", [
    (lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
    (lambda m: m.Upsample(scale_factor=1.5, mode="bilinear"), (2, 3, 4, 5)),
    (lambda m: m.Upsample(size=(7, 3), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    (lambda m: m.Upsample(scale_factor=(2, 3), mode="nearest"), (2, 3, 4, 5)),
    (lambda m: m.Upsample(size=9, mode="linear"), (2, 3, 4)),
    (lambda m: m.UpsamplingNearest2d(scale_factor=3), (2, 3, 4, 5)),
    (lambda m: m.UpsamplingNearest2d(size=(5, 9)), (2, 3, 4, 5)),
    (lambda m: m.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4, 5)),
    (lambda m: m.UpsamplingBilinear2d(size=(3, 8)), (2, 3, 4, 5)),
])
def test_modules(make, shape):
    tm, m = make(torch.nn), make(nn)
    assert repr(m) == repr(tm)
    assert m.state_dict() == {}
    check_op([shape], tm, m, rtol=1e-5, atol=1e-5)


def test_upsample_is_interpolate():
    x = gn.randn(1, 2, 3, 3)
    np.testing.assert_array_equal(F.upsample(x, scale_factor=2, mode="bilinear")._array,
                                  F.interpolate(x, scale_factor=2, mode="bilinear")._array)


# -------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,error,match", [
    (lambda x: F.interpolate(x, size=4, scale_factor=2), ValueError,
     r"interpolate: only one of size or scale_factor should be defined"),
    (lambda x: F.interpolate(x), ValueError,
     r"interpolate: either size or scale_factor should be defined"),
    (lambda x: F.interpolate(x, scale_factor=2, align_corners=True), ValueError,
     r"interpolate: align_corners can only be set with the interpolating modes"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="linear"), ValueError,
     r"interpolate: mode 'linear' needs 3-D input \(N, C, ...\), got input of shape "
     r"\(1, 2, 3, 3\)"),
    (lambda x: F.interpolate(x[0], scale_factor=2, mode="bilinear"), ValueError,
     r"interpolate: mode 'bilinear' needs 4-D input"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"), ValueError,
     r"interpolate: unsupported mode 'bicubic'"),
    (lambda x: F.interpolate(x, size=(4, 4, 4)), ValueError,
     r"interpolate: input of shape \(1, 2, 3, 3\) has 2 spatial dim\(s\), but size=\(4, 4, 4\)"),
    (lambda x: F.interpolate(x, size=(4.0, 4)), TypeError,
     r"interpolate: expected size to be an int or a tuple of 2"),
    (lambda x: F.interpolate(x, scale_factor=0.2), ValueError,
     r"interpolate: input and output sizes should be greater than 0, got input \(3, 3\) and "
     r"output \(0, 0\)"),
    (lambda x: F.interpolate(x, size=5, recompute_scale_factor=True), ValueError,
     r"recompute_scale_factor is not meaningful with an explicit size"),
    (lambda x: F.interpolate(x.long(), scale_factor=2), TypeError,
     r"interpolate: expected a floating-point input, got int64"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(gn.ones(1, 2, 3, 3))
