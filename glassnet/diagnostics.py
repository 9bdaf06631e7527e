"""Seeing gradients: per-layer gradient norms, ∂L/∂h_t through time, and the notes'
vanishing/exploding-gradient experiments.

    rec = GradientNorms(model)                 # a callback for fit(...)
    fit(model, loader, loss, opt, 3, callbacks=[rec])
    rec.plot("grads.png")                      # per-layer norms per step, ‖∂L/∂h_t‖ vs t

    hidden_gradient_norms(lstm_model, x, y, F.cross_entropy)   # {layer: array over t}

A recurrent layer's fused backward walks t = T..1 and computes the total gradient
reaching each hidden state, ∂L/∂h_t = (from the output at t) + (from h_{t+1});
with recording switched on (`layer.record_hidden_grads(True)`) it keeps
‖∂L/∂h_t‖ for every t. In a plain RNN each step back multiplies by
W_hh^T diag(1 - h_t^2), whose norm is usually below one, so the gradient that
reaches the first steps shrinks geometrically: the network cannot learn what
depends on them. The LSTM's cell state is carried by c_t = f_t c_{t-1} + ...,
so where the forget gate stays near one the gradient passes back almost intact.
"""
import json
import math
import os
import time

import numpy as np

from . import nn, optim
from .autograd.grad_mode import no_grad
from .nn import functional as F
from .random import default_generator, manual_seed
from .tensor import Tensor
from .train.callbacks import Callback

RECURRENT = ("RNN", "LSTM", "GRU")


def _recurrent_layers(model):
    return [(name or type(m).__name__, m) for name, m in model.named_modules()
            if type(m).__name__ in RECURRENT and hasattr(m, "record_hidden_grads")]


def layer_gradient_norms(model):
    """{module name: L2 norm of the gradients of its own parameters} from the current .grad."""
    norms = {}
    for name, module in model.named_modules():
        grads = [p.grad._array for p in module._parameters.values()
                 if p is not None and p.grad is not None]
        if grads:
            norms[name or type(module).__name__] = math.sqrt(
                sum(float(np.vdot(g, g)) for g in grads))
    return norms


def hidden_gradient_norms(model, x, y, loss_fn):
    """One forward and backward of loss_fn(model(x), y) with recording switched on:
    {recurrent layer name + '.' + direction key: array of ‖∂L/∂h_t‖ over t}. The
    parameters' .grad are left as they were."""
    layers = _recurrent_layers(model)
    if not layers:
        raise ValueError(f"hidden_gradient_norms: {type(model).__name__} has no recurrent "
                         "layer (RNN, LSTM, GRU)")
    saved = {id(p): p.grad for p in model.parameters()}
    for _, layer in layers:
        layer.record_hidden_grads(True)
    try:
        for p in model.parameters():
            p.grad = None
        loss_fn(model(x), y).backward()
        return {f"{name}.{key}": np.array(norms) for name, layer in layers
                for key, norms in layer.hidden_grad_norms.items()}
    finally:
        for _, layer in layers:
            layer.record_hidden_grads(False)
        for p in model.parameters():
            p.grad = saved[id(p)]


