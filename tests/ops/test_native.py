"""The compiled loops (glassnet/_kernels/native.c) against the NumPy loops they replace,
directly, on geometries the op-level tests do not reach: strided and flipped inputs,
asymmetric padding, windows that run off both edges, and the split into thread parts.
(The ops themselves run with both kinds of loop in test_conv.py, test_pool.py and
test_conv_transpose.py.)"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet._kernels import blas, native, windows as K
from glassnet.ops.pool import PoolGeometry

needs_lib = pytest.mark.skipif(native.LIB is None, reason="compiled loops not built")

GEOMETRIES = [  # (C, N, H, W, kernel, stride, dilation, pads (top, bottom, left, right))
    (16, 4, 14, 14, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2)),
    (1, 3, 28, 28, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2)),
    (3, 2, 11, 9, (3, 2), (2, 3), (2, 1), (1, 0, 0, 2)),
    (2, 3, 7, 13, (1, 4), (3, 1), (1, 2), (0, 0, 3, 1)),
    (4, 1, 5, 5, (5, 5), (1, 1), (1, 1), (4, 4, 4, 4)),        # windows mostly padding
    (2, 2, 6, 6, (2, 2), (2, 2), (1, 1), (0, 1, 0, 1)),         # 'same' with an even kernel
    (3, 2, 1, 17, (1, 3), (1, 2), (1, 3), (0, 0, 1, 1)),        # conv1d
]


def _geometry(h, w, kernel, stride, dilation, pads):
    return tuple(K.conv_out_size(s, k, st, d, lo, hi) for s, k, st, d, lo, hi in zip(
        (h, w), kernel, stride, dilation, pads[::2], pads[1::2]))


def _inputs(c, n, h, w, rng):
    """The same values as a C-contiguous (C, N, H, W) array, as the (C, N, H, W) view of
    an NCHW array, and as a view with negative and doubled strides."""
    x = rng.standard_normal((c, n, h, w)).astype(np.float32)
    nchw = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    big = np.zeros((c, n, h, 2 * w), np.float32)
    big[..., ::2] = x[..., ::-1]
    flipped = big[..., ::2][..., ::-1]
    return [x, nchw, flipped]


@needs_lib
@pytest.mark.parametrize("c,n,h,w,kernel,stride,dilation,pads", GEOMETRIES)
def test_im2col_matches_the_numpy_loop(c, n, h, w, kernel, stride, dilation, pads):
    rng = np.random.default_rng(0)
    out_hw = _geometry(h, w, kernel, stride, dilation, pads)
    for x in _inputs(c, n, h, w, rng):
        expected = K.im2col(K.pad_spatial(x, pads), kernel, out_hw, stride, dilation)
        cols = np.full(expected.shape, np.nan, np.float32)       # every entry must be written
        native.im2col(x, pads, kernel, stride, dilation, out_hw, cols)
        np.testing.assert_array_equal(cols, expected)


@needs_lib
@pytest.mark.parametrize("c,n,h,w,kernel,stride,dilation,pads", GEOMETRIES)
def test_col2im_matches_the_numpy_loop(c, n, h, w, kernel, stride, dilation, pads):
    rng = np.random.default_rng(1)
    out_hw = _geometry(h, w, kernel, stride, dilation, pads)
    cols = rng.standard_normal((c, *kernel, n, *out_hw)).astype(np.float64)
    padded = (c, n, h + pads[0] + pads[1], w + pads[2] + pads[3])
    slabs = (cols[:, :, q].transpose(1, 0, 2, 3, 4) for q in range(kernel[1]))
    expected = K.col2im(slabs, padded, kernel, out_hw, stride, dilation, np.float64)
    expected = expected[..., pads[0]:pads[0] + h, pads[2]:pads[2] + w]
    dx = np.full((c, n, h, w), np.nan)
    native.col2im(cols, pads, kernel, stride, dilation, out_hw, dx)
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)


@needs_lib
def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for any x and c: the defining property of the backward
    rng = np.random.default_rng(2)
    for c, n, h, w, kernel, stride, dilation, pads in GEOMETRIES:
        out_hw = _geometry(h, w, kernel, stride, dilation, pads)
        x = rng.standard_normal((c, n, h, w))
        cols = rng.standard_normal((c, *kernel, n, *out_hw))
        patches = native.im2col(x, pads, kernel, stride, dilation, out_hw, np.empty_like(cols))
        back = native.col2im(cols, pads, kernel, stride, dilation, out_hw, np.empty_like(x))
        assert np.isclose(np.vdot(patches, cols), np.vdot(x, back), rtol=1e-10)


@needs_lib
@pytest.mark.parametrize("layout", ["nchw", "cnhw", "strided"])
def test_max_pool_values_and_argmax(layout, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 9, 11)).astype(np.float32)
    x[0, 0, 1:3, 1:3] = 7.0                      # a tie: the first maximum wins
    x[1, 1, :3, :3] = -np.inf                    # a window of -inf: its first tap inside x
    x[2, 2, 4, 5], x[2, 2, 5, 5] = np.nan, np.nan  # NaN wins, the last one
    if layout == "cnhw":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    elif layout == "strided":
        big = np.zeros((3, 4, 9, 22), np.float32)
        big[..., ::2] = x
        x = big[..., ::2]
    for kernel, stride, pad, dilation in [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (2, 3, 1, 1)]:
        geom = PoolGeometry("max_pool2d", gn.tensor(x), 2, kernel, stride, pad, dilation, True)
        y, arg = native.max_pool(x, geom, True)
        with monkeypatch.context() as m:                   # the reference: the NumPy loops
            m.setattr(native, "LIB", None)
            ref, idx = gn.nn.functional.max_pool2d(gn.tensor(x), kernel, stride, pad, dilation,
                                                   True, return_indices=True)
        np.testing.assert_array_equal(y, ref.numpy())
        np.testing.assert_array_equal(arg, idx.numpy())
        assert y.strides[:2] == tuple(sorted(y.strides[:2], reverse=x.strides[0] > x.strides[1]))


@needs_lib
def test_parts_on_threads_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5, 12, 12)).astype(np.float32)
    pads, kernel, out_hw = (1, 1, 1, 1), (3, 3), (12, 12)
    whole = native.im2col(x, pads, kernel, (1, 1), (1, 1), out_hw,
                          np.empty((6, 3, 3, 5, 12, 12), np.float32))
    back = native.col2im(whole, pads, kernel, (1, 1), (1, 1), out_hw, np.empty_like(x))
    monkeypatch.setattr(native, "_MIN_PART_BYTES", 1)
    monkeypatch.setattr(native, "_CORES", 3)
    assert len(native._split(6, 5, 10 ** 6)) == 6         # one row of 6 each
    parts = native.im2col(x, pads, kernel, (1, 1), (1, 1), out_hw, np.empty_like(whole))
    np.testing.assert_array_equal(parts, whole)
    np.testing.assert_array_equal(native.col2im(whole, pads, kernel, (1, 1), (1, 1), out_hw,
                                                np.empty_like(x)), back)


def test_in_parts_runs_every_part_once_and_reports_errors():
    from glassnet._kernels.windows import in_parts
    seen = []
    in_parts(seen.append, list(range(50)))
    assert sorted(seen) == list(range(50))

    def fail_on_7(i):
        if i == 7:
            raise ValueError("part 7")
    with pytest.raises(ValueError, match="part 7"):
        in_parts(fail_on_7, list(range(20)))
    in_parts(seen.append, [1, 2])                      # the pool is still usable


def test_split_covers_the_leading_axes_once(monkeypatch):
    monkeypatch.setattr(native, "_CORES", 4)
    for a, b in [(1, 1), (64, 16), (1, 64), (3, 2), (5, 7)]:
        seen = np.zeros((a, b), int)
        for a0, a1, b0, b1 in native._split(a, b, 1 << 30):
            seen[a0:a1, b0:b1] += 1
        assert (seen == 1).all()
    assert native._split(64, 16, 100) == [(0, 64, 0, 16)]      # too small to share


def test_the_install_builds_the_compiled_loops():
    # The README's install compiles glassnet/_kernels/native.c; if it silently failed,
    # everything would still work, only slower: say so here instead.
    if os.environ.get("GLASSNET_NATIVE") == "0":
        pytest.skip("GLASSNET_NATIVE=0 turns the compiled loops off")
    assert native.LIB is not None, (
        "glassnet._kernels._native was not built: install a C compiler and the Python "
        "headers (Debian: gcc, python3-dev), then `pip install -e .` again")


def test_glassnet_native_0_turns_them_off():
    code = "from glassnet._kernels import native; print(native.LIB is None)"
    env = dict(os.environ, GLASSNET_NATIVE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr


@needs_lib
@pytest.mark.parametrize("groups", [1, 2])
def test_conv_input_grad_in_several_rounds(monkeypatch, groups):
    # dL/dx position-major, a few images per round, against the NumPy loops in one round
    import glassnet.ops.conv as conv
    rng = np.random.default_rng(5)
    x = gn.tensor(rng.standard_normal((5, 4, 9, 8)), dtype=gn.float64, requires_grad=True)
    w = gn.tensor(rng.standard_normal((6, 4 // groups, 3, 2)), dtype=gn.float64)
    g = rng.standard_normal((5, 6, 5, 8))

    def grad():
        x.grad = None
        gn.nn.functional.conv2d(x, w, None, (2, 1), (1, 1), (1, 2), groups).backward(gn.tensor(
            g, dtype=gn.float64))
        return x.grad.numpy()

    monkeypatch.setattr(conv, "_POSITION_CHUNK_BYTES", 8 * 5 * 8 * 4 * 6 * 2)  # 2 images/round
    rounds = grad()
    monkeypatch.setattr(native, "LIB", None)
    np.testing.assert_allclose(rounds, grad(), rtol=1e-12, atol=1e-12)


DIRECT_CASES = [  # (N, C, O, H, W, kh, kw, padding): row tails, O not a multiple of 6 or 4
    (3, 1, 16, 28, 28, 5, 5, 2),
    (2, 16, 32, 14, 14, 5, 5, 2),
    (2, 3, 7, 9, 37, 3, 4, "same"),
    (1, 5, 5, 6, 3, 2, 2, 0),
    (5, 2, 9, 17, 23, 3, 3, 1),
    (2, 4, 13, 8, 8, 1, 3, (0, 1)),             # (1x1 without padding: one GEMM, not here)
    (1, 3, 2, 5, 40, 5, 1, (2, 0)),
    (2, 3, 8, 6, 26, 3, 3, 0),                 # 24 wide: a block of 16 and one of 8
    (2, 16, 32, 8, 8, 2, 2, "same"),           # rows of <= 8 go in pairs (2 rows x 8 x 6)
    (3, 6, 7, 7, 5, 3, 3, 1),                  # an odd number of short rows: one left over
]


@pytest.mark.skipif(not native.DIRECT, reason="no direct convolution on this CPU")
@pytest.mark.parametrize("n,c,o,h,w,kh,kw,padding", DIRECT_CASES)
def test_direct_convolution_against_torch(monkeypatch, n, c, o, h, w, kh, kw, padding):
    import torch
    calls = []
    for name in ("conv_direct", "conv_weight_grad"):
        fn = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, fn=fn, name=name: calls.append(name) or fn(*a))
    rng = np.random.default_rng(6)
    shapes = ((n, c, h, w), (o, c, kh, kw), (o,))
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [gn.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = gn.nn.functional.conv2d(*ours, padding=padding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # torch's note about 'same' with even kernels
        ty = torch.nn.functional.conv2d(*theirs, padding=padding)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(gn.tensor(g))
    ty.backward(torch.tensor(g))
    assert calls.count("conv_direct") == 2 and calls.count("conv_weight_grad") == 1
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not native.DIRECT, reason="no direct convolution on this CPU")
def test_direct_convolution_is_not_used_where_it_does_not_apply(monkeypatch):
    calls = []
    monkeypatch.setattr(native, "conv_direct", lambda *a: calls.append(a))
    x = gn.randn(2, 4, 9, 9)
    for kw in [dict(stride=2), dict(dilation=2), dict(groups=2), dict(padding=3)]:
        w = gn.randn(4, 4 // kw.get("groups", 1), 3, 3)
        gn.nn.functional.conv2d(x, w, **kw)
    gn.nn.functional.conv2d(x.double(), gn.randn(4, 4, 3, 3).double())
    gn.nn.functional.conv2d(x, gn.randn(64, 4, 3, 3))      # 7 wide, 64 channels: im2col
    assert calls == []
    gn.nn.functional.conv2d(x, gn.randn(32, 4, 3, 3))
    assert len(calls) == 1


@pytest.mark.skipif(not native.DIRECT, reason="no direct convolution on this CPU")
def test_direct_convolution_takes_strided_weights_and_bias(monkeypatch):
    rng = np.random.default_rng(7)
    x = gn.tensor(rng.standard_normal((2, 3, 9, 9)).astype(np.float32))
    w = gn.tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32))[::2]      # 4 filters
    b = gn.tensor(rng.standard_normal(8).astype(np.float32))[::2]
    direct = gn.nn.functional.conv2d(x, w, b, padding=1).numpy()
    monkeypatch.setattr(native, "LIB", None)
    loops = gn.nn.functional.conv2d(x, w, b, padding=1).numpy()
    np.testing.assert_allclose(direct, loops, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not native.DIRECT, reason="no AVX2 on this CPU")
@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
def test_max_pool_2x2_fast_path_ties_nan_and_tails(monkeypatch, layout):
    calls = []
    fast = native.LIB.max_pool2x2_f32
    monkeypatch.setattr(native.LIB, "max_pool2x2_f32", lambda *a: calls.append(1) or fast(*a))
    rng = np.random.default_rng(8)
    x = rng.integers(-2, 3, (3, 4, 10, 39)).astype(np.float32)   # many ties; 19 windows a row
    x[0, 0, 0, :8] = np.nan                  # NaN windows in the 8-wide steps...
    x[0, 1, 2, 36:38] = np.nan               # ... and in the row's tail
    x[1, 2, :2, :] = -np.inf                 # windows of -inf
    if layout == "cnhw":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    t = gn.tensor(x, requires_grad=True)
    y, idx = gn.nn.functional.max_pool2d(t, 2, return_indices=True)
    y.backward(gn.ones_like(y))
    assert calls, "the 2x2 path was not taken"
    monkeypatch.setattr(native, "LIB", None)
    t2 = gn.tensor(x, requires_grad=True)
    y2, idx2 = gn.nn.functional.max_pool2d(t2, 2, return_indices=True)
    y2.backward(gn.ones_like(y2))
    np.testing.assert_array_equal(y.detach().numpy(), y2.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), idx2.numpy())
    np.testing.assert_array_equal(t.grad.numpy(), t2.grad.numpy())


_SPIN = """
import time, numpy as np
a = np.ones((1024, 1024), np.float32)
for _ in range(3):
    a @ a
