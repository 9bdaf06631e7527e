"""Reverse-mode differentiation: the chain rule applied from the output back.

`run_backward` orders the graph topologically (every tensor after the tensors
it was computed from), then walks that order in reverse. Each node receives the
sum of the gradients flowing into its output, asks its Function for the
gradients of its inputs (dL/dx = dL/dy * dy/dx), and passes them on. Leaves that
require grad accumulate into `.grad`, as in PyTorch.
"""
import numpy as np


def _topological_order(root):
    order, seen = [], set()
    stack = [(root, False)]
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
    order = _topological_order(root)
    grads = {id(root): grad}
    for tensor in reversed(order):
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        ctx = tensor._ctx
        if ctx is None or tensor._retains_grad:
            _accumulate_grad(tensor, g)
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
