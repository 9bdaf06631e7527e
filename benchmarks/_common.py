"""What the benchmarks share: thread settings, glassnet on the path, alternating timing.

Import this module before NumPy, PyTorch or glassnet: it sets the environment
that their thread pools read once, when they load.
"""
import os
import sys
import time

THREADS = 2

# Both frameworks keep idle worker threads spinning after each call (PyTorch's OpenMP
# pool; NumPy's OpenBLAS pool, for ~2^28 cycles by default). On two cores, alternating
# calls would then run each framework against the other's spinning threads: measured
# here, that slowed both by 40-60%. Idle threads that sleep at once measure each
# framework as it runs alone. The caller's own settings win.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))

# Run from the source tree, the tree's glassnet is the one measured, installed or not.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402  (after the environment above)


def thread_report(torch=None):
    """One line naming every setting that decides how many cores each framework uses."""
    env = os.environ
    parts = [f"OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}"]
    if torch is not None:
        parts.insert(0, f"torch {torch.get_num_threads()}")
    parts += [f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '(auto)')}",
              f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}",
              f"OPENBLAS_THREAD_TIMEOUT={env['OPENBLAS_THREAD_TIMEOUT']}"]
    return "threads: " + ", ".join(parts)


def load_report(when="before the run"):
    return (f"load average {when}: %.2f %.2f %.2f (other processes share the CPUs; "
            "compare the ratios, not the times)" % os.getloadavg())


def seconds(fn, repeat=1):
    """Wall time of `repeat` calls of fn()."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return time.perf_counter() - start


def alternate(runners, rounds, repeat=1):
    """Time each runner `repeat` calls at a time, round after round, the frameworks taking
    turns so that both see the same machine load; the order flips every round so that
    neither always runs right after the other. Returns {name: [seconds per round]}."""
    names = list(runners)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name].append(seconds(runners[name], repeat))
    return times


def sgemm_gflops(n=2048, repeat=5):
    """The machine's float32 GEMM rate with NumPy: median over `repeat` n x n @ n x n."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)                  # first call starts OpenBLAS's threads
    times = [seconds(lambda: np.matmul(a, b, out=out)) for _ in range(repeat)]
    return 2 * n ** 3 / float(np.median(times)) / 1e9


# ----------------------------------------------------------------- models for both frameworks
def lstm_classifier(nn, input_size=28, hidden_size=64, num_classes=10):
    """The LSTM MNIST classifier, written once for both frameworks (`nn` is glassnet.nn or
    torch.nn): each image row is one time step, the last step's output goes to a Linear."""
    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
            self.fc = nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            out, _ = self.lstm(x.reshape(x.shape[0], -1, input_size))
            return self.fc(out[:, -1])
    return LSTMClassifier()


def _conv_args(m):
    return dict(in_channels=m.in_channels, out_channels=m.out_channels,
                kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                dilation=m.dilation, groups=m.groups, bias=m.bias is not None)


# glassnet layer class name -> the torch layer with the same configuration
_TORCH_LAYERS = {
    "Linear": lambda tnn, m: tnn.Linear(m.in_features, m.out_features, m.bias is not None),
    "Conv1d": lambda tnn, m: tnn.Conv1d(**_conv_args(m)),
    "Conv2d": lambda tnn, m: tnn.Conv2d(**_conv_args(m)),
    "MaxPool2d": lambda tnn, m: tnn.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation,
                                              ceil_mode=m.ceil_mode),
    "AvgPool2d": lambda tnn, m: tnn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                              m.count_include_pad, m.divisor_override),
    "Flatten": lambda tnn, m: tnn.Flatten(m.start_dim, m.end_dim),
    "Dropout": lambda tnn, m: tnn.Dropout(m.p),
    "LSTM": lambda tnn, m: tnn.LSTM(m.input_size, m.hidden_size, m.num_layers,
                                    batch_first=m.batch_first),
}
_PARAMETERLESS = {"ReLU", "Tanh", "Sigmoid", "Identity"}


def torch_mirror(model, torch):
    """The torch module with the same layers as a glassnet Sequential (nested Sequentials
    included). Raises TypeError on any other kind of module."""
    kind = type(model).__name__
    if kind == "Sequential":
        return torch.nn.Sequential(*(torch_mirror(c, torch) for c in model.children()))
    if kind in _TORCH_LAYERS:
        return _TORCH_LAYERS[kind](torch.nn, model)
    if kind in _PARAMETERLESS:
        return getattr(torch.nn, kind)()
    raise TypeError(f"torch_mirror: no torch counterpart known for {kind}")


def copy_weights(gn_model, torch_model, torch):
    """Copy glassnet's state_dict arrays into the torch module: by name where the two
    name sets agree, else in order (each pair must have the same shape)."""
    source, target = gn_model.state_dict(), torch_model.state_dict()
    pairs = (zip(source, source) if list(source) == list(target)
             else zip(source, target))
    if len(source) != len(target):
        raise ValueError(f"copy_weights: glassnet has {len(source)} arrays, torch "
                         f"{len(target)}: {list(source)} vs {list(target)}")
    new = {}
    for src, dst in pairs:
        array = np.asarray(source[src].detach().numpy())
        if array.shape != tuple(target[dst].shape):
            raise ValueError(f"copy_weights: {src} {array.shape} does not fit torch's "
                             f"{dst} {tuple(target[dst].shape)}")
        new[dst] = torch.from_numpy(array.copy())
    torch_model.load_state_dict(new)


def forward_flops(model, x):
    """FLOPs (2 per multiply-add) of one forward pass of a glassnet model on x, counting
    the GEMM-shaped layers: Linear, Conv, LSTM (its input and recurrent products)."""
    total = [0]

    def count(module, args, output):
        kind = type(module).__name__
        if kind == "Linear":
            total[0] += 2 * output.numel() * module.in_features
        elif kind.startswith("Conv"):
            total[0] += (2 * output.numel() * module.in_channels // module.groups
                         * int(np.prod(module.kernel_size)))
        elif kind == "LSTM":
            shape = args[0].shape
            tokens = shape[0] * shape[1] if len(shape) == 3 else shape[0]
            h, dirs = module.hidden_size, 2 if getattr(module, "bidirectional", False) else 1
            for layer in range(module.num_layers):
                inputs = module.input_size if layer == 0 else h * dirs
                total[0] += 2 * tokens * dirs * 4 * h * (inputs + h)

    handles = [m.register_forward_hook(count) for _, m in model.named_modules()]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return total[0]
