"""The notes' MNIST CNN training step, eager glassnet against a glassnet.graph graph.

    python benchmarks/graph_vs_eager.py [--rounds 5] [--steps 10] [--batch 64] [--json]

Both sides start from the same weights and see the same batch. First the two first-step
losses and the weights after one SGD step are checked equal; then the step time is
measured alternating (the same process: an A/B of one framework, so both share OpenBLAS,
the workspace and the allocator), and the peak memory of one step with tracemalloc
(NumPy reports its allocations to it), above what was allocated when the step began
(the weights, the optimizer's buffers and the kept workspace are in that base).

Network: conv 5x5 32 'same' + ReLU + max-pool 2; conv 5x5 64 'same' + ReLU + max-pool 2;
flatten; linear 3136->1024 + ReLU; linear 1024->10; softmax cross-entropy; SGD lr 0.01.
"""
import argparse
import gc
import json
import tracemalloc

import _common  # noqa: F401  (thread settings and the source tree on the path, first)
import numpy as np

import glassnet as gn
import glassnet.graph as gg
import glassnet.nn.functional as F
from glassnet._kernels.workspace import WORKSPACE

SHAPES = {"w1": (32, 1, 5, 5), "b1": (32,), "w2": (64, 32, 5, 5), "b2": (64,),
          "w3": (1024, 3136), "b3": (1024,), "w4": (10, 1024), "b4": (10,)}
LR = 0.01


