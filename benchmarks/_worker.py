"""One framework timing one workload in a process of its own: benchmarks/vs_torch.py's
child, started once per framework per round.

    python benchmarks/_worker.py glassnet|torch DIR [--warmup 2] [--seconds 2.0]

DIR holds what the parent wrote: workload.json ({"name", "spec"}), batch.npz (x, y) and
glassnet.npz / torch.npz, the same initial weights under each framework's state-dict
names. The process imports only its own framework, the way its users do (glassnet before
NumPy, as the README says; torch as installed), and changes no setting: threads, memory
and OpenMP are each framework's defaults in the environment the parent passed on.

It computes the loss on the batch in eval mode without a graph (the parent checks that
both frameworks agree), then, in the workload's mode, runs `--warmup` untimed steps and
then timed steps until `--seconds` have passed (at least 3). A training step is forward,
cross-entropy, backward and an Adam step (lr 1e-3); an inference step is a forward pass
in eval mode without a graph. The last line of stdout is one JSON object: {"framework",
"loss", "steps", "seconds", "images_per_second", "threads"}.
"""
import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "glassnet":
    import glassnet  # noqa: F401  (first, before NumPy: see the README)
elif __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "torch":
    import torch  # noqa: F401

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import WORKLOADS, build  # noqa: E402


def parts(framework, workload, spec, arrays, x, y):
    """(eval-mode loss on the batch, one step, {framework: threads}). Written once: glassnet
    has PyTorch's names for everything used here."""
    if framework == "glassnet":
        import glassnet as fw
        from glassnet._kernels import windows
        threads = windows._CORES
    else:
        import torch as fw
        threads = fw.get_num_threads()
    cross_entropy = fw.nn.functional.cross_entropy
    fw.manual_seed(0)
    model = build(workload, fw.nn, framework, spec)
    model.load_state_dict({k: fw.from_numpy(v) for k, v in arrays.items()})
    fx, fy = fw.from_numpy(x), fw.from_numpy(y)
    model.eval()
    with fw.no_grad():
        loss = cross_entropy(model(fx), fy).item()
    model.train(workload.train)
    opt = fw.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        opt.zero_grad()
        cross_entropy(model(fx), fy).backward()
        opt.step()

    def infer_step():
        with fw.no_grad():
            model(fx)
    return loss, (train_step if workload.train else infer_step), {framework: threads}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["glassnet", "torch"])
    parser.add_argument("dir")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    with open(os.path.join(args.dir, "workload.json")) as f:
        described = json.load(f)
    workload = WORKLOADS[described["name"]]
    with np.load(os.path.join(args.dir, "batch.npz")) as batch:
        x, y = batch["x"], batch["y"]
    with np.load(os.path.join(args.dir, f"{args.framework}.npz")) as weights:
        arrays = {k: weights[k] for k in weights.files}
    loss, step, threads = parts(args.framework, workload, described["spec"], arrays, x, y)
    for _ in range(args.warmup):
        step()
    steps, start = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - start < args.seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"framework": args.framework, "loss": loss, "steps": steps,
                      "seconds": elapsed, "images_per_second": steps * workload.batch / elapsed,
                      "threads": threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
