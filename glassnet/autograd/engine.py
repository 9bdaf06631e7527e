"""Reverse-mode differentiation: the chain rule applied from the output back.

`run_backward` orders the graph topologically (every tensor after the tensors
it was computed from), then walks that order in reverse. Each node receives the
sum of the gradients flowing into its output, asks its Function for the
gradients of its inputs (dL/dx = dL/dy * dy/dx), and passes them on. Leaves that
require grad accumulate into `.grad`, as in PyTorch.
"""
import numpy as np


def _topological_order(roots):
    """Every tensor reachable from `roots` (a tensor or a list of them) after the tensors
    it was computed from: a post-order with one `seen` set shared by all the roots."""
    order, seen = [], set()
    roots = roots if isinstance(roots, (list, tuple)) else [roots]
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        ctx = tensor._ctx
        if ctx is None:
            continue
        if ctx.released:
            raise RuntimeError(
                f"backward: the graph through {ctx.name} was already freed by an earlier "
                "backward(); call backward(retain_graph=True) the first time if you need "
                "to backpropagate through it twice")
        for parent in ctx.parents:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order


def run_backward(root, grad, retain_graph=False):
    def visit(tensor, g):
        if tensor._ctx is None or tensor._retains_grad:
            _accumulate_grad(tensor, g)
    _propagate([root], {id(root): grad}, visit, retain_graph)


def _propagate(roots, grads, visit, retain_graph):
    """The reverse walk shared by `backward` and `grad`: from `roots`, whose gradients
    `grads` holds by id, every tensor in reverse topological order gets the sum of the
    gradients flowing into it, shown to `visit(tensor, g)`, then passed through its
    Function's backward to its inputs (each node released unless retain_graph)."""
    for tensor in reversed(_topological_order(roots)):
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        visit(tensor, g)
        ctx = tensor._ctx
        if ctx is None:
            continue
        input_grads = ctx.backward(g)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        for parent, pg, needed in zip(ctx.parents, input_grads, ctx.needs_input_grad):
            if not needed or pg is None:
                continue
            if pg.shape != parent._array.shape:
                raise RuntimeError(
                    f"{ctx.name}.backward returned a gradient of shape {pg.shape} "
                    f"for an input of shape {parent._array.shape}")
            key = id(parent)
            previous = grads.get(key)
            grads[key] = pg if previous is None else previous + pg
        if not retain_graph:
            ctx.release()


def _accumulate_grad(tensor, g):
    # A fresh, owned array: backward passes may hand the same array to several
    # inputs, and optimizers may update .grad in place.
    g = np.array(g, dtype=tensor._array.dtype, copy=True)
    if tensor.grad is None:
        tensor.grad = type(tensor)._make(g, False, None)
    else:
        tensor.grad._array = tensor.grad._array + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=False):
    """dL/d(input) for each of `inputs`, as arrays, without touching any `.grad`.

    L is sum_i <grad_outputs[i], outputs[i]>: `outputs` are tensors (one or a list),
    `grad_outputs` arrays of their shapes (None for "no gradient flows from this
    output"; omitted entirely, every output must be a one-element tensor and gets 1).
    The result has one entry per input: an array of the input's shape, or None when
    no output depends on that input. The inputs need not be leaves. As in `backward`,
    every node walked is released afterwards unless `retain_graph=True`.
    glassnet.graph's gradient nodes call this on the sub-graph one forward node recorded.
    """
    single = not isinstance(outputs, (list, tuple))
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None if not o.requires_grad else _implicit_seed(o) for o in outputs]
    elif single and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    grads, roots = {}, []
    for out, g in zip(outputs, grad_outputs):
        if g is None or not out.requires_grad:
            continue
        g = np.asarray(g._array if hasattr(g, "_array") else g)
        if g.shape != out._array.shape:
            raise ValueError(f"grad: a grad_output of shape {g.shape} was given for an "
                             f"output of shape {out._array.shape}")
        if g.dtype != out._array.dtype:
            g = g.astype(out._array.dtype)
        key = id(out)
        if key in grads:
            grads[key] = grads[key] + g
        else:
            grads[key] = g
            roots.append(out)
    wanted = {}
    for i, t in enumerate(inputs):
        wanted.setdefault(id(t), []).append(i)
    result = [None] * len(inputs)

    def visit(tensor, g):
        for i in wanted.get(id(tensor), ()):
            result[i] = g
    if roots:
        _propagate(roots, grads, visit, retain_graph)
    return result


def _implicit_seed(out):
    if out._array.size != 1:
        raise RuntimeError(f"grad: a gradient can be created implicitly only for a "
                           f"one-element output; this output has shape {out._array.shape}, "
                           "so pass grad_outputs")
    return np.ones_like(out._array)
