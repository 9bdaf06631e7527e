"""conv1d / conv2d against torch.nn.functional: every argument form, every gradient,
float64 finite differences, the error messages, and the scratch-buffer workspace."""
import math

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from glassnet._kernels.workspace import WORKSPACE, Workspace
from parity import check_op, gradcheck_op

# PyTorch warns that it copies the input for 'same' with even kernels; glassnet pads anyway.
# Every test here runs with the compiled loops and with the NumPy ones.
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel"),
              pytest.mark.usefixtures("kernels")]


def _tolerance(x_shape, w_shape, groups=1):
    # A float32 sum of T products of values up to ~4 in size is off by up to ~T * 4 * 6e-8:
    # conv sums C/groups*kH*kW products forward, N*Ho*Wo of them for dL/dW. atol scales with
    # T (and never goes below the harness's 1e-5); rtol stays at 1e-4.
    channels = x_shape[-(len(w_shape) - 1)]
    terms = max(math.prod(w_shape[1:]),                      # forward
                math.prod(x_shape) // max(channels, 1),      # dL/dW: N*H*W bounds N*Ho*Wo
                w_shape[0] // groups * math.prod(w_shape[2:]))   # dL/dx
    return dict(rtol=1e-4, atol=max(1e-5, 4e-7 * terms))


def _check_conv(fn_name, x_shape, w_shape, bias, kw):
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    tfn, gfn = getattr(TF, fn_name), getattr(gn, fn_name)
    check_op(shapes, lambda *a: tfn(*a[:2], a[2] if bias else None, **kw),
             lambda *a: gfn(*a[:2], a[2] if bias else None, **kw),
             **_tolerance(x_shape, w_shape, kw.get("groups", 1)))


CONV2D_CASES = [  # (input, weight, kwargs)
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((2, 3, 7, 8), (4, 3, 3, 2), {"padding": 1}),
    ((2, 3, 9, 7), (5, 3, 3, 3), {"stride": 2}),
    ((2, 3, 9, 7), (5, 3, 3, 3), {"stride": 3, "padding": 2}),
    ((2, 3, 10, 9), (4, 3, 2, 3), {"stride": (2, 1), "padding": (1, 0)}),
    ((2, 3, 10, 9), (4, 3, 3, 3), {"dilation": 2}),
    ((2, 3, 11, 10), (4, 3, 3, 2), {"dilation": (2, 1), "padding": (2, 1), "stride": (1, 2)}),
    ((2, 3, 11, 10), (4, 3, 3, 3), {"dilation": 2, "stride": 2, "padding": 1}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": "same"}),
    ((2, 3, 7, 8), (4, 3, 4, 2), {"padding": "same"}),                  # even: bottom/right extra
    ((2, 3, 8, 7), (4, 3, 2, 4), {"padding": "same", "dilation": (2, 3)}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": "valid"}),
    ((2, 4, 7, 8), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 6, 7, 8), (6, 2, 3, 3), {"groups": 3, "stride": 2}),
    ((2, 4, 7, 8), (4, 1, 3, 3), {"groups": 4, "padding": 1}),           # depthwise
    ((2, 4, 7, 8), (8, 1, 3, 3), {"groups": 4, "padding": "same"}),      # depthwise x2
    ((2, 4, 9, 9), (8, 1, 5, 5), {"groups": 4, "stride": 2, "padding": 2, "dilation": 1}),
    ((2, 8, 6, 5), (4, 8, 1, 1), {}),                                    # pointwise
    ((2, 8, 6, 5), (4, 8, 1, 1), {"stride": 2}),
    ((1, 1, 5, 5), (1, 1, 5, 5), {}),                                    # kernel = image
    ((3, 2, 1, 9), (2, 2, 1, 3), {"padding": (0, 1)}),
    ((2, 3, 5, 13), (4, 3, 5, 1), {"padding": (2, 0), "stride": (1, 3)}),
    ((4, 1, 12, 12), (5, 1, 5, 5), {"padding": 2}),                      # the MNIST CNN, small
    ((2, 5, 6, 6), (7, 5, 5, 5), {"padding": 2}),
    ((3, 7, 6, 6), (8, 7, 3, 3), {"padding": [1, 1], "stride": [1]}),    # lists, length 1
    ((0, 3, 6, 6), (4, 3, 3, 3), {}),                                    # empty batch
]


@pytest.mark.parametrize("x_shape,w_shape,kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(x_shape, w_shape, kw, bias):
    _check_conv("conv2d", x_shape, w_shape, bias, kw)


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((3, 7, 8), (4, 3, 3, 3), {}),
    ((3, 7, 8), (4, 3, 3, 2), {"padding": "same"}),
    ((4, 7, 8), (4, 2, 3, 3), {"groups": 2, "stride": 2, "padding": 1}),
])
def test_conv2d_unbatched(x_shape, w_shape, kw):
    _check_conv("conv2d", x_shape, w_shape, True, kw)


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 3), {"padding": 1, "stride": 2}),
    ((2, 3, 11), (4, 3, 4), {"padding": "same"}),
    ((2, 3, 11), (4, 3, 3), {"padding": "same", "dilation": 3}),
    ((2, 3, 11), (4, 3, 3), {"dilation": 2, "stride": 3, "padding": (2,)}),
    ((2, 4, 9), (6, 2, 3), {"groups": 2}),
    ((2, 4, 9), (4, 1, 5), {"groups": 4, "padding": 2}),
    ((3, 10), (4, 3, 3), {"padding": 1}),                                # unbatched
    ((2, 3, 10), (4, 3, 1), {"padding": "valid"}),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d(x_shape, w_shape, kw, bias):
    _check_conv("conv1d", x_shape, w_shape, bias, kw)


