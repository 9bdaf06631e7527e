"""Where the time of one training step of a zoo model goes: a cProfile grouped by op family.

    python benchmarks/profile_step.py resnet20 [--batch 128] [--steps 20] [--warmup 3]
                                               [--top 25] [--json]

The step is the CIFAR recipe's: random CIFAR-shaped images and labels (fixed seed, a new
batch every step), forward, cross-entropy, backward, SGD with Nesterov momentum 0.9 and
weight decay 5e-4. After `--warmup` untimed steps, `--steps` steps are timed without the
profiler (images/s, ms/step), then as many again under cProfile: the profiler adds a fixed
cost to every Python call, so the profiled step is longer and its Python-heavy parts look
bigger than they are; both times are printed.

The profile's functions are grouped as follows (ms per step, % of the profiled step):
- every `Function` subclass of glassnet.ops has its own `forward`/`backward` code; their
  cumulative time goes to the family its class belongs to (FAMILIES below: Conv -> conv,
  _BatchNormCompiled/_Normalize -> batchnorm, ReLU/Hardtanh (ReLU6) -> relu, Add and the
  other binary ops -> add, pooling classes, Linear/Matmul -> linear, ops/loss.py -> loss;
  any other class -> "other ops", which names them);
- conv backward is split by the helper its time went through (CONV_BACKWARD below): the
  input gradient (`_input_grad`, or the flipped direct convolution `native.conv_direct`
  when called from `_direct_backward`), the weight gradient (`_weight_grad`,
  `native.conv_weight_grad`), and the rest (bias gradient, layout copies, padding);
- autograd engine overhead: the backward phase less every op backward (the topological
  sort, summing gradients of tensors used twice, accumulating into .grad, releasing
  saved arrays);
- forward Python: the forward phase less every op forward (Module.__call__, hooks,
  Function.apply, Tensor wrapping, argument checks);
- optimizer: `step()` and `zero_grad()`; other: what remains of the step (the loop).
cProfile sees the main thread only; time it waits for glassnet's kernel threads or for
OpenBLAS counts to the function that waits. To see inside native code, run py-spy on the
same command (`py-spy record --native -o prof.svg -- python benchmarks/profile_step.py ...`).

With --json the last line of stdout is one JSON object: {"model", "batch", "steps",
"ms_per_step", "images_per_second", "profiled_ms_per_step", "families": [{"name", "ms",
"percent"}], "convolutions": [{"kind", "phase", "ms", "percent"}], "top": [{"function",
"calls", "self_ms", "cumulative_ms"}], "load_average"}. The convolutions table times
each Conv forward/backward (in the profiled steps) by kind: depthwise, pointwise 1x1,
dense (direct or im2col + GEMM).
"""
import argparse
import ast
import contextlib
import cProfile
import functools
import json
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import glassnet as gn  # noqa: E402  (before NumPy: it sets OpenBLAS's thread timeout)
import glassnet.nn.functional as F  # noqa: E402
from glassnet import models  # noqa: E402
from glassnet.autograd.function import Function  # noqa: E402
from glassnet.ops.conv import Conv  # noqa: E402

import numpy as np  # noqa: E402

# Function class -> family; classes of ops/loss.py are "loss", all others "other ops"
FAMILIES = {"Conv": "conv", "_BatchNormCompiled": "batchnorm", "_Normalize": "batchnorm",
            "ReLU": "relu/relu6", "Hardtanh": "relu/relu6", "_Masked": "relu/relu6",
            "_Binary": "add", "Add": "add", "MaxPool2d": "pooling", "AvgPool2d": "pooling",
            "AdaptiveAvgPool2d": "pooling", "Linear": "linear", "Matmul": "linear"}
# (function, the function that called it) -> which part of conv backward it is
CONV_BACKWARD = {("_input_grad", "backward"): "input grad",
                 ("conv_direct", "_direct_backward"): "input grad",
                 ("_weight_grad", "backward"): "weight grad",
                 ("conv_weight_grad", "_direct_backward"): "weight grad"}
CONV_FILES = ("ops/conv.py", "_kernels/native.py")


def _family(cls):
    if cls.__module__.endswith(".loss"):
        return "loss"
    return FAMILIES.get(cls.__name__, "other ops")


def _op_codes():
    """{profile key of a forward/backward code: (family, 'forward'|'backward', class name)}
    for every Function subclass that defines its own."""
    codes, todo = {}, list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for phase in ("forward", "backward"):
            fn = cls.__dict__.get(phase)
            if fn is not None:
                code = fn.__code__
                codes[(code.co_filename, code.co_firstlineno, code.co_name)] = (
                    _family(cls), phase, cls.__name__)
    return codes


