"""Symbolic gradients: `gradients(ys, xs)` adds the backward pass to the graph as nodes.

No derivative is written here. For every op node F between xs and ys a gradient node
G(F) is added whose inputs are dL/d(F's outputs); at run time the executor runs F with
`requires_grad` set on exactly the inputs G(F) wants, keeps the autograd sub-graph that
F's callable recorded (its "tape"), and G(F) asks `autograd.engine.grad` for dL/d(those
inputs) through it: the same `Function.backward` code that eager `.backward()` runs.
Gradients reaching one tensor from several consumers are summed by an AddN node.
"""
import functools

from .. import ops as _ops
from ..creation import ones_like as _ops_ones_like
from .core import GraphError, SymbolicTensor, format_shape, post_order
from .builders import as_tensor, op


def _add_n(*grads):
    return functools.reduce(_ops.add, grads)


def _ancestors_in_order(ys):
    """Nodes the ys are computed from (through data edges), each after its inputs."""
    return post_order([y.node for y in ys], lambda node: [t.node for t in node.inputs])


def _floating(t):
    return t.dtype is not None and t.dtype.kind == "f"


def gradients(ys, xs, grad_ys=None, name="gradients", stop_gradients=None):
    """Symbolic d(sum of ys)/dx for each x in xs (ys weighted by grad_ys if given).

    Returns a list with one SymbolicTensor per x (or one tensor if xs is a single
    tensor), None where x does not influence any y, as TensorFlow's tf.gradients.
    The new nodes are named under `name/` and drawn as the gradient group.
    """
    single = not isinstance(xs, (list, tuple))
    xs = [xs] if single else list(xs)
    ys = [ys] if not isinstance(ys, (list, tuple)) else list(ys)
    if not ys:
        raise GraphError("gradients: ys is empty")
    g = ys[0].graph
    ys = [as_tensor(y, g) for y in ys]
    for t in list(ys) + xs:
        if not isinstance(t, SymbolicTensor):
            raise GraphError(f"gradients: expected SymbolicTensors, got {type(t).__name__}")
        if t.graph is not g:
            raise GraphError(f"gradients: {t.name} belongs to another graph")
    if grad_ys is not None:
        grad_ys = [grad_ys] if not isinstance(grad_ys, (list, tuple)) else list(grad_ys)
        if len(grad_ys) != len(ys):
            raise GraphError(f"gradients: {len(ys)} ys but {len(grad_ys)} grad_ys")
    stops = {id(t) for t in (stop_gradients or [])}

    order = _ancestors_in_order(ys)
    x_ids = {id(x) for x in xs}
    influenced = set(x_ids)           # ids of edges that depend on some x
    for node in order:
        for out in node.outputs:
            if id(out) in x_ids or id(out) in stops:
                continue
            reached = any(id(t) in influenced and _floating(t) for t in node.inputs)
            if not reached:
                continue
            if node.kind == "gradient":
                raise GraphError(f"gradients: the path from xs to ys goes through the gradient "
                                 f"node {node.name}; gradients of gradients are not supported")
            if node.kind == "op" and node.attrs["differentiable"] and _floating(out):
                influenced.add(id(out))

    contributions = {}
    with g.name_scope(name):
        for i, y in enumerate(ys):
            if id(y) not in influenced:
                continue
            if grad_ys is not None and grad_ys[i] is not None:
                seed = as_tensor(grad_ys[i], g, dtype=y.dtype)
                if (seed.shape is not None and y.shape is not None and
                        (len(seed.shape) != len(y.shape) or any(
                            a is not None and b is not None and a != b
                            for a, b in zip(seed.shape, y.shape)))):
                    raise GraphError(f"gradients: grad_ys[{i}] has shape "
                                     f"{format_shape(seed.shape)} but {y.name} has shape "
                                     f"{format_shape(y.shape)}")
            else:
                seed = op(_ones_like, [y], type="OnesLike", name=f"{y.node.name}_seed")
            contributions.setdefault(id(y), []).append(seed)

        for node in reversed(order):
            if node.kind != "op" or not node.attrs["differentiable"]:
                continue
            outs = [k for k, out in enumerate(node.outputs) if contributions.get(id(out))]
            if not outs:
                continue
            wrt = [i for i, t in enumerate(node.inputs) if id(t) in influenced and _floating(t)]
            if not wrt:
                continue
            upstream = [_summed(contributions[id(node.outputs[k])], g) for k in outs]
            grad_node = g._add("gradient", f"{node.name}_grad", inputs=upstream,
                               attrs={"forward": node, "out_index": outs, "wrt": wrt,
                                      "type": node.type + "Grad"})
            grad_outs = grad_node._set_outputs([(node.inputs[i].dtype, node.inputs[i].shape)
                                                for i in wrt])
            for i, gout in zip(wrt, grad_outs):
                contributions.setdefault(id(node.inputs[i]), []).append(gout)

        result = []
        for x in xs:
            parts = contributions.get(id(x))
            result.append(_summed(parts, g) if parts else None)
    return result[0] if single else result


def _summed(parts, g):
    if len(parts) == 1:
        return parts[0]
    return op(_add_n, parts, type="AddN")


def _ones_like(y):
    return _ops_ones_like(y)

