"""glassnet vs PyTorch, forward + backward of the convolution and pooling ops, in one process.

    python benchmarks/ops_vs_torch.py [--rounds 15] [--warmup 3] [--cases conv,pool] [--json]

Each case runs the same op on the same data in both frameworks (every input
requiring grad unless the name says otherwise, a fixed random output gradient;
the last case is a whole training step of the notes' MNIST CNN), alternating glassnet and
PyTorch round after round so that both see the same machine load, and prints
the median time of each and the ratio glassnet / torch. With --json the last
line of stdout is {case: {"glassnet_ms": ..., "torch_ms": ..., "ratio": ...}}.
Both run with 2 threads (torch.set_num_threads(2); OPENBLAS_NUM_THREADS=2 unless set).
"""
import argparse
import json

# first: _common sets the thread environment that NumPy and PyTorch read on import
from _common import THREADS, alternate, load_report, thread_report

import numpy as np
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F

LABELS = np.random.default_rng(1).integers(0, 10, 64)


def _mnist_step(conv, pool, relu, linear, cross_entropy, labels):
    """The notes' MNIST CNN forward to the loss: conv-relu-pool twice, linear, cross-entropy."""
    def step(x, w1, b1, w2, b2, w3, b3):
        h = pool(relu(conv(x, w1, b1, padding=2)), 2)
        h = pool(relu(conv(h, w2, b2, padding=2)), 2)
        return cross_entropy(linear(h.reshape(h.shape[0], -1), w3, b3), labels)
    return step


def _both(op, *args, **kwargs):
    """The same call, `op(*tensors, *args, **kwargs)`, in glassnet and in PyTorch."""
    return (lambda *t: getattr(F, op)(*t, *args, **kwargs),
            lambda *t: getattr(TF, op)(*t, *args, **kwargs))


CONV_1_16 = [(64, 1, 28, 28), (16, 1, 5, 5), (16,)]
# name: (input shapes, glassnet call, torch call); the first four are the notes' MNIST CNN
CASES = {
    "conv2d 1->16 5x5 p2 (64,1,28,28)": (CONV_1_16, *_both("conv2d", padding=2)),
    "conv2d 16->32 5x5 p2 (64,16,14,14)": (
        [(64, 16, 14, 14), (32, 16, 5, 5), (32,)], *_both("conv2d", padding=2)),
    "max_pool2d 2x2 (64,16,28,28)": ([(64, 16, 28, 28)], *_both("max_pool2d", 2)),
    "max_pool2d 2x2 (64,32,14,14)": ([(64, 32, 14, 14)], *_both("max_pool2d", 2)),
    # beyond the MNIST CNN: the general paths
    "conv2d 1->16 5x5 p2, no input grad": (CONV_1_16, *_both("conv2d", padding=2)),
    "conv2d 64->64 3x3 p1 (32,64,16,16)": (
        [(32, 64, 16, 16), (64, 64, 3, 3), (64,)], *_both("conv2d", padding=1)),
    "conv2d 32->64 3x3 s2 p1 (32,32,32,32)": (
        [(32, 32, 32, 32), (64, 32, 3, 3), (64,)], *_both("conv2d", stride=2, padding=1)),
    "conv2d depthwise 3x3 p1 (32,64,16,16)": (
        [(32, 64, 16, 16), (64, 1, 3, 3), (64,)], *_both("conv2d", padding=1, groups=64)),
    "conv2d 1x1 64->128 (32,64,16,16)": (
        [(32, 64, 16, 16), (128, 64, 1, 1), (128,)], *_both("conv2d")),
    "relu6 (64,96,32,32)": ([(64, 96, 32, 32)], *_both("relu6")),
    "gelu (64,96,32,32)": ([(64, 96, 32, 32)], *_both("gelu")),
    "conv1d 32->64 k5 (32,32,128)": (
        [(32, 32, 128), (64, 32, 5), (64,)], *_both("conv1d", padding=2)),
    "max_pool2d 3x3 s2 p1 (32,64,32,32)": ([(32, 64, 32, 32)], *_both("max_pool2d", 3, 2, 1)),
    "avg_pool2d 2x2 (64,32,14,14)": ([(64, 32, 14, 14)], *_both("avg_pool2d", 2)),
    "avg_pool2d 3x3 s1 p1 (32,64,16,16)": ([(32, 64, 16, 16)], *_both("avg_pool2d", 3, 1, 1)),
    "adaptive_avg_pool2d 1 (64,256,7,7)": ([(64, 256, 7, 7)], *_both("adaptive_avg_pool2d", 1)),
    "MNIST CNN train step (64,1,28,28)": (
        [(64, 1, 28, 28), (16, 1, 5, 5), (16,), (32, 16, 5, 5), (32,), (10, 1568), (10,)],
        _mnist_step(F.conv2d, F.max_pool2d, F.relu, F.linear, F.cross_entropy,
                    gn.tensor(LABELS)),
        _mnist_step(TF.conv2d, TF.max_pool2d, TF.relu, TF.linear, TF.cross_entropy,
                    torch.tensor(LABELS))),
}
NO_INPUT_GRAD = {"conv2d 1->16 5x5 p2, no input grad", "MNIST CNN train step (64,1,28,28)"}


def make_runners(name, seed=0):
    """One closure per framework that runs forward + backward once."""
    shapes, gn_fn, torch_fn = CASES[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    grad_input = [not (i == 0 and name in NO_INPUT_GRAD) for i in range(len(arrays))]
    g_in = [gn.tensor(a, requires_grad=r) for a, r in zip(arrays, grad_input)]
    t_in = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, grad_input)]
    out_shape = tuple(torch_fn(*t_in).shape)
    g_out = rng.standard_normal(out_shape).astype(np.float32)
    g_out_t = torch.tensor(g_out)

    def run_glassnet():
        for t in g_in:
            t.grad = None
        gn_fn(*g_in).backward(g_out)

    def run_torch():
        for t in t_in:
            t.grad = None
        torch_fn(*t_in).backward(g_out_t)

    return run_glassnet, run_torch


def bench(name, rounds, warmup):
    run_gn, run_torch = make_runners(name)
    for _ in range(warmup):
        run_gn()
        run_torch()
    times = alternate({"glassnet": run_gn, "torch": run_torch}, rounds)
    gn_ms, torch_ms = (float(np.median(times[k])) * 1e3 for k in ("glassnet", "torch"))
    return {"glassnet_ms": round(gn_ms, 3), "torch_ms": round(torch_ms, 3),
            "ratio": round(gn_ms / torch_ms, 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds per case")
    parser.add_argument("--cases", default="",
                        help="comma-separated substrings; run only the cases whose name has one")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    wanted = [s.strip() for s in args.cases.split(",") if s.strip()]
    names = [n for n in CASES if not wanted or any(w in n for w in wanted)]
    results = {}
    print(load_report())
    print(thread_report(torch))
    print(f"{'case':42s} {'glassnet ms':>12s} {'torch ms':>10s} {'ratio':>7s}")
    for name in names:
        r = results[name] = bench(name, args.rounds, args.warmup)
        print(f"{name:42s} {r['glassnet_ms']:12.3f} {r['torch_ms']:10.3f} {r['ratio']:7.2f}",
              flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
