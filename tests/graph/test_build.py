"""Building graphs: names, scopes, the default graph, static shapes from the probes, and
the errors a bad graph gets at build time."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.graph as gg
import glassnet.nn.functional as F


@pytest.fixture
def g():
    graph = gg.Graph()
    with graph.as_default():
        yield graph


def test_names_are_unique_and_scoped_like_tensorflow(g):
    x = gg.placeholder(gn.float32, (None, 3), name="x")
    w = gg.Variable(np.ones((3, 3), np.float32), name="w")
    a, b = x @ w, x @ w
    assert (a.node.name, b.node.name) == ("MatMul", "MatMul_1")
    with gg.name_scope("layer1"):
        c = x @ w
        with gg.name_scope("inner"):
            d = gg.op(F.relu, [c])
    with gg.name_scope("layer1"):
        e = x @ w
    assert c.node.name == "layer1/MatMul"
    assert d.node.name == "layer1/inner/Relu"
    assert e.node.name == "layer1_1/MatMul"
    assert a.name == "MatMul:0"
    assert g.get_tensor("layer1/MatMul:0") is c
    assert g.get_node("layer1/inner/Relu") is d.node
    with pytest.raises(KeyError, match="no node named 'nope'"):
        g.get_node("nope")


def test_default_graph_stack_and_reset():
    outer = gg.get_default_graph()
    g1 = gg.Graph()
    with g1.as_default():
        assert gg.get_default_graph() is g1
        g2 = gg.Graph()
        with g2.as_default():
            p = gg.placeholder(gn.float32, (2,))
            assert p.graph is g2
        assert gg.get_default_graph() is g1
        with pytest.raises(gg.GraphError, match="inside a `with graph.as_default"):
            gg.reset_default_graph()
    assert gg.get_default_graph() is outer
    fresh = gg.reset_default_graph()
    assert fresh is not outer and gg.get_default_graph() is fresh


def test_inputs_from_two_graphs_are_refused():
    g1, g2 = gg.Graph(), gg.Graph()
    with g1.as_default():
        a = gg.placeholder(gn.float32, (2,))
    with g2.as_default():
        b = gg.placeholder(gn.float32, (2,))
    with pytest.raises(gg.GraphError, match="different graphs"):
        a + b


def test_static_shapes_keep_the_unknown_batch(g):
    x = gg.placeholder(gn.float32, (None, 1, 28, 28))
    w = gg.Variable(np.zeros((32, 1, 5, 5), np.float32))
    h = gg.op(F.conv2d, [x, w], {"padding": 2})
    assert h.shape == (None, 32, 28, 28) and h.dtype == np.float32
    p = gg.wrap(F.max_pool2d)(h, 2)
    assert p.shape == (None, 32, 14, 14)
    flat = gg.op(lambda t: t.reshape(-1, 32 * 14 * 14), [p])
    assert flat.shape == (None, 6272)
    s = gg.op(gn.sum, [flat], {"dim": 1})
    assert s.shape == (None,)
    m = gg.op(gn.mean, [flat])
    assert m.shape == () and m.dtype == np.float32
    labels = gg.placeholder(gn.int64, (None,))
    loss = gg.op(F.cross_entropy, [flat[:, :10], labels])
    assert loss.shape == () and loss.dtype == np.float32
    assert (labels + 1).dtype == np.int64           # a Python int keeps int64
    assert (flat * 2.0).dtype == np.float32         # a Python float does not widen
    assert (x.ndim, gg.placeholder(gn.float32).shape) == (4, None)


def test_shape_error_names_the_op_and_both_shapes(g):
    x = gg.placeholder(gn.float32, (None, 784), name="x")
    w = gg.Variable(np.zeros((10, 10), np.float32), name="w")
    with gg.name_scope("dense"):
        with pytest.raises(gg.GraphError) as err:
            x @ w
    msg = str(err.value)
    assert "dense/MatMul" in msg and "(None, 784)" in msg and "(10, 10)" in msg
    assert "784 != 10" in msg                      # the eager op's own explanation
    assert "dense/MatMul" not in g._by_name         # the failed node was not kept


def test_dtype_error_at_build_time(g):
    ids = gg.placeholder(gn.int64, (None, 4), name="ids")
    with pytest.raises(gg.GraphError) as err:
        gg.op(gn.mean, [ids])
    msg = str(err.value)
    assert msg.startswith("Mean:") and "(None, 4) int64" in msg and "mean" in msg


def test_multi_output_node(g):
    x = gg.placeholder(gn.float32, (None, 6))
    a, b, c = gg.op(gn.chunk, [x], {"chunks": 3, "dim": 1})
    assert [t.shape for t in (a, b, c)] == [(None, 2)] * 3
    assert [t.index for t in (a, b, c)] == [0, 1, 2]
    ex = gg.Executor(g)
    v = np.arange(12, dtype=np.float32).reshape(2, 6)
    ra, rc = ex.run([a, c], {x: v})
    np.testing.assert_array_equal(ra, v[:, :2])
    np.testing.assert_array_equal(rc, v[:, 4:])


def test_data_dependent_shape_is_unknown_or_caught_at_run_time(g):
    x = gg.placeholder(gn.float32, (5,), name="x")
    positive = gg.op(lambda t: t[t > 0], [x], type="BooleanMask")
    assert positive.shape == (None,)               # zeros and random probes disagreed
    ex = gg.Executor(g)
    np.testing.assert_array_equal(ex.run(positive, {x: np.array([1, -1, 2, -2, 3.0])}),
                                  [1, 2, 3])
    # a shape the probes cannot see: the zeros and the random probe agree (both 1 row)
    y = gg.placeholder(gn.float32, (3,), name="y")
    rows = gg.op(lambda t: gn.zeros(int((t._array == 7).sum()) + 1), [y], type="Rows")
    assert rows.shape == (1,)
    with pytest.raises(gg.GraphError, match=r"Rows.*produced shape \(3,\).*inferred as \(1,\)"):
        ex.run(rows, {y: np.array([7, 7, 1.0])})
    stated = gg.op(lambda t: gn.zeros(int((t._array == 7).sum()) + 1), [y],
                   output_shapes=(None,))
    assert ex.run(stated, {y: np.array([7, 7, 1.0])}).shape == (3,)


def test_probes_do_not_disturb_the_random_stream(g):
    gn.manual_seed(3)
    expected = gn.rand(4).numpy()
    gn.manual_seed(3)
    x = gg.placeholder(gn.float32, (None, 4))
    gg.op(F.dropout, [x], {"p": 0.5, "training": True})
    np.testing.assert_array_equal(gn.rand(4).numpy(), expected)


def test_views_are_recorded_from_the_probes(g):
    x = gg.placeholder(gn.float32, (None, 4))
    r = gg.op(lambda t: t.reshape(-1, 2, 2), [x])
    m = gg.op(gn.matmul, [x, gg.constant(np.eye(4, dtype=np.float32))])
    assert r.node.attrs["views"] == [{0}]
    assert m.node.attrs["views"] == [set()]


def test_variable_needs_a_known_shape_and_assign_checks_shapes(g):
    with pytest.raises(gg.GraphError, match="must be fully known"):
        gg.Variable(gg.placeholder(gn.float32, (None, 3)), name="v")
    v = gg.Variable(np.zeros((2, 3), np.float32), name="v")
    with pytest.raises(gg.GraphError, match=r"assign to v: the value has shape \(3, 2\), the "
                                            r"variable \(2, 3\)"):
        v.assign(np.zeros((3, 2), np.float32))
    with pytest.raises(gg.GraphError, match="float32 value cannot be stored in a int64"):
        gg.Variable(np.zeros(2, np.int64), name="n").assign(np.zeros(2, np.float32))
    assert v.assign_add(np.ones(3, np.float32)).shape == (2, 3)   # a delta may broadcast
    assert [x.node.name for x in g.variables] == ["v", "n"]


def test_symbolic_tensors_are_not_booleans(g):
    x = gg.placeholder(gn.float32, (2,), name="x")
    with pytest.raises(TypeError, match="x:0 is symbolic"):
        if x:
            pass


def test_an_op_the_probes_cannot_run_can_state_its_outputs(g):
    x = gg.placeholder(gn.float32, (None, 4, 5), name="x")
    with pytest.raises(gg.GraphError, match=r"cannot reshape .* into \(6, -1\)"):
        gg.op(lambda t: t.reshape(6, -1), [x], type="Reshape")
    y = gg.op(lambda t: t.reshape(6, -1), [x], output_shapes=(6, None),
              output_dtypes=[gn.float32])
    assert y.shape == (6, None)
    out = gg.Executor(g).run(y, {x: np.zeros((3, 4, 5), np.float32)})
    assert out.shape == (6, 10)
