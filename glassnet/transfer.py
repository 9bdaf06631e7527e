"""Transfer learning: start from a trained network, keep its features, learn a new head.

The notes' recipe (seed 002, with a pretrained VGG): load the weights of a network trained
on one task, replace its classifier head to fit the new classes, and train only what is
not frozen. Three pieces, each usable on its own and used by `glassnet train --init
--freeze`:

    init_from(model, source, classes)   copy every fitting weight in, leave the head new
    freeze(model, prefixes)             no gradient (and so no optimizer state) for them
    FrozenNormsInEval                   a callback that keeps frozen BatchNorm layers in
                                        inference mode while the rest trains

A frozen BatchNorm layer keeps the statistics it learned: were it left in training mode it
would normalise by the new task's batch statistics and overwrite its running averages,
which changes the very features that freezing is meant to keep (Keras does the same for a
layer with trainable=False).
"""
import os

import numpy as np

from . import nn
from .io import load
from .tensor import as_array
from .train.callbacks import Callback


class TransferError(ValueError):
    """Weights that do not fit a model, or a freeze prefix that matches nothing."""


def head_names(model):
    """The parameter names of the model's classifier head: its last Linear layer."""
    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = name, module
    if last is None:
        return set()
    prefix, module = last
    return {f"{prefix}.{p}" if prefix else p for p, _ in module.named_parameters()}


def read_weights(source):
    """(state dict of arrays, class names or None) from a training run's directory or
    checkpoint, a saved state dict (.gn), or a PyTorch state dict (.pth)."""
    path = os.fspath(source)
    if os.path.isdir(path):
        path = os.path.join(path, "checkpoint.gn")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--init: no run directory, checkpoint or weight file at "
                                f"{source}")
    content = load(path)
    classes = None
    if isinstance(content, dict) and content.get("format") == "glassnet-run":
        classes = list(content.get("classes") or []) or None
        content = content["model"]
    elif isinstance(content, dict) and isinstance(content.get("state_dict"), dict):
        content = content["state_dict"]
    if not isinstance(content, dict) or not all(isinstance(k, str) for k in content):
        raise TransferError(f"--init: {path} holds no state dict (a mapping of parameter names "
                            f"to arrays)")
    return {k: as_array(v) for k, v in content.items()}, classes


def init_from(model, source, classes=None):
    """Load into `model` every tensor of `source` (see read_weights) except the classifier
    head's when the head does not fit: its shape differs (another number of classes) or
    the source names other classes than `classes`. Anything else that does not fit — a
    missing or extra name, a wrong shape — is a TransferError naming each one. Returns
    {'loaded': [names], 'new_head': [names]}."""
    weights, source_classes = read_weights(source)
    own = model.state_dict()
    head = head_names(model)
    same_classes = source_classes is None or classes is None or \
        list(source_classes) == list(classes)
    missing, wrong, new_head = [], [], []
    for name, tensor in own.items():
        if name not in weights:
            (new_head if name in head else missing).append(f"{name} {tuple(tensor.shape)}")
            continue
        shape = tuple(weights[name].shape)
        if name in head and (shape != tuple(tensor.shape) or not same_classes):
            new_head.append(name)
        elif shape != tuple(tensor.shape):
            wrong.append(f"{name} (file {shape}, model {tuple(tensor.shape)})")
    extra = [f"{k} {tuple(weights[k].shape)}" for k in weights if k not in own]
    problems = [_listed(names, what) for names, what in
                ((missing, "missing from the file"), (extra, "not in the model"),
                 (wrong, "of another shape")) if names]
    if problems:
        raise TransferError(f"--init: {source} does not fit {type(model).__name__}: "
                            f"{'; '.join(problems)}")
    new_head = [n.split(" ")[0] for n in new_head]
    loaded = [k for k in own if k not in new_head]
    model.load_state_dict({k: np.asarray(weights[k]) for k in loaded}, strict=False)
    return {"loaded": loaded, "new_head": new_head}


def _listed(names, what, shown=3):
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} {what}: {', '.join(names[:shown])}{more}"


def _matches(name, prefix):
    prefix = prefix.rstrip(".")
    return name == prefix or name.startswith(prefix + ".")


def freeze(model, prefixes):
    """Turn off requires_grad for every parameter whose dotted name is one of `prefixes` or
    lies under one ('features' freezes features.0.weight, ...). A prefix that matches no
    parameter is a TransferError listing the model's top-level names. Returns the frozen
    names."""
    names = [n for n, _ in model.named_parameters()]
    unmatched = [p for p in prefixes if not any(_matches(n, p) for n in names)]
    if unmatched:
        tops = sorted({n.split(".")[0] for n in names})
        raise TransferError(f"--freeze: {', '.join(map(repr, unmatched))} matches no parameter "
                            f"of {type(model).__name__}; its top-level names are "
                            f"{', '.join(tops)}")
    frozen = []
    for name, p in model.named_parameters():
        if any(_matches(name, q) for q in prefixes):
            p.requires_grad_(False)
            frozen.append(name)
    return frozen


def frozen_norms(model):
    """The normalisation layers all of whose parameters are frozen."""
    norms = (nn.BatchNorm1d, nn.BatchNorm2d)
    return [m for m in model.modules() if isinstance(m, norms)
            and any(True for _ in m.parameters())
            and not any(p.requires_grad for p in m.parameters())]


class FrozenNormsInEval(Callback):
    """Keep frozen BatchNorm layers in inference mode during training (see the module's
    docstring for why)."""

    def __init__(self, modules):
        self.modules = list(modules)

    def on_epoch_begin(self, trainer, epoch):
        for m in self.modules:
            m.eval()
