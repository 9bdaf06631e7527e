"""The networks that benchmarks/vs_torch.py times, described once for both frameworks.

Nothing here imports a framework: a benchmark's glassnet process imports glassnet (first,
as the README says) and its PyTorch process imports torch, and each passes its own `nn`
namespace to the builders below. The zoo's Sequential models cross over as a plain
description (`layer_spec`), the CIFAR families as the torch twins of
benchmarks/torch_twins.py (checked against glassnet's by tests/models/).
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    model: str          # name in glassnet.models, or a RECURRENT one (built below)
    train: bool
    batch: int
    input_size: tuple = (1, 28, 28)


# recurrent classifiers, written once for both frameworks: name -> (layer, hidden size,
# layers, bidirectional); each reads its input as (batch, steps, features)
RECURRENT = {
    "lstm-mnist": ("LSTM", 64, 1, False),
    "gru-mnist": ("GRU", 64, 1, False),
    "bilstm-mnist": ("LSTM", 64, 2, True),
    "lstm-long": ("LSTM", 128, 1, False),
}


CIFAR = (3, 32, 32)
WORKLOADS = {
    "mlp": Workload("mlp", True, 64),
    "cnn": Workload("cnn-mnist", True, 64),
    "cnn-deep": Workload("cnn-mnist-deep", True, 64),
    "lstm": Workload("lstm-mnist", True, 64, (28, 28)),
    "gru": Workload("gru-mnist", True, 64, (28, 28)),
    "bilstm": Workload("bilstm-mnist", True, 64, (28, 28)),
    "lstm-long": Workload("lstm-long", True, 32, (256, 28)),    # 256 steps, hidden 128
    "cnn-infer": Workload("cnn-mnist", False, 1000),
    "mlp-infer": Workload("mlp", False, 1000),
    "mlp-b1": Workload("mlp", True, 1),          # one image per step: the cost per op call
    "cnn-cifar": Workload("cnn-cifar", True, 64, CIFAR),
    "resnet20": Workload("resnet20", True, 128, CIFAR),
    "vgg11-bn": Workload("vgg11-bn", True, 128, CIFAR),
    "mobilenetv2": Workload("mobilenetv2", True, 128, CIFAR),
    "resnet20-infer": Workload("resnet20", False, 1000, CIFAR),
}


def make_batch(workload, seed=0):
    """Images uniform in [0, 1) and labels 0-9, float32 / int64 NumPy arrays."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (workload.batch, *workload.input_size)).astype(np.float32)
    y = rng.integers(0, 10, workload.batch)
    return x, y


def recurrent_classifier(nn, input_size=28, hidden_size=64, num_classes=10, layer="LSTM",
                    num_layers=1, bidirectional=False):
    """A recurrent classifier written once for both frameworks (`nn` is glassnet.nn or
    torch.nn): each row of the input is one time step, the last step's output goes to a
    Linear. The defaults are the LSTM MNIST classifier."""
    class RecurrentClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, layer)(input_size, hidden_size, num_layers=num_layers,
                                          batch_first=True, bidirectional=bidirectional)
            self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

        def forward(self, x):
            out, _ = self.rnn(x.reshape(x.shape[0], -1, input_size))
            return self.fc(out[:, -1])
    return RecurrentClassifier()


# ----------------------------------------------------------------- Sequentials as data
def _conv_args(m):
    return dict(in_channels=m.in_channels, out_channels=m.out_channels,
                kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                padding=m.padding if isinstance(m.padding, str) else tuple(m.padding),
                dilation=tuple(m.dilation), groups=m.groups, bias=m.bias is not None)


# layer class name -> its constructor's arguments, read from a built glassnet layer
_ARGUMENTS = {
    "Linear": lambda m: dict(in_features=m.in_features, out_features=m.out_features,
                             bias=m.bias is not None),
    "Conv1d": _conv_args,
    "Conv2d": _conv_args,
    "MaxPool2d": lambda m: dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                                dilation=m.dilation, ceil_mode=m.ceil_mode),
    "AvgPool2d": lambda m: dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                                ceil_mode=m.ceil_mode, count_include_pad=m.count_include_pad,
                                divisor_override=m.divisor_override),
    "Flatten": lambda m: dict(start_dim=m.start_dim, end_dim=m.end_dim),
    "Dropout": lambda m: dict(p=m.p),
    "LSTM": lambda m: dict(input_size=m.input_size, hidden_size=m.hidden_size,
                           num_layers=m.num_layers, batch_first=m.batch_first),
    "ReLU": lambda m: {}, "Tanh": lambda m: {}, "Sigmoid": lambda m: {},
    "Identity": lambda m: {},
}


def layer_spec(model):
    """A glassnet Sequential (nested ones included) as JSON-able data: [kind, arguments]
    per layer, a Sequential as ["Sequential", [children]]. TypeError for other modules."""
    kind = type(model).__name__
    if kind == "Sequential":
        return [kind, [layer_spec(child) for child in model.children()]]
    if kind not in _ARGUMENTS:
        raise TypeError(f"layer_spec: no description known for {kind}")
    return [kind, _ARGUMENTS[kind](model)]


def from_spec(spec, nn):
    """The module `layer_spec` describes, built with `nn` (glassnet.nn or torch.nn)."""
    kind, arguments = spec
    if kind == "Sequential":
        return nn.Sequential(*(from_spec(child, nn) for child in arguments))
    return getattr(nn, kind)(**{k: tuple(v) if isinstance(v, list) else v  # JSON made lists
                                for k, v in arguments.items()})


def build(workload, nn, framework, spec=None):
    """The workload's network in `framework` ("glassnet" or "torch", whose `nn` is given):
    glassnet's from its zoo; torch's from `spec` (a Sequential's layer_spec) or as the
    family's twin in benchmarks/torch_twins.py. Weights are the caller's to set."""
    if workload.model in RECURRENT:
        layer, hidden, layers, bidirectional = RECURRENT[workload.model]
        return recurrent_classifier(nn, workload.input_size[-1], hidden, layer=layer,
                               num_layers=layers, bidirectional=bidirectional)
    if framework == "glassnet":
        from glassnet import models
        return models.get(workload.model)
    if spec is not None:
        return from_spec(spec, nn)
    from torch_twins import TWINS
    return TWINS[workload.model]()


def forward_flops(model, x):
    """FLOPs (2 per multiply-add) of one forward pass of a glassnet model on x, counting
    the GEMM-shaped layers: Linear, Conv, LSTM and GRU (input and recurrent products)."""
    total = [0]

    def count(module, args, output):
        kind = type(module).__name__
        if kind == "Linear":
            total[0] += 2 * output.numel() * module.in_features
        elif kind.startswith("Conv"):
            total[0] += (2 * output.numel() * module.in_channels // module.groups
                         * int(np.prod(module.kernel_size)))
        elif kind in ("LSTM", "GRU"):
            shape = args[0].shape
            tokens = shape[0] * shape[1] if len(shape) == 3 else shape[0]
            h, dirs = module.hidden_size, 2 if getattr(module, "bidirectional", False) else 1
            gates = 4 if kind == "LSTM" else 3
            for layer in range(module.num_layers):
                inputs = module.input_size if layer == 0 else h * dirs
                total[0] += 2 * tokens * dirs * gates * h * (inputs + h)

    handles = [m.register_forward_hook(count) for _, m in model.named_modules()]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return total[0]