def test_conv2d_mnist_shapes():
    _check_conv("conv2d", (8, 16, 14, 14), (32, 16, 5, 5), True, {"padding": 2})


def test_conv2d_only_some_inputs_need_grad():
    for requires in ([False, True, True], [True, False, False], [False, False, True]):
        check_op([(2, 3, 6, 6), (4, 3, 3, 3), (4,)], lambda x, w, b: TF.conv2d(x, w, b, padding=1),
                 lambda x, w, b: gn.conv2d(x, w, b, padding=1), requires_grad=requires)


def test_conv2d_keeps_float64():
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(s) for s in [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]]
    out = check_op(None, lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1),
                   lambda x, w, b: gn.conv2d(x, w, b, stride=2, padding=1), values=values,
                   rtol=1e-10, atol=1e-12)
    assert out[0].dtype == np.float64


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((2, 2, 5, 6), (3, 2, 3, 2), {"padding": 1}),
    ((2, 2, 7, 6), (3, 2, 3, 3), {"stride": 2, "dilation": (2, 1), "padding": (2, 0)}),
    ((1, 4, 5, 5), (4, 2, 2, 2), {"groups": 2, "padding": "same"}),
    ((1, 3, 5, 5), (3, 1, 3, 3), {"groups": 3, "stride": 2}),
    ((3, 5, 4), (2, 3, 3, 3), {"padding": (1, 2)}),
])
def test_gradcheck_conv2d(x_shape, w_shape, kw):
    gradcheck_op([x_shape, w_shape, (w_shape[0],)], lambda x, w, b: gn.conv2d(x, w, b, **kw))


@pytest.mark.parametrize("x_shape,w_shape,kw", [
    ((2, 2, 7), (3, 2, 3), {"padding": "same", "dilation": 2}),
    ((2, 4, 8), (4, 2, 2), {"groups": 2, "stride": 3, "padding": 1}),
])
def test_gradcheck_conv1d(x_shape, w_shape, kw):
    gradcheck_op([x_shape, w_shape, (w_shape[0],)], lambda x, w, b: gn.conv1d(x, w, b, **kw))


def test_retain_graph_backward_twice():
    x = gn.randn(2, 3, 6, 6, requires_grad=True)
    w = gn.randn(4, 3, 3, 3, requires_grad=True)
    y = gn.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    first = w.grad._array.copy()
    y.backward()
    np.testing.assert_allclose(w.grad._array, 2 * first, rtol=1e-5, atol=1e-5)


