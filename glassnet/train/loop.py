"""fit / evaluate / predict: the training loop of the notes, written once.

For every batch: forward, loss, `loss.backward()` (backpropagation), the
optimizer's step. Per epoch: the mean loss and metrics on the training batches,
then on `val_data` if given, then the callbacks. A loss that turns NaN or inf
stops training at once with a message naming the epoch and step.

Two hooks follow Keras' conventions: a model that defines `train_step(x, y,
optimizer)` (the perceptron, whose rule is not gradient descent) is trained by it
instead of loss/backward/step, and a stateful model's `reset_states()` is called
before every epoch and every evaluation.
"""
import math
import sys

import numpy as np

from ..autograd.grad_mode import no_grad
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..tensor import Tensor
from .progress import Progress


class History:
    """Per-epoch values: `history.history['val_loss'][e]`, and why training stopped."""

    def __init__(self):
        self.history, self.epochs, self.stop_reason = {}, [], None
        self.diverged = False       # the loss became NaN or infinite

    def append(self, epoch, logs):
        self.epochs.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        return f"History(epochs={len(self.epochs)}, keys={list(self.history)})"


class Trainer:
    """What callbacks see: the model, the optimizer, the history, and a stop flag."""

    def __init__(self, model, optimizer, history):
        self.model, self.optimizer, self.history, self.stop = model, optimizer, history, False
        self.stop_reason = None     # a callback that stops training may say why


def _metric_functions(metrics):
    from .. import metrics as M
    table = {"accuracy": M.accuracy, "acc": M.accuracy, "binary_accuracy": M.binary_accuracy,
             "mse": M.mse, "mae": M.mae}
    out = {}
    for m in metrics:
        if callable(m):
            out[m.__name__] = m
        elif m in table:
            out[m] = table[m]
        else:
            raise ValueError(f"fit: unknown metric {m!r}; use {', '.join(table)} or a function")
    return out


def _batches(data):
    for batch in data:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("fit: each batch must be an (inputs, targets) pair")
        yield batch


def _reset_states(model):
    if hasattr(model, "reset_states"):
        model.reset_states()


def fit(model, train_data, loss, optimizer, epochs, val_data=None, metrics=("accuracy",),
        callbacks=(), scheduler=None, quiet=False, stream=None, initial_epoch=0,
        progress=Progress):
    """Train `model` for `epochs` passes over `train_data` (an iterable of (x, y) batches,
    e.g. a DataLoader; x may be a list of inputs) and return its History. With
    `initial_epoch=k` (resuming a run that finished k epochs) the epochs run are k+1 ..
    epochs. `progress(total_steps, epoch, epochs, stream, quiet)` makes the object that
    draws each epoch's progress (`update(step, samples, logs)`, `close(logs)`)."""
    history = History()
    trainer = Trainer(model, optimizer, history)
    functions = _metric_functions(metrics)
    for cb in callbacks:
        cb.on_train_begin(trainer)
    total = len(train_data) if hasattr(train_data, "__len__") else 0
    custom_step = getattr(model, "train_step", None)
    for epoch in range(initial_epoch + 1, epochs + 1):
        model.train()
        _reset_states(model)
        for cb in callbacks:        # after train(): a callback may keep some layers in eval
            cb.on_epoch_begin(trainer, epoch)
        bar = progress(total, epoch, epochs, stream, quiet)
        sums, count = {}, 0
        for step, (x, y) in enumerate(_batches(train_data), 1):
            for cb in callbacks:
                cb.on_batch_begin(trainer, step)
            optimizer.zero_grad()
            if custom_step is not None:
                out, lv = custom_step(x, y, optimizer)
            else:
                out = model(x)
                value = loss(out, y)
                lv = value.item()
            if not math.isfinite(lv):
                history.stop_reason = (f"the loss became {lv} at epoch {epoch}, step {step}: "
                                       "training stopped (try a smaller learning rate)")
                print(history.stop_reason, file=stream or sys.stderr)
                history.diverged = True
                _end(callbacks, trainer)
                return history
            if custom_step is None:
                value.backward()
                optimizer.step()
            n = _batch_size(x)
            _accumulate(sums, "loss", lv, n)
            with no_grad():
                for name, fn in functions.items():
                    _accumulate(sums, name, fn(out.detach(), y), n)
            count += n
            running = {k: v / count for k, v in sums.items()}
            bar.update(step, n, running)
            for cb in callbacks:
                cb.on_batch_end(trainer, step, running)
            if trainer.stop:        # e.g. a time budget: end now, the epoch stays partial
                break
        logs = {k: v / max(count, 1) for k, v in sums.items()}
        if val_data is not None:
            logs.update({f"val_{k}": v for k, v in
                         evaluate(model, val_data, loss, metrics).items()})
        if scheduler is not None:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                scheduler.step()
        logs["lr"] = float(optimizer.param_groups[0]["lr"])
        bar.close(logs)
        history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(trainer, epoch, logs)
        if trainer.stop:
            history.stop_reason = (trainer.stop_reason
                                   or f"stopped by a callback after epoch {epoch}")
            break
    _end(callbacks, trainer)
    return history


def _batch_size(x):
    """The number of samples in a batch of inputs (or of a list of inputs)."""
    return len(x[0]) if isinstance(x, (list, tuple)) else len(x)


def _end(callbacks, trainer):
    for cb in callbacks:
        cb.on_train_end(trainer)


def _accumulate(sums, name, value, n):
    sums[name] = sums.get(name, 0.0) + float(value) * n


@no_grad()
def evaluate(model, data, loss=None, metrics=("accuracy",)):
    """Mean loss and metrics over `data`, in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    functions = _metric_functions(metrics)
    sums, count = {}, 0
    _reset_states(model)
    try:
        for x, y in _batches(data):
            out = model(x)
            n = _batch_size(x)
            if loss is not None:
                _accumulate(sums, "loss", loss(out, y).item(), n)
            for name, fn in functions.items():
                _accumulate(sums, name, fn(out, y), n)
            count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the data gave no batches")
    return {k: v / count for k, v in sums.items()}


@no_grad()
def predict(model, data):
    """The model's outputs for every batch of inputs, concatenated (a NumPy array).
    `data` yields inputs, or (inputs, targets) pairs whose targets are ignored."""
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for batch in data:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            out = model(x if isinstance(x, Tensor) else Tensor(x))
            outputs.append(out._array)
    finally:
        model.train(was_training)
    return np.concatenate(outputs)