# ------------------------------------------------------------------- the step, in phases
def _forward(model, x, y):
    return F.cross_entropy(model(x), y)


def _backward(loss):
    loss.backward()


def _update(optimizer):
    optimizer.step()
    optimizer.zero_grad()


def train_step(model, optimizer, batch):
    loss = _forward(model, *batch)
    _backward(loss)
    _update(optimizer)
    return loss


def setup(name, batch_size, batches, seed=0):
    gn.manual_seed(seed)
    model = models.get(name)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]  # cifar-fast freezes one
    optimizer = gn.optim.SGD(trainable, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    _, input_size = models.describe(name)
    rng = np.random.default_rng(seed)
    data = [(gn.from_numpy(rng.standard_normal((batch_size, *input_size), np.float32)),
             gn.from_numpy(rng.integers(0, 10, batch_size))) for _ in range(batches)]
    return model, optimizer, data


# ------------------------------------------------------------------- grouping the profile
def _called_from(stats, key, caller_name, caller_files):
    """Cumulative time of `key` in calls made by functions named caller_name."""
    return sum(t[3] for c, t in stats[key][4].items()
               if c[2] == caller_name and c[0].endswith(caller_files))


def families(stats, steps):
    """[(row name, seconds per step)] of one profiled step, in the order of the table."""
    here = os.path.abspath(__file__)
    phase = {n: sum(stats[k][3] for k in stats if k[0] == here and k[2] == n)
             for n in ("train_step", "_forward", "_backward", "_update")}
    op, others = {}, set()
    for key, (family, part, cls) in _op_codes().items():
        if key not in stats:
            continue
        op[(family, part)] = op.get((family, part), 0.0) + stats[key][3]
        if family == "other ops":
            others.add(cls)
    backward_ops = sum(t for (_, part), t in op.items() if part == "backward")
    split = {"input grad": 0.0, "weight grad": 0.0}
    for (name, caller), part in CONV_BACKWARD.items():
        for key in [k for k in stats if k[2] == name and k[0].endswith(CONV_FILES)]:
            split[part] += _called_from(stats, key, caller, "ops/conv.py")
    rows = [("conv forward", op.pop(("conv", "forward"), 0.0)),
            ("conv backward: input grad", split["input grad"]),
            ("conv backward: weight grad", split["weight grad"]),
            ("conv backward: other (bias grad, copies, padding)",
             op.pop(("conv", "backward"), 0.0) - split["input grad"] - split["weight grad"])]
    for family in ("batchnorm", "relu/relu6", "add", "pooling", "linear", "loss", "other ops"):
        label = family + (f" ({', '.join(sorted(others))})" if family == "other ops" else "")
        rows += [(f"{label} forward", op.pop((family, "forward"), 0.0)),
                 (f"{label} backward", op.pop((family, "backward"), 0.0))]
    forward_ops = sum(t for name, t in rows if name.endswith("forward"))
    rows += [("optimizer step + zero_grad", phase["_update"]),
             ("autograd engine overhead", phase["_backward"] - backward_ops),
             ("forward Python (modules, Function.apply)", phase["_forward"] - forward_ops),
             ("other Python", phase["train_step"] - phase["_forward"] - phase["_backward"]
              - phase["_update"])]
    return [(name, t / steps) for name, t in rows], phase["train_step"] / steps


@functools.lru_cache(maxsize=None)
def _definitions(file):
    """[(first line, last line, name)] of every function defined in a source file."""
    try:
        with open(file) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return []
    return [(node.lineno, node.end_lineno, node.name) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _label(key):
    """file:line(name) with the path from `glassnet/` on; a lambda or nested function is
    named after the function it is written in (native.py's kernel calls are lambdas)."""
    file, line, name = key
    if file == "~":
        return name
    if name == "<lambda>" or name == "run":
        inside = [d for d in _definitions(file) if d[0] < line <= d[1]]
        if inside:
            name = f"{max(inside)[2]}.{name}"
    parts = file.replace(os.sep, "/").split("/")
    short = "/".join(parts[parts.index("glassnet"):] if "glassnet" in parts else parts[-1:])
    return f"{short}:{line}({name})"


def top_functions(stats, steps, n):
    """The n functions of most own time (NumPy's ufuncs, np.matmul included, are not
    calls to cProfile: their time is their caller's own)."""
    label = _label
    ordered = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    return [{"function": label(k), "calls": v[1] / steps, "self_ms": 1e3 * v[2] / steps,
             "cumulative_ms": 1e3 * v[3] / steps} for k, v in ordered]


# ------------------------------------------------------------------- convolutions by kind
def _conv_kind(geom, conv):
    """The kind of convolution and the route its Conv took (see ops/conv.py)."""
    kernel = "x".join(str(k) for k in geom.kernel)
    if geom.groups > 1 and geom.groups == geom.c:
        return f"depthwise {kernel}" + (" (compiled)" if conv.depthwise else " (im2col + GEMM)")
    if geom.kernel == (1, 1) and geom.stride == (1, 1):
        return "pointwise 1x1" + (" (one GEMM)" if conv.pointwise else " (im2col + GEMM)")
    return f"dense {kernel}" + (" (direct)" if conv.direct else " (im2col + GEMM)")


@contextlib.contextmanager
def conv_timer(totals):
    """Add the wall time of every Conv forward and backward to totals[(kind, phase)]:
    depthwise, pointwise 1x1 and dense convolutions take different kernels."""
    forward, backward = Conv.forward, Conv.backward

    def timed_forward(self, *args, geom, **kwargs):
        start = time.perf_counter()
        out = forward(self, *args, geom=geom, **kwargs)
        key = (_conv_kind(geom, self), "forward")
        totals[key] = totals.get(key, 0.0) + time.perf_counter() - start
        return out

    def timed_backward(self, grad):
        start = time.perf_counter()
        kind = _conv_kind(self.geom, self)
        out = backward(self, grad)
        totals[(kind, "backward")] = (totals.get((kind, "backward"), 0.0)
                                      + time.perf_counter() - start)
        return out

    Conv.forward, Conv.backward = timed_forward, timed_backward
    try:
        yield totals
    finally:
        Conv.forward, Conv.backward = forward, backward


# ------------------------------------------------------------------- running and printing
def measure(name, batch, steps, warmup, top):
    model, optimizer, data = setup(name, batch, warmup + 2 * steps)
    for b in data[:warmup]:
        train_step(model, optimizer, b)
    start = time.perf_counter()
    for b in data[warmup:warmup + steps]:
        train_step(model, optimizer, b)
    seconds = (time.perf_counter() - start) / steps
    profiler, convs = cProfile.Profile(), {}
    with conv_timer(convs):
        profiler.enable()
        for b in data[warmup + steps:]:
            train_step(model, optimizer, b)
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    rows, profiled = families(stats, steps)
    return {"model": name, "batch": batch, "steps": steps, "warmup": warmup,
            "ms_per_step": 1e3 * seconds, "images_per_second": batch / seconds,
            "profiled_ms_per_step": 1e3 * profiled,
            "families": [{"name": r, "ms": 1e3 * t, "percent": 100 * t / profiled}
                         for r, t in rows],
            "convolutions": [{"kind": k, "phase": p, "ms": 1e3 * t / steps,
                              "percent": 100 * t / steps / profiled}
                             for (k, p), t in sorted(convs.items())],
            "top": top_functions(stats, steps, top),
            "load_average": list(os.getloadavg())}


def report(r):
    lines = [f"{r['model']}, batch {r['batch']}, {r['steps']} steps after {r['warmup']} "
             f"warm-up: {r['images_per_second']:.1f} img/s, {r['ms_per_step']:.1f} ms/step "
             f"({r['profiled_ms_per_step']:.1f} ms/step under cProfile)",
             "load average %.2f %.2f %.2f (a shared machine: compare percentages, not times)"
             % tuple(r["load_average"]), "",
             f"{'where the profiled step goes':<58}{'ms/step':>9}{'%':>7}"]
    lines += [f"{f['name']:<58}{f['ms']:>9.1f}{f['percent']:>7.1f}" for f in r["families"]]
    lines += ["", f"{'convolutions by kind':<40}{'phase':<10}{'ms/step':>9}{'%':>7}"]
    lines += [f"{c['kind']:<40}{c['phase']:<10}{c['ms']:>9.1f}{c['percent']:>7.1f}"
              for c in r["convolutions"]]
    lines += ["", f"top {len(r['top'])} functions by own time (per step)",
              f"{'self ms':>9}{'cum ms':>9}{'calls':>8}  function"]
    lines += [f"{t['self_ms']:>9.1f}{t['cumulative_ms']:>9.1f}{t['calls']:>8.0f}  "
              f"{t['function']}" for t in r["top"]]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", choices=models.names(), metavar="MODEL")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.batch < 1 or args.steps < 1 or args.warmup < 0 or args.top < 0:
        p.error("--batch and --steps must be >= 1, --warmup and --top >= 0")
    if models.entry(args.model).task != "classification":
        p.error(f"{args.model} is not a classifier; the step uses cross-entropy")
    result = measure(args.model, args.batch, args.steps, args.warmup, args.top)
    print(report(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