def test_interleaved_steps_do_not_share_buffers():
    """Two convolutions of the same shapes alive at once: their saved patch matrices come
    from the workspace and must never be the same memory."""
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((2, 3, 6, 6)).astype(np.float32) for _ in range(2)]
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    gw = gn.tensor(w, requires_grad=True)
    outs = [gn.conv2d(gn.tensor(x), gw, padding=1).sum() for x in xs]
    outs[1].backward()
    outs[0].backward()
    tw = torch.tensor(w, requires_grad=True)
    sum(TF.conv2d(torch.tensor(x), tw, padding=1).sum() for x in xs).backward()
    np.testing.assert_allclose(gw.grad._array, tw.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_no_grad_records_nothing():
    x, w = gn.randn(2, 3, 6, 6, requires_grad=True), gn.randn(4, 3, 3, 3, requires_grad=True)
    with gn.no_grad():
        y = gn.conv2d(x, w, padding=1)
    assert not y.requires_grad


@pytest.mark.parametrize("kw", [{"padding": 2}, {"stride": 2, "groups": 2}, {"dilation": 2}])
def test_a_repeated_step_allocates_no_scratch(kw):
    x = gn.randn(4, 4, 12, 12, requires_grad=True)
    w, b = gn.randn(6, 4 // kw.get("groups", 1), 5, 5, requires_grad=True), gn.randn(6)
    gn.conv2d(x, w, b, **kw).sum().backward()
    misses = WORKSPACE.misses
    gn.conv2d(x, w, b, **kw).sum().backward()
    assert WORKSPACE.misses == misses


@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
def test_pointwise_convolution_is_one_product_on_either_layout(layout):
    """1x1 convolutions skip the patch matrix (Conv._pointwise_*): the input as the
    previous convolution leaves it (channels-major) or as plain NCHW, with a bias, and a
    batch big enough that inference would otherwise go in slices."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 6, 5, 7)).astype(np.float32)
    if layout == "cnhw":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 6, 1, 1), (4,)))
    t, wt, bt = (gn.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    y = gn.conv2d(t, wt, bt)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gn.from_numpy(g))
    tx, tw, tb = (torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (x, w, b))
    ty = TF.conv2d(tx, tw, tb)
    ty.backward(torch.tensor(g))
    for ours, theirs in ((y.detach(), ty.detach()), (t.grad, tx.grad), (wt.grad, tw.grad),
                         (bt.grad, tb.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-3)
    with gn.no_grad():
        np.testing.assert_allclose(gn.conv2d(gn.from_numpy(x), wt, bt).numpy(),
                                   ty.detach().numpy(), rtol=1e-4, atol=1e-4)


def test_workspace_reuses_and_refuses_views():
    ws = Workspace(max_bytes=1 << 20)
    a = ws.take((4, 5), np.float32)
    ws.give(a, a)                         # given twice: kept once
    assert ws.nbytes == a.nbytes
    assert ws.take((4, 5), np.float32) is a
    assert ws.take((4, 5), np.float32) is not a
    ws.give(a[:2])                        # a view does not own its memory
    ws.give(np.empty((1 << 19,), np.float32))   # 2 MiB: over the limit
    assert ws.nbytes == 0


def test_workspace_drops_the_least_recently_given_shapes_to_make_room():
    ws = Workspace(max_bytes=10 << 10)
    old, mid = np.empty(1 << 10, np.float32), np.empty(1 << 9, np.float32)   # 4 and 2 KiB
    ws.give(old)
    ws.give(mid)
    ws.give(np.empty(1 << 9, np.float32))       # a second 2 KiB one: 8 KiB kept
    assert ws.nbytes == 8 << 10
    new = np.empty((2, 1 << 9), np.float32)     # 4 KiB of a new shape: the oldest goes
    ws.give(new)
    assert ws.nbytes == 8 << 10
    assert ws.take((1 << 10,), np.float32) is not old
    assert ws.take((2, 1 << 9), np.float32) is new
    assert ws.take((1 << 9,), np.float32) is not None and ws.nbytes == 2 << 10
    ws.give(mid)                                # still kept: given twice is kept once
    assert ws.nbytes == 2 << 10
    ws.give(np.empty(9 << 8, np.float32))       # 9 KiB: everything else makes room
    assert ws.nbytes == 9 << 10
    assert ws.take((1 << 9,), np.float32) is not mid


def test_the_default_workspace_limit_follows_the_machine():
    from glassnet._kernels.workspace import default_max_bytes
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert Workspace().max_bytes == default_max_bytes() == max(256 << 20, total // 8)


@pytest.mark.parametrize("call,error,match", [
    (lambda: gn.conv2d(gn.ones(2, 3), gn.ones(4, 3, 3, 3)), ValueError,
     r"conv2d: expected 3-D \(unbatched\) or 4-D \(batched\) input, got input of shape \(2, 3\)"),
    (lambda: gn.conv2d(gn.ones(2, 1, 6, 6), gn.ones(4, 3, 3, 3)), ValueError,
     r"conv2d: expected input with 3 channels, got 1"),
    (lambda: gn.conv2d(gn.ones(2, 4, 6, 6), gn.ones(4, 1, 3, 3), groups=3), ValueError,
     r"conv2d: weight of shape \(4, 1, 3, 3\) does not match groups=3"),
    (lambda: gn.conv2d(gn.ones(2, 4, 6, 6), gn.ones(6, 2, 3, 3), groups=3), ValueError,
     r"conv2d: expected input with 6 channels, got 4"),
    (lambda: gn.conv2d(gn.ones(2, 3, 4, 4), gn.ones(4, 3, 5, 5)), ValueError,
     r"conv2d: kernel size \(5, 5\) \(dilated to \(5, 5\)\) is larger than the padded input "
     r"\(4, 4\)"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), dilation=3), ValueError,
     r"dilated to \(7, 7\)"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), stride=2, padding="same"),
     ValueError, r"conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), padding="full"), ValueError,
     r"conv2d: invalid padding string 'full'"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), padding=-1), ValueError,
     r"conv2d: negative padding"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), padding=(1, 1, 1)), ValueError,
     r"conv2d: expected padding to be an int or a tuple of 2 ints"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), stride=0), ValueError,
     r"conv2d: stride must be positive"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), dilation=(1, 0)), ValueError,
     r"conv2d: dilation must be positive"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), groups=0), ValueError,
     r"conv2d: groups must be a positive int"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3, 3), gn.ones(5)), ValueError,
     r"conv2d: expected bias of shape \(4,\)"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6), gn.ones(4, 3, 3)), ValueError,
     r"conv2d: expected a 4-D weight"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6, dtype=gn.float64), gn.ones(4, 3, 3, 3)), TypeError,
     r"conv2d: weight dtype float32 does not match input dtype float64"),
    (lambda: gn.conv2d(gn.ones(2, 3, 6, 6, dtype=gn.int64), gn.ones(4, 3, 3, 3)), TypeError,
     r"conv2d: expected a floating-point input, got int64"),
    (lambda: gn.conv2d(np.ones((2, 3, 6, 6)), gn.ones(4, 3, 3, 3)), TypeError,
     r"conv2d: input must be a Tensor"),
    (lambda: gn.conv1d(gn.ones(2, 3, 4, 5), gn.ones(4, 3, 3)), ValueError,
     r"conv1d: expected 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: gn.conv1d(gn.ones(2, 3, 5), gn.ones(4, 2, 3)), ValueError,
     r"conv1d: expected input with 2 channels, got 3"),
    (lambda: gn.conv1d(gn.ones(2, 3, 5), gn.ones(4, 3, 3), stride=(1, 1)), ValueError,
     r"conv1d: expected stride to be an int or a tuple of 1 ints"),
])
def test_conv_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- memory layout and threads

@pytest.mark.parametrize("padding", [0, 2])
def test_conv_relu_pool_chain_keeps_channel_first_memory_and_matches_torch(padding):
    """A conv returns a view of its (O, N, Ho, Wo) result; relu and max-pool keep that
    layout, the next conv reads it without a copy, and values and gradients are PyTorch's."""
    shapes = [(3, 4, 12, 12), (6, 4, 5, 5), (6,), (5, 6, 3, 3), (5,)]

    def net(F, x, w1, b1, w2, b2):
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=padding)), 2)
        return F.relu(F.conv2d(h, w2, b2, padding=1)).flatten(1)

    check_op(shapes, lambda *a: net(TF, *a), lambda *a: net(gn.nn.functional, *a),
             rtol=1e-4, atol=1e-4)
    x, w = gn.randn(3, 4, 12, 12), gn.randn(6, 4, 5, 5)
    y = gn.relu(gn.conv2d(x, w, padding=padding))
    assert y._array.transpose(1, 0, 2, 3).flags.c_contiguous
    assert gn.max_pool2d(y, 2)._array.transpose(1, 0, 2, 3).flags.c_contiguous


