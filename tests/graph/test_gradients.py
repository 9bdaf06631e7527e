"""Symbolic gradients against eager `.backward()` (the same Function code, so float32
agreement is expected) and against finite differences (float64)."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.graph as gg
import glassnet.nn.functional as F

RNG = np.random.default_rng(0)


def _f32(*shape, positive=False):
    a = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.5 if positive else a


# name, eager function of the inputs, input arrays, indices of the inputs to differentiate
CASES = [
    ("matmul", lambda a, b: gn.matmul(a, b), [_f32(4, 5), _f32(5, 3)], [0, 1]),
    ("add-broadcast", lambda a, b: a + b, [_f32(4, 3), _f32(3)], [0, 1]),
    ("mul-broadcast", lambda a, b: a * b, [_f32(4, 3), _f32(4, 1)], [0, 1]),
    ("relu", F.relu, [_f32(6, 4)], [0]),
    ("sigmoid", F.sigmoid, [_f32(6, 4)], [0]),
    ("softmax", lambda a: F.softmax(a, dim=1), [_f32(5, 7)], [0]),
    ("log", gn.log, [_f32(3, 4, positive=True)], [0]),
    ("exp", gn.exp, [_f32(3, 4)], [0]),
    ("mean-axes", lambda a: gn.mean(a, dim=(0, 2), keepdim=True), [_f32(3, 4, 5)], [0]),
    ("sum-axis", lambda a: gn.sum(a, dim=1), [_f32(3, 4, 5)], [0]),
    ("reshape", lambda a: a.reshape(-1, 10), [_f32(3, 4, 5)], [0]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     [_f32(2, 3, 8, 8), _f32(4, 3, 3, 3), _f32(4)], [0, 1, 2]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [_f32(2, 3, 8, 8)], [0]),
    ("cross_entropy", lambda z, y: F.cross_entropy(z, y),
     [_f32(6, 5), RNG.integers(0, 5, 6)], [0]),
]


@pytest.mark.parametrize("name, fn, arrays, wrt", CASES, ids=[c[0] for c in CASES])
def test_graph_gradients_equal_eager_backward(name, fn, arrays, wrt):
    # eager: L = sum(fn(inputs) * r) with a fixed random r, so every gradient entry differs
    tensors = [gn.tensor(a.copy(), requires_grad=i in wrt) if a.dtype.kind == "f"
               else gn.tensor(a.copy()) for i, a in enumerate(arrays)]
    out = fn(*tensors)
    r = RNG.standard_normal(out.shape).astype(np.float32)
    (out * gn.tensor(r)).sum().backward()
    expected = [tensors[i].grad.numpy() for i in wrt]

    g = gg.Graph()
    with g.as_default():
        # the first input's leading dim is unknown, as a batch would be, and so is that of
        # every input that shares it (labels, a broadcast factor)
        n = arrays[0].shape[0] if arrays[0].ndim > 1 else None
        phs = [gg.placeholder(a.dtype, (None,) + a.shape[1:] if a.ndim and a.shape[0] == n
                              else a.shape) for a in arrays]
        y = gg.op(fn, phs, type=name)
        loss = gg.op(lambda t, w: (t * w).sum(), [y, r], type="WeightedSum")
        grads = gg.gradients(loss, [phs[i] for i in wrt])
    assert [gr.shape for gr in grads] == [phs[i].shape for i in wrt]
    got = gg.Executor(g).run(grads, dict(zip(phs, arrays)))
    for e, v in zip(expected, got):
        assert v.dtype == np.float32
        np.testing.assert_allclose(v, e, rtol=1e-5, atol=1e-6)


def _numeric_grad(run_loss, arrays, i, eps=1e-6):
    a = arrays[i]
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        saved = a[idx]
        a[idx] = saved + eps
        up = run_loss()
        a[idx] = saved - eps
        down = run_loss()
        a[idx] = saved
        grad[idx] = (up - down) / (2 * eps)
    return grad


def _check_finite_differences(build, arrays, wrt):
    g = gg.Graph()
    with g.as_default():
        phs = [gg.placeholder(a.dtype, a.shape) for a in arrays]
        loss = build(*phs)
        grads = gg.gradients(loss, [phs[i] for i in wrt])
    ex = gg.Executor(g)
    got = ex.run(grads, dict(zip(phs, arrays)))

    def run_loss():
        return float(ex.run(loss, dict(zip(phs, arrays))))

    for i, v in zip(wrt, got):
        assert v.dtype == np.float64
        np.testing.assert_allclose(v, _numeric_grad(run_loss, arrays, i), rtol=1e-6,
                                   atol=1e-8)


def test_finite_differences_mlp_with_a_shared_weight():
    rng = np.random.default_rng(1)
    x, w, v = (rng.standard_normal(s) for s in ((3, 4), (4, 4), (4, 2)))

    def build(x, w, v):
        h = gg.op(gn.tanh, [x @ w])
        h2 = gg.op(gn.tanh, [h @ w])                 # w used twice: an AddN of two paths
        return gg.op(lambda a: (a * a).mean(), [h2 @ v])

    _check_finite_differences(build, [x, w, v], [0, 1, 2])


def test_finite_differences_conv_pool_cross_entropy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 1, 6, 6))
    k = rng.standard_normal((3, 1, 3, 3)) * 0.5
    b = rng.standard_normal(3) * 0.1
    dense = rng.standard_normal((3 * 9, 4)) * 0.3
    labels = np.array([1, 3])

    def build(x, k, b, dense):
        y = gg.constant(labels)
        h = gg.wrap(F.max_pool2d)(gg.op(F.relu, [gg.op(F.conv2d, [x, k, b], {"padding": 1})]), 2)
        logits = gg.op(lambda t: t.reshape(2, -1), [h]) @ dense
        return gg.op(F.cross_entropy, [logits, y])

    _check_finite_differences(build, [x, k, b, dense], [0, 1, 2, 3])


def test_unconnected_and_integer_paths_give_none():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (3,))
        unused = gg.placeholder(gn.float32, (3,))
        n = gg.placeholder(gn.int64, (3,))
        y = gg.op(gn.sum, [x * x + gg.op(lambda t: t.float(), [n])])
        gx, gu, gn_ = gg.gradients(y, [x, unused, n])
    assert gu is None and gn_ is None
    value = gg.Executor(g).run(gx, {x: np.array([1, 2, 3], np.float32),
                                    n: np.array([1, 1, 1])})
    np.testing.assert_allclose(value, [2, 4, 6])


def test_several_consumers_are_summed_by_an_addn_node():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,))
        y = gg.op(gn.sum, [x * x + x * 3.0])
        gx = gg.gradients(y, x)
    assert gx.node.type == "AddN" and gx.node.name.startswith("gradients/")
    np.testing.assert_allclose(gg.Executor(g).run(gx, {x: np.array([1.0, 2.0], np.float32)}),
                               [5, 7])


def test_grad_ys_weight_the_outputs_and_multiple_ys_add():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (3,))
        y1, y2 = x * 2.0, gg.op(gn.exp, [x])
        gx = gg.gradients([y1, y2], x, grad_ys=[np.array([1, 0, 1], np.float32),
                                                 np.full(3, 2, np.float32)])
        with pytest.raises(gg.GraphError, match=r"grad_ys\[0\] has shape \(2,\)"):
            gg.gradients(y1, x, grad_ys=np.zeros(2, np.float32))
    xv = np.array([0.0, 1.0, 2.0], np.float32)
    np.testing.assert_allclose(gg.Executor(g).run(gx, {x: xv}),
                               np.array([2, 0, 2]) + 2 * np.exp(xv), rtol=1e-6)


def test_gradient_of_an_intermediate_and_stop_gradient():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,))
        h = x * 3.0
        y = gg.op(gn.sum, [h * h + gg.stop_gradient(h) * x])
        gh, gx = gg.gradients(y, [h, x])
    ex = gg.Executor(g)
    rh, rx = ex.run([gh, gx], {x: np.array([1.0, 2.0], np.float32)})
    np.testing.assert_allclose(rh, 2 * np.array([3.0, 6.0]))          # x * h path stopped
    np.testing.assert_allclose(rx, 3 * 2 * np.array([3.0, 6.0]) + np.array([3.0, 6.0]))


def test_second_order_is_refused_clearly():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,))
        gx = gg.gradients(gg.op(gn.sum, [x * x]), x)
        with pytest.raises(gg.GraphError, match="gradients of gradients are not supported"):
            gg.gradients(gg.op(gn.sum, [gx]), x)


def test_the_forward_records_only_when_its_gradient_node_runs():
    kept = []

    def square(t):
        out = t * t
        kept.append(out)
        return out

    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,))
        y = gg.op(square, [x])
        gx = gg.gradients(gg.op(gn.sum, [y]), x)
    ex = gg.Executor(g)
    feed = {x: np.array([1.0, 2.0], np.float32)}
    kept.clear()
    ex.run(y, feed)
    assert kept[-1]._ctx is None                 # no gradient node in the plan: no graph
    np.testing.assert_allclose(ex.run(gx, feed), [2, 4])
    assert kept[-1]._ctx is not None and kept[-1]._ctx.released   # used, then released


def test_feeding_the_output_of_a_differentiated_node_is_refused():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,))
        h = gg.op(gn.exp, [x], name="h")
        gx = gg.gradients(gg.op(gn.sum, [h]), x)
    with pytest.raises(gg.GraphError, match="needs the forward pass of 'h'.*h:0 is fed"):
        gg.Executor(g).run(gx, {x: np.ones(2, np.float32), h: np.ones(2, np.float32)})
