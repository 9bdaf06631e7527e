"""Running graphs: fetch structures, pruning, the plan cache, feeds and their checks,
value lifetimes, variables, assignments and optimizer updates."""
import collections
import tracemalloc

import numpy as np
import pytest

import glassnet as gn
import glassnet.graph as gg
import glassnet.nn.functional as F


def _counting(fn, counts, key):
    def run(*args, **kwargs):
        counts[key] += 1
        return fn(*args, **kwargs)
    run.__name__ = getattr(fn, "__name__", "op")
    return run


def test_fetch_structures_come_back_in_the_same_shape():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,), name="x")
        a, b = x * 2.0, x + 1.0
        nothing = gg.no_op()
    ex = gg.Executor(g)
    Pair = collections.namedtuple("Pair", "first second")
    out = ex.run({"a": a, "rest": [b, (a, Pair(b, nothing))], "x": x},
                 {x: np.array([1, 2], np.float32)})
    assert list(out) == ["a", "rest", "x"]
    np.testing.assert_array_equal(out["a"], [2, 4])
    np.testing.assert_array_equal(out["rest"][0], [2, 3])
    assert isinstance(out["rest"][1], tuple) and isinstance(out["rest"][1][1], Pair)
    assert out["rest"][1][1].second is None                 # a node's value is None
    np.testing.assert_array_equal(out["x"], [1, 2])         # a fed tensor fetches its feed
    assert isinstance(ex.run(a, {x: np.ones(2)}), np.ndarray)
    np.testing.assert_array_equal(ex.run("Mul:0", {"x:0": np.ones(2)}), [2, 2])
    with pytest.raises(TypeError, match="cannot fetch a int"):
        ex.run([a, 3], {x: np.ones(2)})


def test_only_needed_nodes_run_and_feeds_cut_the_graph():
    counts = collections.Counter()
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 3), name="x")
        h = gg.op(_counting(gn.exp, counts, "h"), [x], name="h")
        used = gg.op(_counting(gn.sum, counts, "used"), [h], name="used")
        gg.op(_counting(gn.tanh, counts, "unused"), [h], name="unused")
    counts.clear()                                     # the build-time probes ran them
    ex = gg.Executor(g)
    ex.run(used, {x: np.zeros((4, 3))})
    assert counts == {"h": 1, "used": 1}
    assert [n.name for n in ex.last_plan.nodes] == ["h", "used"]
    counts.clear()
    value = ex.run(used, {h: np.ones((4, 3), np.float32)})   # h fed: exp does not run
    assert counts == {"used": 1} and value == 12
    assert [n.name for n in ex.last_plan.nodes] == ["used"]   # x is not needed either


def test_plans_are_cached_per_fetches_and_fed_tensors():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None,), name="x")
        y = x * 2.0
        z = y + 1.0
    ex = gg.Executor(g)
    ex.run(z, {x: np.ones(3)})
    first = ex.last_plan
    ex.run(z, {x: np.zeros(5)})
    assert ex.last_plan is first
    assert ex.plan(z, {x: None}) is first
    ex.run(z, {y: np.zeros(5)})
    assert ex.last_plan is not first
    ex.run([z], {x: np.ones(3)})
    assert ex.last_plan is first                      # the structure is not part of the key
    ex.run([z, y], {x: np.ones(3)})
    assert ex.last_plan is not first


def test_missing_feed_names_the_placeholder():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 784), name="images")
        y = x * 2.0
    with pytest.raises(gg.FeedError, match=r"placeholder 'images' \(float32, shape "
                                           r"\(None, 784\)\) is needed .* not fed"):
        gg.Executor(g).run(y)


