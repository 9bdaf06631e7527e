"""glassnet.graph: build a graph first, run it later (TensorFlow 1's way), on glassnet's
eager ops.

    import glassnet as gn, glassnet.graph as gg, glassnet.nn.functional as F
    g = gg.Graph()
    with g.as_default():
        x = gg.placeholder(gn.float32, (None, 784), name="x")
        y = gg.placeholder(gn.int64, (None,), name="y")
        w = gg.Variable(gn.randn(784, 10).numpy() * 0.01, name="w")
        loss = gg.op(F.cross_entropy, [x @ w, y])
        train = gg.minimize(loss, gn.optim.SGD, lr=0.1)
    ex = gg.Executor(g)
    ex.initialize()
    value, _ = ex.run([loss, train], {x: images, y: labels})

Nodes call the eager ops (`builders.py`), shapes come from probing them (`shapes.py`),
gradients reuse the recorded backward (`gradients.py`), and runs follow cached plans
(`executor.py`). See docs/architecture.md, "glassnet.graph".
"""
from .core import (Graph, Node, SymbolicTensor, GraphError, get_default_graph,  # noqa: F401
                   reset_default_graph, name_scope, control_dependencies, format_shape)
from .builders import (placeholder, constant, Variable, op, wrap, as_tensor,  # noqa: F401
                       identity, stop_gradient, assign, assign_add, assign_sub, group, no_op,
                       variables_initializer, apply_gradients, minimize)
from .gradients import gradients  # noqa: F401
from .executor import (Executor, Plan, FailedPreconditionError, FeedError,  # noqa: F401
                       make_plan)
from .draw import to_dot, draw  # noqa: F401
