"""glassnet vs PyTorch on whole networks: training and inference throughput in one process.

    python benchmarks/vs_torch.py [--workloads mlp,cnn] [--rounds 5] [--quick] [--json]

Each workload builds one network of the zoo (`glassnet.models.get`) and the same network
in PyTorch, with glassnet's initial weights copied in. Before timing, both compute the
loss on the same batch (dropout off), and for training workloads the gradients and the
loss after one Adam step: they must agree to rtol 1e-3, or the workload is reported as
an error instead of timed. Then the frameworks take turns, round after round, each
running the same number of steps per round (fixed for the run, chosen from the warm-up
steps so that a round lasts about 0.5 s): a training step is forward, cross-entropy,
backward and an Adam step (lr 1e-3, batch 64); an inference step is a forward pass of
1000 images in eval mode without recording a graph. Reported per framework: the median
images/s over the rounds and its [min, max]; the ratio glassnet / torch of the medians
(> 1: glassnet faster); glassnet's achieved GFLOP/s, from the Linear/Conv/LSTM products
counted analytically (2 FLOPs per multiply-add, a training step 3x the forward), beside
the machine's float32 GEMM rate measured with NumPy (2048^3, median of 5, before
and after the workloads, the higher kept). Both frameworks use 2 threads.

With --json the last line of stdout is one JSON object:
{"sgemm_gflops", "threads", "rounds", "workloads": {name: {"glassnet", "torch", "ratio",
"gflops", "glassnet_spread", "torch_spread", ...}}, "skipped": {name: reason}}.
"""
import argparse
import json
import sys
from dataclasses import dataclass

from _common import (THREADS, alternate, copy_weights, forward_flops,  # first: threads
                     load_report, lstm_classifier, seconds, sgemm_gflops, thread_report,
                     torch_mirror)

import numpy as np
import torch

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import models

RTOL = 1e-3


@dataclass(frozen=True)
class Workload:
    model: str          # name in glassnet.models
    train: bool
    batch: int
    input_size: tuple = (1, 28, 28)


WORKLOADS = {
    "mlp": Workload("mlp", True, 64),
    "cnn": Workload("cnn-mnist", True, 64),
    "cnn-deep": Workload("cnn-mnist-deep", True, 64),
    "lstm": Workload("lstm-mnist", True, 64, (28, 28)),
    "cnn-infer": Workload("cnn-mnist", False, 1000),
    "mlp-infer": Workload("mlp", False, 1000),
}
ROUND_SECONDS = 0.5     # a round's length per framework, at the geometric mean of their speeds


class Mismatch(AssertionError):
    """The two frameworks do not compute the same thing: timing them would mislead."""


def skip_reason(workload):
    if workload.model == "lstm-mnist" and not hasattr(gn.nn, "LSTM"):
        return "glassnet.nn has no LSTM yet"
    return None


def build(workload):
    """(glassnet model, torch model with the same weights), both in train mode."""
    gn.manual_seed(0)
    if workload.model in models.names():
        gn_model = models.get(workload.model)
    elif workload.model == "lstm-mnist":
        gn_model = lstm_classifier(gn.nn)
    else:
        raise KeyError(f"no model {workload.model!r} in glassnet.models")
    try:
        torch_model = torch_mirror(gn_model, torch)
    except TypeError:
        if workload.model != "lstm-mnist":
            raise
        torch_model = lstm_classifier(torch.nn)  # a zoo LSTM model of its own class
    copy_weights(gn_model, torch_model, torch)
    return gn_model, torch_model


def make_batch(workload, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (workload.batch, *workload.input_size)).astype(np.float32)
    y = rng.integers(0, 10, workload.batch)
    return x, y


def _close(a, b, rtol=RTOL):
    return abs(a - b) <= rtol * abs(b)


def _loss_pair(gn_model, torch_model, gx, gy, tx, ty):
    gn_loss, t_loss = F.cross_entropy(gn_model(gx), gy), torch.nn.functional.cross_entropy(
        torch_model(tx), ty)
    return gn_loss, t_loss


def verify(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty):
    """Check that both frameworks compute the same loss (and for training the same
    gradients and the same loss after one optimizer step); return a one-line summary."""
    gn_model.eval()
    torch_model.eval()
    if not workload.train:
        with gn.no_grad(), torch.no_grad():
            a, b = (float(v) for v in _loss_pair(gn_model, torch_model, gx, gy, tx, ty))
        if not _close(a, b):
            raise Mismatch(f"loss glassnet {a:.6f} vs torch {b:.6f}")
        return f"loss {a:.5f} vs {b:.5f}"
    gn_loss, t_loss = _loss_pair(gn_model, torch_model, gx, gy, tx, ty)
    a, b = gn_loss.item(), t_loss.item()
    if not _close(a, b):
        raise Mismatch(f"loss glassnet {a:.6f} vs torch {b:.6f}")
    gn_loss.backward()
    t_loss.backward()
    worst = 0.0
    for (name, p), q in zip(gn_model.named_parameters(), torch_model.parameters()):
        want = q.grad.numpy()
        err = float(np.linalg.norm(p.grad.numpy() - want) / max(np.linalg.norm(want), 1e-12))
        worst = max(worst, err)
        if err > RTOL:
            raise Mismatch(f"gradient of {name}: relative error {err:.2e}")
    gn_opt.step()
    torch_opt.step()
    gn_opt.zero_grad()
    torch_opt.zero_grad()
    with gn.no_grad(), torch.no_grad():
        c, d = (float(v) for v in _loss_pair(gn_model, torch_model, gx, gy, tx, ty))
    if not _close(c, d):
        raise Mismatch(f"loss after one Adam step glassnet {c:.6f} vs torch {d:.6f}")
    return (f"loss {a:.5f} vs {b:.5f}, gradients within {worst:.1e}, "
            f"after one Adam step {c:.5f} vs {d:.5f}")