def make_weights(seed=0):
    """He-uniform-like weights, float32, in glassnet's layouts ((out, in) for Linear)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in SHAPES.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        bound = np.sqrt(1.0 / fan_in) if len(shape) > 1 else 0.1
        weights[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return weights


def make_batch(batch, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, batch).astype(np.int64))


def _net(conv2d, max_pool2d, relu, linear, flatten, cross_entropy, x, y, w):
    h = max_pool2d(relu(conv2d(x, w["w1"], w["b1"], padding=2)), 2)
    h = max_pool2d(relu(conv2d(h, w["w2"], w["b2"], padding=2)), 2)
    h = relu(linear(flatten(h), w["w3"], w["b3"]))
    return cross_entropy(linear(h, w["w4"], w["b4"]), y)
# (_net is written once and called with eager functions or with their graph-building
# twins from glassnet.graph.wrap: the two sides are the same network by construction)


def _flatten(t):
    return t.reshape(t.shape[0], -1)


def _zeros(shape):
    return gn.zeros(*shape)


class Eager:
    def __init__(self, weights):
        self.w = {k: gn.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        self.opt = gn.optim.SGD(list(self.w.values()), lr=LR)

    def step(self, x, y):
        self.opt.zero_grad()          # PyTorch's loop: zero_grad, forward, backward, step
        loss = _net(F.conv2d, F.max_pool2d, F.relu, F.linear, _flatten, F.cross_entropy,
                    gn.from_numpy(x), gn.from_numpy(y), self.w)
        loss.backward()
        self.opt.step()
        return loss.item()

    def weights(self):
        return {k: v.detach().numpy().copy() for k, v in self.w.items()}


class Graph:
    def __init__(self, weights, batch=None):
        self.graph = gg.Graph()
        with self.graph.as_default():
            self.x = gg.placeholder(gn.float32, (batch, 1, 28, 28), name="images")
            self.y = gg.placeholder(gn.int64, (batch,), name="labels")
            # initializer ops, as TF1 programs write them (tf.truncated_normal(...)), not
            # the arrays themselves: an array initial value would stay in the graph as a
            # constant, one more copy of the weights (see the docs' memory figures)
            self.vars = {k: gg.Variable(gg.op(_zeros, [], {"shape": v.shape},
                                              name=f"{k}/initial_value"), name=k)
                         for k, v in weights.items()}
            ops = [gg.wrap(f, t) for f, t in
                   ((F.conv2d, "Conv2D"), (F.max_pool2d, "MaxPool2D"), (F.relu, "Relu"),
                    (F.linear, "Linear"), (_flatten, "Flatten"),
                    (F.cross_entropy, "CrossEntropy"))]
            self.loss = _net(*ops, self.x, self.y, self.vars)
            self.train = gg.minimize(self.loss, gn.optim.SGD, lr=LR)
        self.ex = gg.Executor(self.graph)
        self.ex.initialize()
        for k, v in weights.items():     # the eager side's weights, as a restore would
            self.ex.write(self.vars[k], v)

    def step(self, x, y):
        loss, _ = self.ex.run([self.loss, self.train], {self.x: x, self.y: y})
        return float(loss)

    def weights(self):
        return {k: self.ex.read(v) for k, v in self.vars.items()}


def check_equal(batch=64):
    """Both sides from the same weights on the same batch: (loss_eager, loss_graph,
    largest relative weight difference after one step)."""
    weights = make_weights()
    x, y = make_batch(batch)
    e, g = Eager(weights), Graph(weights)
    le, lg = e.step(x, y), g.step(x, y)
    we, wg = e.weights(), g.weights()
    diff = max(float(np.max(np.abs(we[k] - wg[k])) / (np.max(np.abs(we[k])) + 1e-30))
               for k in we)
    return le, lg, diff


def step_memory(make_model, x, y):
    """tracemalloc's figures for one training step, traced from before the model is made
    (the kernels' workspace emptied first, so each side owns its scratch):
    'held' what the model keeps between steps (weights, gradients kept in .grad, the
    optimizer's buffers, a graph's constants, the workspace), 'peak' the most traced at
    any moment of the step, 'rise' peak minus what was allocated when the step began."""
    WORKSPACE.clear()
    gc.collect()
    tracemalloc.start()
    try:
        model = make_model()
        model.step(x, y)              # warm: optimizer state, workspace, plan
        model.step(x, y)
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        model.step(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"held": held / 2 ** 20, "peak": peak / 2 ** 20, "rise": (peak - held) / 2 ** 20}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="steps timed per round")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    le, lg, diff = check_equal(args.batch)
    if not (le == lg or abs(le - lg) <= 1e-6 * abs(le)) or diff > 1e-5:
        raise SystemExit(f"the two sides disagree: loss {le} (eager) vs {lg} (graph), "
                         f"weights after one step differ by {diff:.2e} (relative)")
    weights = make_weights()
    x, y = make_batch(args.batch)
    models = {"eager": Eager(weights), "graph": Graph(weights)}
    for m in models.values():
        for _ in range(3):
            m.step(x, y)
    times = _common.alternate({k: (lambda m=m: m.step(x, y)) for k, m in models.items()},
                              args.rounds, args.steps)
    ms = {k: 1e3 * float(np.median(v)) / args.steps for k, v in times.items()}
    graph_nodes = len(models["graph"].graph.nodes)
    plan_steps = len(models["graph"].ex.last_plan.steps)
    del models
    mem = {"eager": step_memory(lambda: Eager(weights), x, y),
           "graph": step_memory(lambda: Graph(weights), x, y)}
    result = {
        "batch": args.batch, "rounds": args.rounds, "steps_per_round": args.steps,
        "loss_eager": le, "loss_graph": lg, "weight_rel_diff_after_step": diff,
        "step_ms": ms, "ratio_graph_over_eager": ms["graph"] / ms["eager"],
        "memory_mib": mem,
        "peak_saving_mib": mem["eager"]["peak"] - mem["graph"]["peak"],
        "graph_nodes": graph_nodes, "plan_steps": plan_steps,
    }
    if args.json:
        print(json.dumps(result))
        return result
    print(_common.load_report())
    print(f"first-step loss: eager {le:.6f}, graph {lg:.6f}; weights after one step differ "
          f"by {diff:.1e} (relative)")
    print(f"step time (median of {args.rounds} rounds of {args.steps} steps, batch "
          f"{args.batch}): eager {ms['eager']:.2f} ms, graph {ms['graph']:.2f} ms, "
          f"graph/eager {result['ratio_graph_over_eager']:.3f}")
    for k in ("eager", "graph"):
        m = mem[k]
        print(f"memory of one step, {k}: peak {m['peak']:.1f} MiB (held between steps "
              f"{m['held']:.1f} MiB, rise during the step {m['rise']:.1f} MiB)")
    print(f"peak saving of graph mode: {result['peak_saving_mib']:.1f} MiB")
    return result


if __name__ == "__main__":
    main()