start = time.process_time()
time.sleep(0.4)
print(time.process_time() - start)
"""


@pytest.mark.parametrize("code, quiet", [
    ("import numpy; import glassnet", True),
    ("import glassnet; import numpy", True),
    ("import numpy", False),          # the control: OpenBLAS's threads spin after a product
])
def test_openblas_threads_sleep_after_products_whatever_the_import_order(code, quiet):
    """The CPU time the process burns while its main thread sleeps right after a few
    matrix products: OpenBLAS's idle workers spin ~2^28 cycles by default; with glassnet
    imported, before or after NumPy (_kernels/blas.py), they sleep at once -- and no
    PerformanceWarning is needed."""
    import numpy
    if "openblas" not in str(numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]):
        pytest.skip("NumPy is not built on OpenBLAS here")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-W", "always", "-c", code + "\n" + _SPIN],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "PerformanceWarning" not in out.stderr
    spun = float(out.stdout.split()[-1])
    assert (spun < 0.02) if quiet else (spun > 0.03), spun


@needs_lib
@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
def test_compiled_batch_norm_is_accurate_and_keeps_the_layout(layout, monkeypatch):
    # float32 values far from 0 (mean 1000, std 1), 64K per channel: the statistics are
    # summed in double, so the result matches float64 arithmetic closely
    import glassnet.ops.normalization as N
    calls = []
    monkeypatch.setattr(native, "bn_stats", lambda *a, f=native.bn_stats: calls.append(1) or f(*a))
    rng = np.random.default_rng(9)
    x64 = 1000 + rng.standard_normal((64, 3, 32, 32))
    x = x64.astype(np.float32)
    if layout == "cnhw":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    t = gn.tensor(x, requires_grad=True)
    y = gn.nn.functional.batch_norm(t, None, None, training=True)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y.backward(gn.tensor(g))
    assert calls and N._compiled(t._array)
    assert y._array.strides[0] < y._array.strides[1] if layout == "cnhw" else True
    mean = x.astype(np.float64).mean(axis=(0, 2, 3), keepdims=True)
    var = x.astype(np.float64).var(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), x_hat, atol=2e-3)
    g_mean = g.mean(axis=(0, 2, 3), keepdims=True)
    gx_mean = (g * x_hat).mean(axis=(0, 2, 3), keepdims=True)
    dx = (g - g_mean - x_hat * gx_mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(t.grad.numpy(), dx, atol=2e-3)


@pytest.mark.skipif(not native.DIRECT, reason="no AVX2 on this CPU")
@pytest.mark.parametrize("layout", ["c", "cnhw", "strided"])
def test_compiled_gelu_matches_float64_and_the_numpy_path(monkeypatch, layout):
    """The one-pass float32 GELU (native_gelu.h) against the float64 NumPy formula: values
    to float32 rounding where y is a normal float (the far left tail included, where
    erfc is tiny), slopes to 1e-6 of their terms' size, the same zeros, infinities and
    NaNs as the NumPy path; every layout, and a length that is not a multiple of 8."""
    calls = []
    fast = native.LIB.gelu_f32
    monkeypatch.setattr(native.LIB, "gelu_f32", lambda *a: calls.append(1) or fast(*a))
    v = np.linspace(-15, 12, 3 * 5 * 7 * 11 * 13 - 27, dtype=np.float32)
    specials = np.array([0, -0.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf, np.nan,
                         1e-45, -1e-45, -0.7517916, 5, -5, 9, -9, 13.5, -13.5, 14.9, -14.9,
                         20, -20, -40, -41, 39, 100, -100], np.float32)
    flat = np.concatenate([v, specials])
    x = {"c": flat.reshape(3, 5, 7, 11, 13),
         "cnhw": np.ascontiguousarray(flat.reshape(3, 5, 7, 143).transpose(1, 0, 2, 3))
         .transpose(1, 0, 2, 3),
         "strided": np.repeat(flat, 2)[::2].reshape(3, 5, 7, 11, 13)}[layout]

    def gelu(a, grad=True):
        t = gn.from_numpy(a.copy()).requires_grad_(grad)      # float64 stays float64
        y = gn.gelu(t)
        if not grad:
            return y.numpy(), None
        y.backward(gn.ones_like(y))
        return y.detach().numpy(), t.grad.numpy()

    with np.errstate(invalid="ignore"):
        y, slope = gelu(x)
        y_only, _ = gelu(x, grad=False)
        assert len(calls) == 2
        monkeypatch.setattr(native, "DIRECT", False)
        y_np, slope_np = gelu(x)
        y64, slope64 = gelu(x.astype(np.float64))
    assert y.shape == x.shape and slope.shape == x.shape
    np.testing.assert_array_equal(y, y_only)
    for a, b in ((y, y_np), (slope, slope_np)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(a[~np.isnan(a)] == 0, b[~np.isnan(b)] == 0)
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    x64 = x.astype(np.float64)
    finite = np.isfinite(y64) & (np.abs(y64) > np.finfo(np.float32).tiny)
    np.testing.assert_allclose(y[finite], y64[finite], rtol=2e-5)
    small = finite & (np.abs(x64) < 6)         # in float32 the rounding of x / sqrt 2 alone
    np.testing.assert_allclose(y[small], y64[small], rtol=4e-6)   # moves e^-z^2 by 2e-6 at z 4
    error, numpy_error = (np.abs(a[finite] - y64[finite]) / np.abs(y64[finite]) for a in (y, y_np))
    assert error.max() <= 1.1 * numpy_error.max()
    ok = np.isfinite(slope64)
    x64 = x64[ok]
    size = 1 + np.abs(x64) * np.exp(-np.minimum(x64 * x64, 1e4) / 2)  # |Phi| + |x phi|, roughly
    assert np.all(np.abs(slope[ok] - slope64[ok]) <= 1e-6 * size)


DEPTHWISE = [  # (C, N, H, W, kernel, stride, padding, dilation)
    (3, 2, 9, 21, (3, 3), 1, 1, 1),             # the nine-tap loops, with an 8-lane tail
    (4, 3, 8, 16, (3, 3), 1, 1, 1),             # ... rows of whole 8-lane steps
    (3, 2, 9, 13, (3, 3), 2, 1, 1),             # stride 2: dL/dx added onto the inputs
    (2, 2, 10, 11, (3, 5), (1, 2), (0, 2), (2, 1)),
    (5, 1, 6, 7, (2, 2), 1, "same", 1),         # even kernel: the extra pad at the end
    (2, 2, 5, 5, (5, 5), 1, 4, 1),              # windows mostly padding
]


@needs_lib
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c,n,h,w,kernel,stride,padding,dilation", DEPTHWISE)
def test_depthwise_loops_match_torch_and_the_patch_matrix_path(
        monkeypatch, dtype, c, n, h, w, kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    calls = []
    for name in ("depthwise", "depthwise_input_grad", "depthwise_weight_grad"):
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, _f=real, **k: calls.append(1) or _f(*a, **k))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    x_cnhw = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    weight = rng.standard_normal((c, 1, *kernel)).astype(dtype)
    bias = rng.standard_normal(c).astype(dtype)
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=c)

    def ours(array):
        t, wt, bt = (gn.from_numpy(a.copy()).requires_grad_() for a in (array, weight, bias))
        y = gn.conv2d(t, wt, bt, **options)
        g = np.arange(y.numel(), dtype=dtype).reshape(y.shape) % 7 - 3.0
        y.backward(gn.from_numpy(g.astype(dtype)))
        return [y.detach().numpy(), t.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()], g

    results, g = ours(x)
    assert calls, "the depthwise loops were not taken"
    assert all(np.allclose(a, b) for a, b in zip(results, ours(x_cnhw)[0]))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **options)
    ty.backward(torch.tensor(g))
    expected = [ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()]
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for got, want in zip(results, expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)
    monkeypatch.setattr(native, "is_depthwise", lambda *a: False)
    calls.clear()
    for got, want in zip(results, ours(x)[0]):
        np.testing.assert_allclose(got, want, **tol)
    assert not calls


@needs_lib
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["c", "cnhw", "strided"])
def test_compiled_hardtanh_matches_torch_on_the_bounds_nan_and_layouts(monkeypatch, dtype,
                                                                       layout):
    torch = pytest.importorskip("torch")
    calls = []
    for name in ("clamp", "clamp_backward"):
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, _f=real: calls.append(1) or _f(*a))
    values = np.array([-np.inf, -7, -1, -0.0, 0, 1e-30, 0.5, 1, 5.999, 6, 6.001, 9, np.inf,
                       np.nan], dtype)
    flat = np.resize(values, 3 * 4 * 5 * 7) * np.repeat([1, -1, 2], 140)[:420].astype(dtype)
    x = {"c": flat.reshape(3, 4, 5, 7),
         "cnhw": np.ascontiguousarray(flat.reshape(4, 3, 5, 7)).transpose(1, 0, 2, 3),
         "strided": np.repeat(flat, 2)[::2].reshape(3, 4, 5, 7)}[layout]
    g = (np.arange(x.size) % 5 + 1).reshape(x.shape).astype(dtype)
    for fn, tfn in ((gn.nn.functional.relu6, torch.nn.functional.relu6),
                    (lambda t: gn.nn.functional.hardtanh(t, -1.0, 1.0),
                     lambda t: torch.nn.functional.hardtanh(t, -1.0, 1.0))):
        calls.clear()
        t = gn.from_numpy(x.copy()).requires_grad_()
        y = fn(t)
        y.backward(gn.from_numpy(g))
        assert len(calls) == 2
        tt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
        ty = tfn(tt)
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        # at NaN inputs torch's own gradient is 0 in its vector loop and dL/dy in its
        # scalar tail; glassnet's is 0 everywhere
        nan = np.isnan(x)
        np.testing.assert_array_equal(t.grad.numpy()[~nan], tt.grad.numpy()[~nan])
        assert not t.grad.numpy()[nan].any()


@pytest.mark.skipif(not native.rnn_loops(np.float32), reason="no compiled RNN loops here")
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("hidden,bidirectional,scale,batch", [
    (64, False, 1.0, 3), (13, True, 1.0, 3), (20, False, 6.0, 3), (13, True, 1.0, 17)])
def test_compiled_recurrent_loops_match_the_numpy_loops(monkeypatch, kind, hidden,
                                                        bidirectional, scale, batch):
    """native_rnn.h against ops/recurrent.py's NumPy walks: outputs, final states and every
    gradient of a 2-layer LSTM / GRU, both directions, a hidden size that is not a
    multiple of 8, weights large enough (scale 6) to saturate the gates, and a batch of 17
    walked as two halves on two threads (the split forced, whatever this machine)."""
    calls, parts = [], []
    names = ("lstm_forward", "lstm_backward") if kind == "LSTM" else ("gru_forward",
                                                                      "gru_backward")
    for name in names:
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, _f=real: calls.append(1) or _f(*a))
    if batch >= 16:
        monkeypatch.setattr(native, "_WALK_SPLIT_MACS", 0)
        monkeypatch.setattr(native, "_CORES", 2)
        real_parts = native.in_parts
        monkeypatch.setattr(native, "in_parts",
                            lambda fn, ps: parts.append(len(ps)) or real_parts(fn, ps))

    def run():
        gn.manual_seed(0)
        layer = getattr(gn.nn, kind)(5, hidden, num_layers=2, batch_first=True,
                                     bidirectional=bidirectional)
        for p in layer.parameters():
            p._array *= scale
        x = gn.from_numpy(np.random.default_rng(1).standard_normal((batch, 9, 5))
                          .astype(np.float32)).requires_grad_()
        out, state = layer(x)
        states = state if kind == "LSTM" else (state,)
        loss = (out * out).sum()
        for k, s in enumerate(states):
            loss = loss + (s * s).sum() * (0.5 / (k + 1))
        loss.backward()
        return [out.detach().numpy(), *(s.detach().numpy() for s in states),
                x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]

    fused = run()
    assert len(calls) == 2 * 2 * (2 if bidirectional else 1)
    if batch >= 16 and blas._thread_controls() is not None:   # a BLAS held to one thread
        assert parts == [2] * len(calls)
    monkeypatch.setattr(native, "rnn_loops", lambda dtype: False)
    # saturated gates (tanh within an ulp or two of +-1) turn the two tanh's last-bit
    # differences into relative differences of 1 - tanh^2: looser there
    rtol, atol = (2e-5, 2e-6) if scale == 1 else (2e-4, 2e-4)
    for got, want in zip(fused, run()):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(1, np.abs(want).max()))


@pytest.mark.skipif(not native.rnn_loops(np.float32), reason="no compiled RNN loops here")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("reverse,batch", [(False, 4), (True, 4), (False, 18)])
def test_compiled_recurrent_loops_record_the_same_gradient_norms(monkeypatch, kind, reverse,
                                                                 batch):
    if batch >= 16:                                 # two halves: their squares added
        monkeypatch.setattr(native, "_WALK_SPLIT_MACS", 0)
        monkeypatch.setattr(native, "_CORES", 2)
    rng = np.random.default_rng(2)
    g = 4 if kind == "lstm" else 3
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.5
              for s in ((11, batch, 3), (8 * g, 3), (8 * g, 8), (8 * g,), (8 * g,))]

    def norms():
        x, w_ih, w_hh, b_ih, b_hh = (gn.from_numpy(a.copy()).requires_grad_() for a in arrays)
        seen = []
        layer = getattr(gn.ops.recurrent, f"{kind}_layer")
        out, _ = layer(x, None, w_ih, w_hh, b_ih, b_hh, reverse=reverse, record=seen.append)
        (out * out).sum().backward()
        return seen[0]

    fused = norms()
    monkeypatch.setattr(native, "rnn_loops", lambda dtype: False)
    np.testing.assert_allclose(fused, norms(), rtol=1e-5)


def test_one_blas_thread_inside_the_block_and_restored_after():
    controls = blas._thread_controls()
    if controls is None:
        pytest.skip("the loaded BLAS has no OpenBLAS thread controls")
    before = controls[0]()
    with pytest.raises(KeyError):
        with blas.one_thread() as alone:
            assert alone and controls[0]() == 1
            raise KeyError("restored even so")
    assert controls[0]() == before