def runners(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty):
    """One closure per framework that runs one step."""
    if workload.train:
        def run_glassnet():
            gn_opt.zero_grad()
            F.cross_entropy(gn_model(gx), gy).backward()
            gn_opt.step()

        def run_torch():
            torch_opt.zero_grad()
            torch.nn.functional.cross_entropy(torch_model(tx), ty).backward()
            torch_opt.step()
    else:
        def run_glassnet():
            with gn.no_grad():
                gn_model(gx)

        def run_torch():
            with torch.no_grad():
                torch_model(tx)
    return {"glassnet": run_glassnet, "torch": run_torch}


def steps_per_round(run, warmup, quick):
    """Run the warm-up steps; from their times, how many steps make one round (the same
    number for both frameworks, fixed for the whole run)."""
    times = {name: [seconds(fn) for _ in range(max(warmup, 1))] for name, fn in run.items()}
    if quick:
        return 1
    step = float(np.sqrt(np.prod([min(t) for t in times.values()])))
    return int(np.clip(round(ROUND_SECONDS / step), 1, 200))


def bench(workload, rounds, warmup, quick=False):
    gn_model, torch_model = build(workload)
    gn_opt = gn.optim.Adam(gn_model.parameters(), lr=1e-3)
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
    x, y = make_batch(workload)
    gx, gy, tx, ty = gn.tensor(x), gn.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    check = verify(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty)
    with gn.no_grad():
        flops = forward_flops(gn_model, gn.tensor(x[:1])) * (3 if workload.train else 1)
    gn_model.train(workload.train)
    torch_model.train(workload.train)
    run = runners(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty)
    steps = steps_per_round(run, warmup, quick)
    times = alternate(run, rounds, repeat=steps)
    rates = {k: [steps * workload.batch / t for t in v] for k, v in times.items()}
    med = {k: float(np.median(v)) for k, v in rates.items()}
    return {"glassnet": round(med["glassnet"], 1), "torch": round(med["torch"], 1),
            "ratio": round(med["glassnet"] / med["torch"], 4),
            "gflops": round(flops * med["glassnet"] / 1e9, 2),
            "torch_gflops": round(flops * med["torch"] / 1e9, 2),
            "glassnet_spread": _spread(rates["glassnet"]), "torch_spread": _spread(rates["torch"]),
            "steps_per_round": steps, "batch": workload.batch,
            "mflop_per_image": round(flops / 1e6, 3)}, check


def _spread(rates):
    return [round(min(rates), 1), round(max(rates), 1)]


HEADER = (f"{'workload':10s} {'glassnet img/s':>15s} {'[min, max]':>17s} {'torch img/s':>12s} "
          f"{'[min, max]':>17s} {'ratio':>7s} {'GFLOP/s':>8s} {'% sgemm':>8s} "
          f"{'torch GFLOP/s':>14s}")


def _row(name, r, sgemm):
    def spread(s):
        return f"[{s[0]:.0f}, {s[1]:.0f}]"
    return (f"{name:10s} {r['glassnet']:15.1f} {spread(r['glassnet_spread']):>17s} "
            f"{r['torch']:12.1f} {spread(r['torch_spread']):>17s} {r['ratio']:7.3f} "
            f"{r['gflops']:8.2f} {100 * r['gflops'] / sgemm:7.1f}% {r['torch_gflops']:14.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated, from: {', '.join(WORKLOADS)}")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per workload")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps per framework, which also size the rounds")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds of 1 step, 1 warm-up round: checks that it runs")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    args = parser.parse_args(argv)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    rounds, warmup = (2, 1) if args.quick else (args.rounds, args.warmup)
    torch.set_num_threads(THREADS)
    print(load_report())
    print(thread_report(torch))
    sgemm_before = sgemm_gflops(repeat=3 if args.quick else 5)
    print(f"{rounds} rounds; images/s are medians over the rounds; ratio = glassnet / torch "
          "(> 1: glassnet faster); GFLOP/s and % sgemm are glassnet's\n")
    results, skipped, checks = {}, {}, {}
    for name in names:
        workload = WORKLOADS[name]
        reason = skip_reason(workload)
        if reason:
            skipped[name] = reason
            continue
        try:
            results[name], checks[name] = bench(workload, rounds, warmup, args.quick)
        except Mismatch as e:
            skipped[name] = f"frameworks disagree, not timed: {e}"
        print(f"  {name}: {checks.get(name) or skipped[name]}", flush=True)
    # measured before and after the workloads: the better of the two is the machine's rate
    # with the least interference from other processes
    sgemm = max(sgemm_before, sgemm_gflops(repeat=3 if args.quick else 5))
    print(f"\nfloat32 GEMM 2048^3 with NumPy: {sgemm:.1f} GFLOP/s (before the workloads "
          f"{sgemm_before:.1f})\n{load_report('after the run')}")
    print(HEADER)
    for name, r in results.items():
        print(_row(name, r, sgemm))
    for name, reason in skipped.items():
        print(f"{name:10s} skipped: {reason}")
    if args.json:
        print(json.dumps({"sgemm_gflops": round(sgemm, 1), "threads": THREADS,
                          "rounds": rounds, "workloads": results, "skipped": skipped}))
    return 1 if any(r.startswith("frameworks disagree") for r in skipped.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
