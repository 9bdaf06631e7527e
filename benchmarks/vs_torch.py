"""glassnet vs PyTorch on whole networks, each framework run as its users run it.

    python benchmarks/vs_torch.py [--workloads mlp,cnn,...] [--rounds 5] [--quick] [--json]
                                  [--cores N] [--in-process]

For each workload the network is built in both frameworks (glassnet's zoo model; in
PyTorch the same layers, or the family's twin from benchmarks/torch_twins.py), with
glassnet's initial weights copied into torch's. First, in this process, both compute the
loss on the same batch (eval mode) and the loss after one Adam step, which must agree to
rtol 1e-3, and the gradients, computed on float64 copies of both models (float32 rounding
alone moves a deep net's gradients by 1e-3), which must agree to 1e-9; a workload that
fails is reported as an error instead of timed.

Then, by default, every measurement is a fresh process of its own (benchmarks/_worker.py):
the weights and the batch go through files in a temporary directory; each process imports
only its framework -- glassnet before NumPy, as the README says; torch as installed -- in
the environment the user started this script with (no thread, OpenMP or BLAS setting
changed: each framework at its own defaults), reports its own loss on the batch (the two
must agree), runs 2 untimed steps, then times steps for ~2 s. The frameworks alternate,
round after round, the order flipping every round. A training step is forward,
cross-entropy, backward and an Adam step (lr 1e-3); an inference step is a forward pass
in eval mode without a graph.

--cores N runs each worker on the first N CPUs only (its affinity; each framework sizes
its threads to what it may use): 1 against the default measures how each scales.
`mlp-b1` (one image per training step) measures the cost per op call.

--in-process is the older mode, for quick A/B work only: both frameworks in this one
process, taking turns of ~0.5 s, with OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_THREAD_TIMEOUT=4 set for both (benchmarks/_common.py) so that neither runs
against the other's spinning threads. Its ratios are not the headline: that setting
slows PyTorch's small parallel regions, and nobody runs PyTorch that way.

Reported per framework: the median images/s over the rounds and its [min, max]; the ratio
glassnet / torch of the medians (> 1: glassnet faster); achieved GFLOP/s, from the
Linear/Conv/LSTM products counted analytically (2 FLOPs per multiply-add, a training step
3x the forward), beside the machine's float32 GEMM rate measured with NumPy (2048^3,
median of 5, before and after the workloads, the higher kept).

With --json the last line of stdout is one JSON object:
{"mode", "cores", "sgemm_gflops", "threads", "rounds", "workloads": {name: {"glassnet", "torch",
"ratio", "gflops", "torch_gflops", "glassnet_spread", "torch_spread", ...}},
"skipped": {name: reason}}.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

from _common import (ROOT, THREADS, USER_ENV, alternate, load_report,  # first: threads
                     seconds, sgemm_gflops, thread_report)

import numpy as np
import torch

import glassnet as gn
import glassnet.nn.functional as F
from workloads import RECURRENT, WORKLOADS, build, forward_flops, layer_spec, make_batch

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
RTOL = 1e-3


ROUND_SECONDS = 0.5     # a round's length per framework, at the geometric mean of their speeds


class Mismatch(AssertionError):
    """The two frameworks do not compute the same thing: timing them would mislead."""


def skip_reason(workload):
    if workload.model in RECURRENT and not hasattr(gn.nn, RECURRENT[workload.model][0]):
        return f"glassnet.nn has no {RECURRENT[workload.model][0]} yet"
    return None


def build_pair(workload):
    """(glassnet model, torch model with the same weights, the torch side's layer_spec or
    None, [(glassnet name, torch name)] of the copied arrays), both in train mode."""
    gn.manual_seed(0)
    gn_model = build(workload, gn.nn, "glassnet")
    try:
        spec = layer_spec(gn_model)
    except TypeError:                      # not a Sequential of known layers: a twin
        spec = None
    torch_model = build(workload, torch.nn, "torch", spec)
    names = copy_weights(gn_model, torch_model)
    return gn_model, torch_model, spec, names


def copy_weights(gn_model, torch_model):
    """Copy glassnet's state_dict arrays into the torch module: by name where the two
    name sets agree, else in order (each pair must have the same shape). Returns the
    (glassnet name, torch name) pairs."""
    source, target = gn_model.state_dict(), torch_model.state_dict()
    if len(source) != len(target):
        raise ValueError(f"copy_weights: glassnet has {len(source)} arrays, torch "
                         f"{len(target)}: {list(source)} vs {list(target)}")
    pairs = list(zip(source, source if list(source) == list(target) else target))
    new = {}
    for src, dst in pairs:
        array = np.asarray(source[src].detach().numpy())
        if array.shape != tuple(target[dst].shape):
            raise ValueError(f"copy_weights: {src} {array.shape} does not fit torch's "
                             f"{dst} {tuple(target[dst].shape)}")
        new[dst] = torch.from_numpy(array.copy())
    torch_model.load_state_dict(new)
    return pairs


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
    worst = _gradients_in_float64(gn_model, torch_model, gx, gy, tx, ty)
    gn_opt.step()
    torch_opt.step()
    gn_opt.zero_grad()
    torch_opt.zero_grad()
    with gn.no_grad(), torch.no_grad():
        c, d = (float(v) for v in _loss_pair(gn_model, torch_model, gx, gy, tx, ty))
    if not _close(c, d):
        raise Mismatch(f"loss after one Adam step glassnet {c:.6f} vs torch {d:.6f}")
    return (f"loss {a:.5f} vs {b:.5f}, float64 gradients within {worst:.1e}, "
            f"after one Adam step {c:.5f} vs {d:.5f}")


def _gradients_in_float64(gn_model, torch_model, gx, gy, tx, ty, rtol=1e-9):
    """The largest relative difference (in norm, per parameter) between the two
    frameworks' gradients, computed on float64 copies of both models: in float32 a deep
    net's gradients differ by rounding alone (vgg11-bn's first layer: torch 2.4e-3 from
    the float64 value, glassnet 5e-4), which would hide a real mismatch or fake one."""
    ours, theirs = copy.deepcopy(gn_model).to(gn.float64), copy.deepcopy(torch_model).double()
    ours.eval()
    theirs.eval()
    for p in ours.parameters():          # the copies come with the float32 gradients
        p.grad = None
    theirs.zero_grad(set_to_none=True)
    F.cross_entropy(ours(gx.to(gn.float64)), gy).backward()
    torch.nn.functional.cross_entropy(theirs(tx.double()), ty).backward()
    worst = 0.0
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        want = q.grad.numpy()
        err = float(np.linalg.norm(p.grad.numpy() - want) / max(np.linalg.norm(want), 1e-300))
        worst = max(worst, err)
        if err > rtol:
            raise Mismatch(f"gradient of {name} (float64): relative error {err:.2e}")
    return worst


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


def bench(name, rounds, warmup, quick=False, in_process=False, cores=None):
    """(results, one-line check summary) of workload `name`."""
    workload = WORKLOADS[name]
    gn_model, torch_model, spec, names = build_pair(workload)
    x, y = make_batch(workload)
    with tempfile.TemporaryDirectory(prefix="vs_torch-") as directory:
        write_inputs(directory, name, spec, names, gn_model, x, y)  # before verify's step
        gn_opt = gn.optim.Adam(gn_model.parameters(), lr=1e-3)
        torch_opt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
        gx, gy, tx, ty = gn.tensor(x), gn.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
        check = verify(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty)
        with gn.no_grad():
            flops = forward_flops(gn_model, gn.tensor(x[:1])) * (3 if workload.train else 1)
        extra = {}
        if in_process:
            gn_model.train(workload.train)
            torch_model.train(workload.train)
            run = runners(workload, gn_model, torch_model, gn_opt, torch_opt, gx, gy, tx, ty)
            steps = steps_per_round(run, warmup, quick)
            times = alternate(run, rounds, repeat=steps)
            rates = {k: [steps * workload.batch / t for t in v] for k, v in times.items()}
            extra["steps_per_round"] = steps
        else:
            rates, threads, losses = time_processes(directory, rounds, warmup, quick, cores)
            extra["threads"] = threads
            check += (f"; in their own processes: loss {losses['glassnet']:.5f} vs "
                      f"{losses['torch']:.5f}")
    med = {k: float(np.median(v)) for k, v in rates.items()}
    return {"glassnet": round(med["glassnet"], 1), "torch": round(med["torch"], 1),
            "ratio": round(med["glassnet"] / med["torch"], 4),
            "gflops": round(flops * med["glassnet"] / 1e9, 2),
            "torch_gflops": round(flops * med["torch"] / 1e9, 2),
            "glassnet_spread": _spread(rates["glassnet"]), "torch_spread": _spread(rates["torch"]),
            "batch": workload.batch, "mflop_per_image": round(flops / 1e6, 3), **extra}, check


def write_inputs(directory, name, spec, names, gn_model, x, y):
    """What a worker process reads: the workload, the batch, and the same weights under
    each framework's state-dict names."""
    state = gn_model.state_dict()
    arrays = {g: np.asarray(state[g].detach().numpy()) for g, _ in names}
    np.savez(os.path.join(directory, "glassnet.npz"), **arrays)
    np.savez(os.path.join(directory, "torch.npz"), **{t: arrays[g] for g, t in names})
    np.savez(os.path.join(directory, "batch.npz"), x=x, y=y)
    with open(os.path.join(directory, "workload.json"), "w") as f:
        json.dump({"name": name, "spec": spec}, f)