class GradientNorms(Callback):
    """Records, every `every` training steps, each layer's gradient norm and (for recurrent
    layers) ‖∂L/∂h_t‖ at every time step of the step's batch.

    After training: `steps` (global step numbers), `layers` {name: [norm per recorded
    step]}, `hidden` {layer.direction: [array over t per recorded step]}.
    """

    def __init__(self, model=None, every=1, hidden=True):
        self.model, self.every, self.hidden_on = model, int(every), hidden
        self.steps, self.layers, self.hidden = [], {}, {}
        self._step = 0

    def on_train_begin(self, trainer):
        self.model = self.model or trainer.model
        if self.hidden_on:
            for _, layer in _recurrent_layers(self.model):
                layer.record_hidden_grads(True)

    def on_batch_end(self, trainer, step, logs):
        self._step += 1
        if (self._step - 1) % self.every:
            return
        self.steps.append(self._step)
        for name, norm in layer_gradient_norms(self.model).items():
            self.layers.setdefault(name, []).append(norm)
        if self.hidden_on:
            for name, layer in _recurrent_layers(self.model):
                for key, norms in layer.hidden_grad_norms.items():
                    self.hidden.setdefault(f"{name}.{key}", []).append(np.array(norms))

    def on_train_end(self, trainer):
        if self.hidden_on:
            for _, layer in _recurrent_layers(self.model):
                layer.record_hidden_grads(False)

    def plot(self, path, title="gradient norms"):
        """Per-layer norm against step; the last recorded ‖∂L/∂h_t‖ against t."""
        from .plots import _pyplot, _save
        plt = _pyplot()
        panels = 2 if self.hidden else 1
        fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
        ax = axes[0][0]
        for name, norms in self.layers.items():
            ax.plot(self.steps, norms, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("gradient norm")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        if self.hidden:
            ax = axes[0][1]
            for name, runs in self.hidden.items():
                ax.plot(np.arange(1, len(runs[-1]) + 1), runs[-1], label=name)
            ax.set_yscale("log")
            ax.set_xlabel("time step t")
            ax.set_ylabel("‖∂L/∂h_t‖")
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
        fig.suptitle(title)
        return _save(fig, path)


# ------------------------------------------------------------------ the experiments
class _LongRange(nn.Module):
    """A recurrent layer over the sequence, a linear classifier on its last output.

    The LSTM gets the "chrono" initialisation (Tallec & Ollivier, 2018): forget-gate
    biases log(u), u ~ U(1, T - 1), and input-gate biases -log(u), so that its cells
    start out remembering over time scales up to the sequence length and writing
    little; what it must learn is *when* to write. The RNN keeps PyTorch's default
    initialisation: there is no gate to set.
    """

    def __init__(self, kind, hidden, steps, outputs=2, recurrent_scale=1.0):
        super().__init__()
        self.rnn = (nn.LSTM if kind == "lstm" else nn.RNN)(2, hidden, batch_first=True)
        self.rnn.weight_hh_l0._array *= recurrent_scale       # > 1: exploding gradients
        if kind == "lstm":
            b = np.log(default_generator().uniform(1, max(steps - 1, 2), hidden))
            self.rnn.bias_ih_l0._array[hidden:2 * hidden] = b         # forget gate
            self.rnn.bias_ih_l0._array[:hidden] = -b                  # input gate
            self.rnn.bias_hh_l0._array[:2 * hidden] = 0
        self.fc = nn.Linear(hidden, outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


def long_range_batch(rng, n, steps, noise):
    """Sequences of (value, marker) pairs whose class is the sign of the first value (the
    one step with marker 1); every later value is Gaussian noise of std `noise` that the
    network has to ignore while it remembers the first one."""
    x = np.zeros((n, steps, 2), np.float32)
    x[:, :, 0] = rng.standard_normal((n, steps)) * noise
    first = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
    x[:, 0, 0], x[:, 0, 1] = first, 1.0
    return Tensor(x), Tensor((first > 0).astype(np.int64))


def train_long_range(kind, steps=100, hidden=32, train_steps=300, batch=64, lr=1e-2,
                     noise=2.0, seed=0):
    """Train an RNN or LSTM on the long-range task; returns the model, its test accuracy,
    the loss curve and ‖∂L/∂h_t‖ (over t) measured at the start and at the end."""
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = _LongRange(kind, hidden, steps)
    opt = optim.Adam(model.parameters(), lr=lr)
    probe = long_range_batch(np.random.default_rng(seed + 1), 256, steps, noise)
    before = hidden_gradient_norms(model, *probe, F.cross_entropy)["rnn.l0"]
    losses = []
    for _ in range(train_steps):
        x, y = long_range_batch(rng, batch, steps, noise)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    after = hidden_gradient_norms(model, *probe, F.cross_entropy)["rnn.l0"]
    x, y = long_range_batch(np.random.default_rng(seed + 2), 1000, steps, noise)
    with no_grad():
        model.eval()
        accuracy = float((model(x)._array.argmax(1) == y._array).mean())
    return {"model": model, "accuracy": accuracy, "losses": losses,
            "norms_before": before, "norms_after": after}


def clipping_demo(steps=100, hidden=32, train_steps=30, scale=4.0, lr=0.05, max_norm=1.0,
                  seed=0):
    """An RNN with its recurrent weights scaled up (exploding gradients) trained by SGD on
    a regression of the first item, with and without clip_grad_norm_: the final loss and
    the largest gradient norm seen in each case."""
    out = {}
    for clip in (False, True):
        manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = _LongRange("rnn", hidden, steps, outputs=1, recurrent_scale=scale)
        opt = optim.SGD(model.parameters(), lr=lr)
        losses, norms = [], []
        for _ in range(train_steps):
            x, _ = long_range_batch(rng, 64, steps, 0.2)
            target = x[:, 0, :1]
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            value = loss.item()
            losses.append(value)
            if not math.isfinite(value):
                break
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), max_norm if clip else math.inf)
            norms.append(float(total))
            opt.step()
        out["with_clipping" if clip else "without_clipping"] = {
            "final_loss": losses[-1], "diverged": not math.isfinite(losses[-1])
            or losses[-1] > 1e3 * losses[0], "max_grad_norm": max(norms) if norms else None,
            "steps": len(losses)}
    return out


