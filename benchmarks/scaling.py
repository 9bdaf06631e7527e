"""glassnet's training throughput and peak memory as the batch or the sequence grows.

    python benchmarks/scaling.py [--quick] [--out DIR] [--batch-sizes 16,32] [--seq-lens 28,56]

Two sweeps of training steps (forward, cross-entropy, backward, Adam lr 1e-3):
the notes' MNIST CNN (`cnn-mnist`) over batch sizes 16..512, and the LSTM classifier
(`lstm-mnist`: hidden 64, last output -> Linear 10) over sequence lengths 28..512 at
batch 64 (skipped while glassnet.nn has no LSTM). Every configuration runs in a fresh
subprocess, so no cached buffer or allocator state carries from one to the next.

Peak memory is what tracemalloc records from the moment the model, optimizer and batch
exist to the end of the first two training steps: NumPy reports every array buffer it
allocates to tracemalloc, so the number is the high-water mark of bytes held in arrays
(activations saved for backward, gradients, Adam's two moment arrays, convolution
workspaces, temporaries) beyond the weights themselves. It is exact and repeatable,
unlike ru_maxrss, which also counts the allocator's retained free pages, OpenBLAS's
thread buffers and whatever the imports touched, all of which move with the machine
rather than with the model. tracemalloc slows Python allocation down, so the steps
that are timed come afterwards, with it switched off.

Writes the tables to stdout and DIR/scaling.md, and DIR/scaling.png with four panels:
time per sample and memory against the batch size, time per step and memory against
the sequence length. DIR defaults to benchmarks/results/.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

from _common import THREADS, load_report, seconds, thread_report  # first
from workloads import recurrent_classifier

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH_SIZES = (16, 32, 64, 128, 256, 512)
SEQ_LENS = (28, 56, 112, 224, 512)
LSTM_BATCH = 64
MEMORY_STEPS = 2


# ------------------------------------------------------------------ one configuration
def _setup(kind, size):
    """(model, optimizer, inputs, labels) for one configuration."""
    import glassnet as gn
    from glassnet import models
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "cnn":
        model, shape = models.get("cnn-mnist"), (size, 1, 28, 28)
    else:
        model = (models.get("lstm-mnist") if "lstm-mnist" in models.names()
                 else recurrent_classifier(gn.nn))
        shape = (LSTM_BATCH, size, 28)
    x = gn.tensor(rng.uniform(0, 1, shape).astype(np.float32))
    y = gn.tensor(rng.integers(0, 10, shape[0]))
    return model, gn.optim.Adam(model.parameters(), lr=1e-3), x, y


def measure(kind, size, min_steps, budget):
    """Peak array memory of the first training steps, then the median time of a step."""
    import glassnet.nn.functional as F
    model, optimizer, x, y = _setup(kind, size)
    model.train()

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    tracemalloc.start()
    for _ in range(MEMORY_STEPS):
        step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    step()                                          # warm-up without tracemalloc
    times, start = [], time.perf_counter()
    while len(times) < min_steps or (time.perf_counter() - start < budget and len(times) < 100):
        times.append(seconds(step))
    step_s = float(np.median(times))
    batch = x.shape[0]
    return {"kind": kind, "size": size, "batch": batch, "steps_timed": len(times),
            "ms_per_step": step_s * 1e3, "ms_per_sample": step_s * 1e3 / batch,
            "samples_per_s": batch / step_s, "peak_mib": peak / 2 ** 20}


def run_isolated(kind, size, min_steps, budget):
    """measure() in a fresh Python process; its last stdout line is the result."""
    cmd = [sys.executable, os.path.abspath(__file__), "--measure", kind, str(size),
           "--min-steps", str(min_steps), "--budget", str(budget)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"{kind} {size}: the worker failed: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------- reporting
def table(rows, axis):
    head = (f"| {axis} | ms / step | ms / sample | samples/s | peak MiB |\n"
            "| ---: | ---: | ---: | ---: | ---: |\n")
    return head + "".join(
        f"| {r['size']} | {r['ms_per_step']:.1f} | {r['ms_per_sample']:.3f} | "
        f"{r['samples_per_s']:.0f} | {r['peak_mib']:.1f} |\n" for r in rows)


def report(cnn_rows, lstm_rows, lstm_note, load):
    parts = ["# glassnet scaling\n",
             f"Training steps (forward, cross-entropy, backward, Adam), {THREADS} threads; "
             "peak MiB: tracemalloc's high-water mark of array memory over the first two "
             "steps, beyond the weights (see benchmarks/scaling.py). "
             + load + ".\n",
             "## cnn-mnist, time and memory against the batch size\n",
             table(cnn_rows, "batch size"),
             f"## lstm-mnist (hidden 64, batch {LSTM_BATCH}), against the sequence length\n",
             table(lstm_rows, "seq len") if lstm_rows else f"Skipped: {lstm_note}.\n"]
    return "\n".join(parts)


def plot(cnn_rows, lstm_rows, lstm_note, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    # growth in proportion to the size is a straight line on the log-log panels
    panels = [(axes[0, 0], cnn_rows, "ms_per_sample", "cnn-mnist: time per sample",
               "batch size", "ms / sample", "linear"),
              (axes[0, 1], cnn_rows, "peak_mib", "cnn-mnist: peak array memory",
               "batch size", "MiB (log)", "log"),
              (axes[1, 0], lstm_rows, "ms_per_step", f"lstm-mnist: time per step (batch "
               f"{LSTM_BATCH})", "sequence length", "ms / step (log)", "log"),
              (axes[1, 1], lstm_rows, "peak_mib", "lstm-mnist: peak array memory",
               "sequence length", "MiB (log)", "log")]
    for ax, rows, key, title, xlabel, ylabel, yscale in panels:
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if not rows:
            ax.text(0.5, 0.5, f"skipped:\n{lstm_note}", ha="center", va="center",
                    transform=ax.transAxes)
            continue
        xs = [r["size"] for r in rows]
        ax.plot(xs, [r[key] for r in rows], "o-")
        ax.set_xscale("log", base=2)
        ax.set_yscale(yscale)
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"glassnet training scaling ({THREADS} threads)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _sizes(text):
    return tuple(int(v) for v in text.split(",") if v.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the first two sizes of each sweep, one timed step each")
    parser.add_argument("--out", default=os.path.join(HERE, "results"),
                        help="folder for scaling.md and scaling.png")
    parser.add_argument("--batch-sizes", type=_sizes, default=BATCH_SIZES)
    parser.add_argument("--seq-lens", type=_sizes, default=SEQ_LENS)
    parser.add_argument("--min-steps", type=int, default=3, help="timed steps at least")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="keep timing steps until this many seconds have passed")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]), args.min_steps,
                                 args.budget)))
        return 0
    batch_sizes, seq_lens = args.batch_sizes, args.seq_lens
    min_steps, budget = args.min_steps, args.budget
    if args.quick:
        batch_sizes, seq_lens, min_steps, budget = batch_sizes[:2], seq_lens[:2], 1, 0.0
    import glassnet as gn
    lstm_note = None if hasattr(gn.nn, "LSTM") else "glassnet.nn has no LSTM yet"
    load = load_report()
    print(thread_report())
    cnn_rows = [run_isolated("cnn", b, min_steps, budget) for b in batch_sizes]
    lstm_rows = ([] if lstm_note else
                 [run_isolated("lstm", t, min_steps, budget) for t in seq_lens])
    text = report(cnn_rows, lstm_rows, lstm_note, load)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "scaling.md"), "w") as f:
        f.write(text)
    plot(cnn_rows, lstm_rows, lstm_note, os.path.join(args.out, "scaling.png"))
    print(f"wrote {os.path.join(args.out, 'scaling.md')} and "
          f"{os.path.join(args.out, 'scaling.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