WORKER_SECONDS = 2.0    # timed steps per worker process (after its warm-up)


def run_worker(framework, directory, warmup, seconds_, cores=None):
    """One fresh process timing one framework; its JSON report. With `cores`, the process
    may run on the first that many CPUs of this one's only (each framework then sizes its
    thread pools to them, as it would on a smaller machine)."""
    env = dict(USER_ENV)                              # the user's environment, untouched
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    cpus = sorted(os.sched_getaffinity(0))[:cores] if cores else None
    proc = subprocess.run([sys.executable, WORKER, framework, directory, "--warmup",
                           str(warmup), "--seconds", str(seconds_)],
                          env=env, capture_output=True, text=True,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    if proc.returncode != 0:
        raise RuntimeError(f"the {framework} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_processes(directory, rounds, warmup, quick, cores=None):
    """({framework: [images/s per round]}, the threads each reported, {framework: loss}),
    one fresh process per framework per round, the order flipping every round."""
    order = ["glassnet", "torch"]
    rates, losses, threads = {k: [] for k in order}, {}, {}
    for r in range(rounds):
        for framework in (order if r % 2 == 0 else order[::-1]):
            report = run_worker(framework, directory, warmup, 0.0 if quick else WORKER_SECONDS,
                                cores)
            rates[framework].append(report["images_per_second"])
            losses.setdefault(framework, report["loss"])
            threads.update(report["threads"])
    if not _close(losses["glassnet"], losses["torch"]):
        raise Mismatch(f"in their own processes: loss glassnet {losses['glassnet']:.6f} vs "
                       f"torch {losses['torch']:.6f}")
    return rates, threads, losses


def _spread(rates):
    return [round(min(rates), 1), round(max(rates), 1)]


HEADER = (f"{'workload':15s} {'glassnet img/s':>15s} {'[min, max]':>17s} {'torch img/s':>12s} "
          f"{'[min, max]':>17s} {'ratio':>7s} {'GFLOP/s':>8s} {'% sgemm':>8s} "
          f"{'torch GFLOP/s':>14s}")


def _row(name, r, sgemm):
    def spread(s):
        return f"[{s[0]:.0f}, {s[1]:.0f}]"
    return (f"{name:15s} {r['glassnet']:15.1f} {spread(r['glassnet_spread']):>17s} "
            f"{r['torch']:12.1f} {spread(r['torch_spread']):>17s} {r['ratio']:7.3f} "
            f"{r['gflops']:8.2f} {100 * r['gflops'] / sgemm:7.1f}% {r['torch_gflops']:14.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated, from: {', '.join(WORKLOADS)}")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per workload")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps per framework (in-process: they also size the "
                             "rounds)")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds, 1 warm-up step, 3 timed steps (in-process: 1): "
                             "checks that it runs")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    parser.add_argument("--cores", type=int, default=None,
                        help="run each worker on this many CPUs only (default: all this "
                             "process may use); not with --in-process")
    parser.add_argument("--in-process", action="store_true",
                        help="both frameworks in this process (quick A/B work, not the "
                             "headline: see the docstring)")
    args = parser.parse_args(argv)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    if args.cores is not None and (args.in_process or args.cores < 1):
        parser.error("--cores takes a positive count, and works with separate processes only")
    rounds, warmup = (2, 1) if args.quick else (args.rounds, args.warmup)
    mode = "one process, passive OpenMP waits" if args.in_process else "separate processes"
    print(f"mode: {mode}" + (f", {args.cores} core(s) each" if args.cores else ""))
    print(load_report())
    if args.in_process:
        torch.set_num_threads(THREADS)
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
            results[name], checks[name] = bench(name, rounds, warmup, args.quick,
                                                args.in_process, args.cores)
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
        print(f"{name:15s} skipped: {reason}")
    if args.json:
        threads = THREADS if args.in_process else {     # separate: what each one chose
            k: v for r in results.values() for k, v in r["threads"].items()}
        print(json.dumps({"mode": mode, "cores": args.cores or len(os.sched_getaffinity(0)),
                          "sgemm_gflops": round(sgemm, 1), "threads": threads,
                          "rounds": rounds, "workloads": results, "skipped": skipped}))
    return 1 if any(r.startswith("frameworks disagree") for r in skipped.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