def _ratio(norms):
    return float(norms[0] / max(norms[-1], 1e-300))


def _show(ratio):
    """A gradient ratio for people: 0 means the gradient underflowed float32 on the way."""
    return f"{ratio:.3g}" if ratio else "0 (underflowed: below 1e-45 in float32)"


def vanishing(steps=100, hidden=32, train_steps=300, seed=0, out=None, quiet=True):
    """The notes' vanishing-gradient experiment: a plain RNN and an LSTM of the same size
    on the long-range task; returns the figures (and writes plots into `out`)."""
    start = time.perf_counter()
    result = {"sequence_length": steps, "hidden_size": hidden, "train_steps": train_steps}
    curves = {}
    for kind in ("rnn", "lstm"):
        r = train_long_range(kind, steps, hidden, train_steps, seed=seed)
        result[kind] = {"accuracy": r["accuracy"],
                        "grad_ratio_first_to_last": _ratio(r["norms_after"]),
                        "grad_ratio_first_to_last_at_init": _ratio(r["norms_before"]),
                        "final_loss": float(np.mean(r["losses"][-20:]))}
        curves[kind] = r
        if not quiet:
            print(f"{kind:5s} accuracy {r['accuracy']:.3f}  ‖∂L/∂h_1‖/‖∂L/∂h_T‖ = "
                  f"{_show(result[kind]['grad_ratio_first_to_last'])} after training "
                  f"({_show(result[kind]['grad_ratio_first_to_last_at_init'])} at the start)")
    result["clipping"] = clipping_demo(steps, hidden, seed=seed)
    if not quiet:
        for k, v in result["clipping"].items():
            print(f"exploding RNN {k.replace('_', ' ')}: final loss {v['final_loss']:.4g}, "
                  f"largest gradient norm {v['max_grad_norm']:.3g}")
    if out:
        from . import plots
        os.makedirs(out, exist_ok=True)
        t = np.arange(1, steps + 1)
        result["plots"] = [
            plots.lines({f"{k.upper()} after training": (t, curves[k]["norms_after"])
                         for k in curves} |
                        {f"{k.upper()} at the start": (t, curves[k]["norms_before"])
                         for k in curves},
                        os.path.join(out, "hidden_grad_norms.png"), "time step t",
                        "‖∂L/∂h_t‖", "gradient reaching each time step", logy=True),
            plots.lines({k.upper(): (np.arange(1, len(curves[k]["losses"]) + 1),
                                     curves[k]["losses"]) for k in curves},
                        os.path.join(out, "loss.png"), "training step", "loss",
                        "long-range task: training loss")]
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def run_command(args):
    """`glassnet diagnose vanishing`."""
    kw = dict(steps=args.steps or (30 if args.quick else 100),
              train_steps=100 if args.quick else 300, hidden=16 if args.quick else 32)
    result = vanishing(seed=args.seed, out=args.out, quiet=args.quiet, **kw)
    if args.json:
        print(json.dumps(result))
    return 0