def test_conv_input_layout_does_not_change_the_result():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 9, 9)).astype(np.float32)
    w = gn.tensor(rng.standard_normal((5, 4, 3, 3)).astype(np.float32), requires_grad=True)
    channel_first = np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    results = []
    for data in (a, channel_first, np.asfortranarray(a)):
        x = gn.tensor(data, requires_grad=True)
        w.grad = None
        y = gn.conv2d(x, w, padding=1)
        y.backward(gn.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape) % 7))
        results.append((y._array, x.grad._array, w.grad._array))
    for got in results[1:]:
        for g, want in zip(got, results[0]):
            np.testing.assert_array_equal(g, want)


def test_threaded_im2col_and_col2im_match_one_thread(monkeypatch):
    """Big enough to be split over the kernel thread pool: same result as one thread."""
    from glassnet._kernels import native, windows
    x = gn.tensor(np.random.default_rng(4).standard_normal((16, 8, 20, 20)).astype(np.float32),
                  requires_grad=True)
    w = gn.tensor(np.random.default_rng(5).standard_normal((4, 8, 5, 5)).astype(np.float32),
                  requires_grad=True)
    results = []
    monkeypatch.setattr(windows, "_MIN_PART_BYTES", 1 << 14)     # split even this small one
    monkeypatch.setattr(native, "_MIN_PART_BYTES", 1 << 14)
    for cores in (1, 2):
        monkeypatch.setattr(windows, "_CORES", cores)
        monkeypatch.setattr(native, "_CORES", cores)
        x.grad = w.grad = None
        y = gn.conv2d(x, w, padding=2)
        y.sum().backward()
        results.append((y._array.copy(), x.grad._array, w.grad._array))
    assert len(windows._parts((8, 16), 1 << 22)) == 2 * windows._PARTS_PER_CORE
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("nd, x_shape, w_shape, kw", [
    (2, (9, 4, 11, 7), (6, 2, 3, 2), dict(stride=2, padding=1, dilation=(2, 1), groups=2)),
    (2, (7, 3, 8, 8), (5, 3, 5, 5), dict(padding="same")),
    (1, (10, 4, 13), (8, 4, 3), dict(stride=1, padding=2)),
])
def test_inference_in_batch_slices_matches_torch(monkeypatch, nd, x_shape, w_shape, kw):
    """Without a graph a big batch is convolved a few images at a time; the result is the
    same as one pass (and as PyTorch's), and keeps Conv's output layout."""
    import glassnet.ops.conv as C
    monkeypatch.setattr(C, "_INFERENCE_COLS_BYTES", 1)           # one image per slice
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape,
                                                                     w_shape[:1]))
    F = gn.nn.functional
    f, tf = (F.conv2d, torch.nn.functional.conv2d) if nd == 2 else \
        (F.conv1d, torch.nn.functional.conv1d)
    with gn.no_grad():
        y = f(gn.tensor(x), gn.tensor(w), gn.tensor(b), **kw)
    want = tf(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **kw).numpy()
    assert y.shape == want.shape and not y.requires_grad
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-4)
    graph = f(gn.tensor(x, requires_grad=True), gn.tensor(w), gn.tensor(b), **kw)
    np.testing.assert_allclose(graph.detach().numpy(), y.numpy(), rtol=1e-6, atol=1e-6)