def test_feeds_are_checked_and_cast_as_tensorflow_does():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 784), name="x")
        ids = gg.placeholder(gn.int64, (None,), name="ids")
        y = x * 1.0
        k = ids + 1
    ex = gg.Executor(g)
    out = ex.run(y, {x: np.ones((2, 784), np.float64)})       # float64 -> float32
    assert out.dtype == np.float32
    assert ex.run(k, {ids: [1, 2]}).dtype == np.int64
    assert ex.run(k, {ids: np.array([True, False])}).tolist() == [2, 1]
    with pytest.raises(gg.FeedError, match="cannot feed a float64 value to placeholder 'ids' "
                                           "of dtype int64"):
        ex.run(k, {ids: [1.5, 2.0]})
    with pytest.raises(gg.FeedError, match=r"shape \(64, 785\) to placeholder 'x', whose "
                                           r"shape is \(None, 784\)"):
        ex.run(y, {x: np.zeros((64, 785), np.float32)})
    with pytest.raises(gg.FeedError, match=r"shape \(784,\)"):
        ex.run(y, {x: np.zeros(784, np.float32)})
    with pytest.raises(gg.FeedError, match="feed key must be a SymbolicTensor"):
        ex.run(y, {3: np.zeros(784)})


def test_values_are_dropped_after_their_last_use():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float64, (None,), name="x")
        h = x
        for i in range(8):
            h = gg.op(gn.exp if i % 2 else gn.neg, [h], name=f"step{i}")
    ex = gg.Executor(g)
    plan = ex.plan(h, {x: None})
    slot = plan.slots
    for i, step in enumerate(plan.steps[:-1]):
        # each step frees its input (consumed by nobody else) right after it runs
        assert slot[step.node.inputs[0]] in step.free
    assert slot[h] not in plan.steps[-1].free                # the fetch is kept
    n = 1 << 20                                              # 8 MiB per value
    feed = np.zeros(n)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        ex.run(h, {x: feed})
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 3.5 * feed.nbytes, peak / feed.nbytes       # 8 values made, <= 3 alive


def test_variables_need_initializing_and_keep_their_state():
    g = gg.Graph()
    with g.as_default():
        v = gg.Variable(np.array([1.0, 2.0], np.float32), name="counter")
        bump = v.assign_add(np.ones(2, np.float32))
        down = gg.assign_sub(v, 0.5)
        reset = v.assign([5.0, 5.0])
        doubled = v * 2.0
    ex = gg.Executor(g)
    with pytest.raises(gg.FailedPreconditionError, match="uninitialized value counter"):
        ex.run(doubled)
    ex.initialize()
    assert ex.is_initialized(v)
    ex.run(bump)
    ex.run(bump.node)
    np.testing.assert_array_equal(ex.run(v), [3, 4])
    np.testing.assert_array_equal(ex.run(down), [2.5, 3.5])
    np.testing.assert_array_equal(ex.run(doubled), [5, 7])
    ex.run(reset)
    fetched = ex.run(v)
    fetched[0] = 99                                       # a copy, not the variable
    np.testing.assert_array_equal(ex.read(v), [5, 5])
    # another executor has its own state
    other = gg.Executor(g)
    with pytest.raises(gg.FailedPreconditionError):
        other.run(v)
    other.initialize([v])
    np.testing.assert_array_equal(other.run(v), [1, 2])
    ex.load_variable_values({"counter": np.zeros(2)})
    assert ex.variable_values() == {"counter": pytest.approx(np.zeros(2))}


def _mlp_graph(weights, optimizer, **options):
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 4), name="x")
        y = gg.placeholder(gn.int64, (None,), name="y")
        vs = [gg.Variable(w, name=f"w{i}") for i, w in enumerate(weights)]
        h = gg.op(F.relu, [gg.op(F.linear, [x, vs[0], vs[1]])])
        loss = gg.op(F.cross_entropy, [gg.op(F.linear, [h, vs[2], vs[3]]), y])
        train = gg.minimize(loss, optimizer, **options)
    ex = gg.Executor(g)
    ex.initialize()
    return ex, x, y, vs, loss, train


