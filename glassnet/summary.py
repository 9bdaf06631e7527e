"""`summary(model, input_size)`: the Keras-style table of a model's layers.

One forward pass on zeros (in eval mode, without a graph) records, for every
leaf layer, its output shape, its own parameter count and an estimate of its
multiply-adds; the table ends with the totals the notes use to count a model's
parameters.
"""
import ast
import inspect
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


# ----------------------------------------------------------------------- builds to compare
def parse_assignments(items, option="--set"):
    """{KEY: VALUE} from command-line "KEY=VALUE" strings. A value that is a Python
    literal (None, True, 3, 0.5, (64, 128)) becomes that object; anything else stays a
    string, so `factorize=3x3` needs no quotes."""
    arguments = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"summary: {option} expects KEY=VALUE, got {item!r}")
        try:
            arguments[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            arguments[key] = text.strip()
    return arguments


def build_model(name, arguments):
    """The zoo model `name` built with keyword `arguments`; a key its builder does not take,
    or a value it refuses, is one ValueError naming the model and the arguments it accepts."""
    from . import models      # the zoo is an application layer above this module
    builder = models.entry(name).builder
    parameters = inspect.signature(builder).parameters
    accepted = ", ".join(f"{p.name}={p.default!r}" for p in parameters.values()
                         if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    unknown = [k for k in arguments if k not in parameters and not takes_any]
    if unknown:
        raise ValueError(f"summary: {name} has no argument {', '.join(unknown)}; "
                         f"{name} accepts: {accepted or 'no arguments'}")
    try:
        return builder(**arguments)
    except (ValueError, TypeError) as e:
        reason = " ".join(str(e).split())
        raise ValueError(f"summary: {name} cannot be built with {_arguments_text(arguments)} "
                         f"({reason}); {name} accepts: {accepted}") from e


def change(before, after):
    """after / before - 1, the relative change (None when there was nothing before)."""
    return after / before - 1 if before else None


def comparison(base, variant, base_arguments, variant_arguments):
    """Parameters and multiply-adds of two Summaries and their relative changes, as a
    JSON-ready dict."""
    return {"baseline": {"arguments": base_arguments, "params": base.total_params,
                         "mult_adds": base.mult_adds},
            "variant": {"arguments": variant_arguments, "params": variant.total_params,
                        "mult_adds": variant.mult_adds},
            "params_change": change(base.total_params, variant.total_params),
            "mult_adds_change": change(base.mult_adds, variant.mult_adds)}


def comparison_text(name, c):
    """The comparison block printed under the table of `summary MODEL --compare`."""
    labels = [_arguments_text(c["baseline"]["arguments"]) or "default build",
              _arguments_text(c["variant"]["arguments"]) or "default build"]
    w = max(len(s) for s in labels) + 2
    lines = [f"{name}: {labels[1]} against {labels[0]}",
             f"{'':<{w}}{'parameters':>14}  {'multiply-adds per sample':>26}"]
    for label, side in zip(labels, ("baseline", "variant")):
        lines.append(f"{label:<{w}}{c[side]['params']:>14,}  {c[side]['mult_adds']:>26,}")
    lines.append(f"change: {_percent(c['params_change'])} parameters, "
                 f"{_percent(c['mult_adds_change'])} multiply-adds")
    return "\n".join(lines)


def _arguments_text(arguments):
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items())


def _percent(fraction):
    return "n/a" if fraction is None else f"{100 * fraction:+.1f}%"


# ----------------------------------------------------------------------- the notes' savings
SAVINGS_CHANNELS, SAVINGS_SIZE = 64, 32


def _savings_pairs():
    """(label, baseline module, variant module) for each of the notes' worked comparisons,
    built from the same classes the zoo uses: C channels in and out, stride 1, 'same'
    padding, so that only the way the window is spelled differs."""
    from . import nn
    from .models.cifar_classic import vgg_block
    from .models.cifar_modern import ConvBN, DepthwiseSeparable, Inception
    c = SAVINGS_CHANNELS

    def convs(kernel, n, bias):
        return nn.Sequential(*[nn.Conv2d(c, c, kernel, padding=kernel // 2, bias=bias)
                               for _ in range(n)])

    def inception(factorize):     # every branch C wide, bottlenecks included
        return Inception(c, c, c, c, c, c, c, factorize=factorize)

    # the branches' wide units, after their 1x1 bottleneck: b2 holds the 3x3, b3 the 5x5
    return [
        ("VGG: one 5x5 conv vs two stacked 3x3 convs, no bias", convs(5, 1, False),
         convs(3, 2, False)),
        ("VGG: one 5x5 conv vs two stacked 3x3 convs, with bias", convs(5, 1, True),
         convs(3, 2, True)),
        ("VGG: vgg_block(C, C, convs=1, kernel=5) vs vgg_block(C, C) (bias, BatchNorm, pool)",
         vgg_block(c, c, convs=1, kernel=5), vgg_block(c, c)),
        ("Inception v2: the 5x5 unit of the 5x5 branch vs two 3x3 units (factorize='3x3'; "
         "conv without bias + BatchNorm)", inception(None).b3[1:], inception("3x3").b3[1:]),
        ("Inception v3: the 3x3 unit of the 3x3 branch vs 1x3 then 3x1 (factorize="
         "'asymmetric', n=3)", inception(None).b2[1:], inception("asymmetric").b2[1:]),
        ("MobileNet: a standard 3x3 conv vs depthwise 3x3 + pointwise 1x1 (each with "
         "BatchNorm and ReLU, no bias)", ConvBN(c, c, 3, padding=1), DepthwiseSeparable(c, c)),
    ]


def savings():
    """The notes' worked comparisons, counted on built modules: for each, parameters and
    multiply-adds per sample of both spellings and the relative change; then the whole
    `inception` model under its three `factorize` settings. A JSON-ready dict."""
    from . import models
    size = (SAVINGS_CHANNELS, SAVINGS_SIZE, SAVINGS_SIZE)
    blocks = []
    for label, before, after in _savings_pairs():
        a, b = summary(before, size), summary(after, size)
        blocks.append({"comparison": label, "params": [a.total_params, b.total_params],
                       "mult_adds": [a.mult_adds, b.mult_adds],
                       "params_change": change(a.total_params, b.total_params),
                       "mult_adds_change": change(a.mult_adds, b.mult_adds)})
    _, input_size = models.describe("inception")
    whole = []
    for factorize in (None, "3x3", "asymmetric"):
        s = summary(models.get("inception", factorize=factorize), input_size)
        whole.append({"factorize": factorize, "params": s.total_params,
                      "mult_adds": s.mult_adds})
    for row in whole:
        row["params_change"] = change(whole[0]["params"], row["params"])
        row["mult_adds_change"] = change(whole[0]["mult_adds"], row["mult_adds"])
    return {"channels": SAVINGS_CHANNELS, "input_size": list(size), "blocks": blocks,
            "inception": whole}


def savings_text(result):
    """`savings()` as the text `glassnet summary --savings` prints."""
    c, h = result["channels"], result["input_size"][1]
    lines = [f"The notes' savings, counted on glassnet's modules: C = {c} channels in and "
             f"out, stride 1, 'same' padding, multiply-adds for one {h}x{h} sample.", ""]
    for row in result["blocks"]:
        lines.append(row["comparison"])
        for key, name in (("params", "parameters"), ("mult_adds", "multiply-adds")):
            before, after = row[key]
            lines.append(f"    {name:<14}{before:>14,} -> {after:>12,}   "
                         f"{_percent(row[key + '_change']):>7}")
    lines += ["", "inception (the whole zoo model, 3x32x32 input), by factorize:",
              f"    {'factorize':<14}{'parameters':>12} {'':>8}  {'multiply-adds':>14}"]
    for row in result["inception"]:
        lines.append(f"    {row['factorize']!r:<14}{row['params']:>12,} "
                     f"{_percent(row['params_change']):>8}  {row['mult_adds']:>14,} "
                     f"{_percent(row['mult_adds_change']):>8}")
    lines.append("    (where a branch's output is wider than its 1x1 bottleneck, as in GoogLeNet's "
                 "5x5 branches, the second conv of a pair maps the wide side to itself and "
                 "can cost more than the kernel it replaces)")
    return "\n".join(lines)
