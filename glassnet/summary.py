"""`summary(model, input_size)`: the Keras-style table of a model's layers.

One forward pass on zeros (in eval mode, without a graph) records, for every
leaf layer, its output shape, its own parameter count and an estimate of its
multiply-adds; the table ends with the totals the notes use to count a model's
parameters.
"""
import math

import numpy as np

from . import creation
from .autograd.grad_mode import no_grad
from .tensor import Tensor


class LayerRow:
    __slots__ = ("name", "type", "output_shape", "params", "trainable", "mult_adds")

    def __init__(self, name, type, output_shape, params, trainable, mult_adds):
        self.name, self.type, self.output_shape = name, type, output_shape
        self.params, self.trainable, self.mult_adds = params, trainable, mult_adds

    def __repr__(self):
        return (f"LayerRow({self.name!r}, {self.type}, output_shape={self.output_shape}, "
                f"params={self.params})")


class Summary:
    """The rows (`layers`) and totals of a model; `str()` is the printed table."""

    def __init__(self, model, layers, total_params, trainable_params, mult_adds,
                 activation_bytes, param_bytes, input_size):
        self.model, self.layers, self.input_size = model, layers, input_size
        self.total_params, self.trainable_params = total_params, trainable_params
        self.non_trainable_params = total_params - trainable_params
        self.mult_adds, self.activation_bytes, self.param_bytes = (mult_adds, activation_bytes,
                                                                   param_bytes)

    def __str__(self):
        rows = [(f"{r.name} ({r.type})", _shape_text(r.output_shape), f"{r.params:,}")
                for r in self.layers]
        head = ("Layer (type)", "Output Shape", "Param #")
        w0 = max([len(head[0])] + [len(r[0]) for r in rows]) + 2
        w1 = max([len(head[1])] + [len(r[1]) for r in rows]) + 2
        w2 = max([len(head[2])] + [len(r[2]) for r in rows])
        width = w0 + w1 + w2
        lines = [f"Model: {type(self.model).__name__}", "=" * width,
                 f"{head[0]:<{w0}}{head[1]:<{w1}}{head[2]:>{w2}}", "=" * width]
        lines += [f"{a:<{w0}}{b:<{w1}}{c:>{w2}}" for a, b, c in rows]
        lines += ["=" * width,
                  f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}",
                  "-" * width,
                  f"Forward multiply-adds per sample: {_count_text(self.mult_adds)}",
                  f"Activation memory per sample (forward): {_bytes_text(self.activation_bytes)}",
                  f"Parameter memory: {_bytes_text(self.param_bytes)}",
                  "-" * width]
        return "\n".join(lines)

    __repr__ = __str__


def summary(model, input_size=None, dtype=np.float32, batch_size=-1):
    """Summarise `model` on one input of `input_size` (without the batch dim).

    With `input_size=None` only the parameter counts are known: the table lists
    every leaf layer with its parameters and no output shapes.
    """
    leaves = [(name, m) for name, m in model.named_modules() if not any(True for _ in m.children())]
    records = {}
    handles = [m.register_forward_hook(_recorder(records, name)) for name, m in leaves]
    was_training = model.training
    try:
        if input_size is not None:
            x = creation.zeros(1, *tuple(input_size), dtype=dtype)
            model.eval()
            with no_grad():
                model(x)
    except Exception as e:
        raise ValueError(f"summary: a forward pass of {type(model).__name__} on input of size "
                         f"{tuple(input_size)} failed: {e}") from e
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    layers, activation_bytes, mult_adds = [], 0, 0
    for name, m in leaves:
        own = list(m.parameters(recurse=False))
        shape, out_bytes = records.get(name, (None, 0))
        macs = _mult_adds(m, shape) if shape is not None else 0
        mult_adds += macs
        activation_bytes += out_bytes
        if shape is not None:
            shape = (batch_size if batch_size != -1 else -1,) + tuple(shape[1:])
        layers.append(LayerRow(name or type(m).__name__, type(m).__name__, shape,
                               sum(p.numel() for p in own), all(p.requires_grad for p in own),
                               macs))
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return Summary(model, layers, total, trainable, mult_adds, activation_bytes,
                   sum(p._array.nbytes for p in params), input_size)


def _recorder(records, name):
    def hook(module, inputs, output):
        first = output[0] if isinstance(output, (tuple, list)) else output
        if isinstance(first, Tensor):
            records[name] = (first.shape, first._array.nbytes)
    return hook


def _mult_adds(module, out_shape):
    """Multiply-adds of one sample through this layer (matrix products only)."""
    kind = type(module).__name__
    outputs = math.prod(out_shape[1:])
    if kind in ("Linear", "LazyLinear"):
        return outputs * module.weight.shape[1]
    if kind in ("Conv1d", "Conv2d", "LazyConv2d"):
        return outputs * math.prod(module.weight.shape[1:])
    return 0


def _shape_text(shape):
    return "" if shape is None else "[" + ", ".join(str(n) for n in shape) + "]"


def _count_text(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit} ({n:,})"
    return f"{n:,}"


def _bytes_text(n):
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.2f} KiB"