@pytest.mark.parametrize("optimizer, options", [
    (gn.optim.SGD, {"lr": 0.1}),
    (gn.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (gn.optim.Adam, {"lr": 0.01}),
], ids=["sgd", "momentum", "adam"])
def test_training_steps_match_the_eager_optimizer(optimizer, options):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.5
               for s in ((8, 4), (8,), (3, 8), (3,))]
    xs = rng.standard_normal((4, 5, 4)).astype(np.float32)
    ys = rng.integers(0, 3, (4, 5))
    params = [gn.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = optimizer(params, **options)
    eager_losses = []
    for xb, yb in zip(xs, ys):
        opt.zero_grad()
        h = F.relu(F.linear(gn.tensor(xb), params[0], params[1]))
        loss = F.cross_entropy(F.linear(h, params[2], params[3]), gn.tensor(yb))
        loss.backward()
        opt.step()
        eager_losses.append(loss.item())
    ex, x, y, vs, loss, train = _mlp_graph(weights, optimizer, **options)
    graph_losses = [float(ex.run([loss, train], {x: xb, y: yb})[0]) for xb, yb in zip(xs, ys)]
    np.testing.assert_allclose(graph_losses, eager_losses, rtol=1e-6)
    for p, v in zip(params, vs):
        np.testing.assert_allclose(ex.read(v), p.detach().numpy(), rtol=1e-6, atol=1e-7)
    update = next(n for n in train.control_inputs if n.kind == "update")
    assert isinstance(ex.optimizer_of(update), optimizer)


def test_a_fetch_of_a_variable_beside_its_update_sees_the_old_value():
    w0 = [np.full((8, 4), 0.1, np.float32), np.zeros(8, np.float32),
          np.full((3, 8), 0.1, np.float32), np.zeros(3, np.float32)]
    ex, x, y, vs, loss, train = _mlp_graph(w0, gn.optim.SGD, lr=1.0)
    feed = {x: np.ones((2, 4), np.float32), y: np.array([0, 1])}
    before, _ = ex.run([vs[0], train], feed)
    np.testing.assert_array_equal(before, w0[0])
    assert not np.array_equal(ex.read(vs[0]), w0[0])


def test_learning_rate_fed_through_a_placeholder():
    g = gg.Graph()
    with g.as_default():
        lr = gg.placeholder(gn.float32, (), name="lr")
        w = gg.Variable(np.array([1.0, -2.0], np.float32), name="w")
        loss = gg.op(gn.sum, [w * w])
        train = gg.minimize(loss, gn.optim.SGD, lr=lr)
    ex = gg.Executor(g)
    ex.initialize()
    ex.run(train, {lr: 0.25})                       # w -= 0.25 * 2w
    np.testing.assert_allclose(ex.read(w), [0.5, -1.0])
    ex.run(train, {lr: 0.5})                        # w -= 0.5 * 2w = 0
    np.testing.assert_allclose(ex.read(w), [0.0, 0.0])
    with pytest.raises(gg.FeedError, match="placeholder 'lr'"):
        ex.run(train)


def test_each_update_runs_as_soon_as_its_gradient_exists():
    w0 = [np.full((8, 4), 0.1, np.float32), np.zeros(8, np.float32),
          np.full((3, 8), 0.1, np.float32), np.zeros(3, np.float32)]
    ex, x, y, vs, loss, train = _mlp_graph(w0, gn.optim.SGD, lr=0.1)
    plan = ex.plan([loss, train], {x: None, y: None})
    names = [n.name for n in plan.nodes]
    # the second layer's update comes before the first layer's backward; and after the
    # gradient nodes whose tapes hold its weight
    assert names.index("SGD/update_w2") < names.index("gradients/Linear_grad")
    assert names.index("SGD/update_w2") > names.index("gradients/Linear_1_grad")


def test_executor_errors():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (2,), name="x")
    other = gg.Graph()
    with other.as_default():
        z = gg.placeholder(gn.float32, (2,))
    ex = gg.Executor(g)
    with pytest.raises(gg.GraphError, match="another graph"):
        ex.run(z, {x: np.ones(2)})
    ex.close()
    with pytest.raises(RuntimeError, match="closed"):
        ex.run(x, {x: np.ones(2)})
