"""Drawing (DOT text always; SVG when Graphviz's dot is installed) and the benchmark's
two networks agreeing step for step."""
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassnet as gn
import glassnet.graph as gg
import glassnet.nn.functional as F


def _small_training_graph():
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 4), name="x")
        y = gg.placeholder(gn.int64, (None,), name="y")
        w = gg.Variable(np.zeros((3, 4), np.float32), name="w")
        scale = gg.constant(np.float32(2.0), name="scale")
        with gg.name_scope("dense"):
            logits = gg.op(F.linear, [x, w]) * scale
        loss = gg.op(F.cross_entropy, [logits, y], name="loss")
        extra = gg.op(gn.exp, [x], name="unrelated")
        train = gg.minimize(loss, gn.optim.SGD, lr=0.1)
    return g, loss, train, extra


def test_to_dot_labels_kinds_and_groups_the_gradients():
    g, loss, train, extra = _small_training_graph()
    dot = g.to_dot()
    assert dot.startswith("digraph glassnet {") and dot.rstrip().endswith("}")
    assert '"x\\nplaceholder float32\\n(?, 4)", shape=invhouse' in dot
    assert '"w\\nvariable float32\\n(3, 4)", shape=cylinder' in dot
    assert '"scale\\nconstant float32\\n()", shape=note' in dot
    assert '"dense/Linear\\nLinear\\n(?, 3)"' in dot
    assert "subgraph cluster_gradients" in dot
    cluster = dot[dot.index("subgraph cluster_gradients"):]
    cluster = cluster[:cluster.index("  }")]
    assert "gradients/loss_grad" in cluster and "dense/Linear" not in cluster.replace(
        "gradients/dense/Linear", "")
    assert "unrelated" in dot
    only = g.to_dot(fetches=loss)
    assert "unrelated" not in only and "gradients" not in only and "dense/Linear" in only


def test_draw_writes_a_valid_svg(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    g, loss, train, _ = _small_training_graph()
    path = g.draw(tmp_path / "train.svg", fetches=train)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "dense/Linear" in text and "(?, 3)" in text and "gradients" in text
    png = g.draw(tmp_path / "train.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        g.draw(tmp_path / "train.gif")


def test_draw_without_the_graphviz_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    g, *_ = _small_training_graph()
    with pytest.raises(ImportError, match="pip install graphviz"):
        g.draw(tmp_path / "g.svg")


def test_benchmark_networks_agree_step_for_step():
    import graph_vs_eager as bench                     # benchmarks/ is on the test path
    weights = bench.make_weights()
    eager, graph = bench.Eager(weights), bench.Graph(weights)
    for seed in (1, 2):
        x, y = bench.make_batch(4, seed)
        assert eager.step(x, y) == pytest.approx(graph.step(x, y), rel=1e-6)
    for k, v in eager.weights().items():
        np.testing.assert_allclose(graph.weights()[k], v, rtol=1e-5, atol=1e-7)
    # the step's plan: forward, gradient and update nodes, nothing else
    kinds = {n.kind for n in graph.ex.last_plan.nodes}
    assert kinds == {"variable", "op", "gradient", "update", "group"}
