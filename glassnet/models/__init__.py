"""The notes' networks by name: `glassnet.models.get('cnn-mnist')`, `glassnet.models.names()`.

Each entry records, beside its builder, what the command line needs to train it:
the input size (without the batch dim), the task — 'classification' (class
scores, cross-entropy), 'binary' (one probability per sample, BCE), 'regression'
(per-step values, MSE) or 'autoencoder' (reconstruct the input, MSE) — the data
set it is trained on by default, and default training settings that differ from
the command's (the perceptron learns one sample at a time, for example).
"""
from dataclasses import dataclass, field

TASKS = ("classification", "binary", "regression", "autoencoder")


@dataclass(frozen=True)
class Entry:
    builder: object
    description: str
    input_size: tuple
    task: str = "classification"
    dataset: str = "mnist"
    defaults: dict = field(default_factory=dict)


_REGISTRY = {}


def register(name, description, input_size, task="classification", dataset="mnist", **defaults):
    """Add a model builder to the zoo under `name`."""
    if task not in TASKS:
        raise ValueError(f"models.register: task must be one of {TASKS}, got {task!r}")

    def wrap(builder):
        _REGISTRY[name] = Entry(builder, description, tuple(input_size), task, dataset, defaults)
        return builder
    return wrap


# The usual way to train a CIFAR-10 network from scratch, carried by every family of
# `cifar_classic` and `cifar_modern` as its defaults: padded random crops and flips,
# SGD with Nesterov momentum 0.9 at lr 0.1 and batch 128, weight decay 5e-4 on the
# weights of convolutions and linear layers only, a cosine schedule set every step.
# Published runs take 160-200 epochs; 30 is a CPU-sized default (the cosine follows
# --epochs or --time-budget, whichever is given).
CIFAR_RECIPE = dict(augment=True, optimizer="nesterov", lr=0.1, weight_decay=5e-4,
                    decay_norm_and_bias=False, batch_size=128,
                    schedule="cosine", epochs=30)


def names():
    return list(_REGISTRY)


def entry(name):
    """Everything the zoo knows about a model: builder, description, input size, task,
    default data set and training defaults."""
    if name not in _REGISTRY:
        raise KeyError(f"models: no model named {name!r}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def describe(name):
    """(one-line description, input size without the batch dim)."""
    e = entry(name)
    return e.description, e.input_size


def get(name, **kwargs):
    """A fresh model of the named architecture."""
    return entry(name).builder(**kwargs)


from . import classic, cnn, sequence, autoencoder  # noqa: E402,F401  (they register themselves)
from . import cifar_classic  # noqa: E402,F401
from . import cifar_modern  # noqa: E402,F401
from . import cifar_fast  # noqa: E402,F401
from . import imagenet  # noqa: E402,F401  (ImageNet-layout twins, not in the zoo)
from .classic import Perceptron  # noqa: E402,F401
from .sequence import SequenceClassifier, SequenceRegressor  # noqa: E402,F401
from .autoencoder import Autoencoder  # noqa: E402,F401
