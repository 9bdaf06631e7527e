"""Callbacks: code that runs at the edges of epochs and steps (Keras' idea).

Each hook receives the `Trainer` (model, optimizer, history, and `stop`, which a
callback sets to end training after the current step) and the epoch's logs.
"""
import csv
import math
import os
import time

from ..io import save


class Callback:
    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_begin(self, trainer, step):
        """Before each training step (numbered from 1 in each epoch)."""

    def on_batch_end(self, trainer, step, logs):
        """After each training step (gradients of the step are still in `.grad`)."""

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


def _better(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor or monitor.endswith(("f1", "auc")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return (lambda a, b, d: a < b - d) if mode == "min" else (lambda a, b, d: a > b + d)


def _monitored(logs, monitor, owner):
    if monitor not in logs:
        raise KeyError(f"{owner}: monitored value {monitor!r} is not in the logs "
                       f"({', '.join(logs)}); give val_data to monitor validation values")
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.better = _better(mode, monitor)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, trainer):
        self.best, self.best_epoch, self.wait, self.best_state = None, None, 0, None
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self.best is None or self.better(value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v._array.copy() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop = True
            self.stopped_epoch = epoch

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save the model's state dict after each epoch, or only when `monitor` improves."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.better = _better(mode, monitor)
        self.best = None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if self.best is not None and not self.better(value, self.best, 0.0):
                return
            self.best = value
        save(trainer.model.state_dict(), self.path.format(epoch=epoch, **logs))


class LearningRateScheduler(Callback):
    """Set every group's lr to schedule(epoch, lr) at the start of each epoch (Keras')."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, trainer, epoch):
        for group in trainer.optimizer.param_groups:
            group["lr"] = float(self.schedule(epoch, group["lr"]))


class CSVLogger(Callback):
    """One row per epoch: epoch, then every logged value."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def on_train_begin(self, trainer):
        self.rows = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.rows.append({"epoch": epoch, **logs})
        keys = list(self.rows[0])
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: row.get(k, math.nan) for k in keys})


def schedule_factor(shape, progress):
    """The fraction of the peak learning rate at `progress` (0 at the first step, 1 at the
    end of training) for a named schedule shape:

    'constant'  1 throughout;
    'cosine'    half a cosine from 1 down to 0 (Loshchilov & Hutter's SGDR, one cycle);
    'onecycle'  Smith's one-cycle as PyTorch's OneCycleLR draws it by default: a cosine
                rise from 1/25 to 1 over the first 30%, then a cosine fall to 1/25e4;
    'triangle'  straight lines from 0.2 up to 1 at 23% and down to 0.07 at the end (the
                fast CIFAR recipe's, after airbench).
    """
    p = min(max(float(progress), 0.0), 1.0)
    if shape == "constant":
        return 1.0
    if shape == "cosine":
        return 0.5 * (1 + math.cos(math.pi * p))
    if shape == "onecycle":
        start, end, rise = 1 / 25, 1 / 25e4, 0.3
        if p < rise:
            return start + (1 - start) * 0.5 * (1 - math.cos(math.pi * p / rise))
        return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * (p - rise) / (1 - rise)))
    if shape == "triangle":
        start, peak, end = 0.2, 0.23, 0.07
        return start + (1 - start) * p / peak if p < peak else \
            1 + (end - 1) * (p - peak) / (1 - peak)
    raise ValueError(f"schedule: unknown shape {shape!r}; use {', '.join(SCHEDULES)}")


SCHEDULES = ("constant", "cosine", "onecycle", "triangle")


class _Progress(Callback):
    """How far training is, from 0 to 1: steps taken out of `total_steps` — or, with
    `time_budget` seconds, whichever of steps or time is further along, so that a run cut
    short by its budget still reaches the end of its schedule. `start_step` is the number
    of steps already taken (a resumed run)."""

    def __init__(self, total_steps, time_budget=None, start_step=0):
        self.total_steps, self.time_budget = max(int(total_steps), 1), time_budget
        self.step = int(start_step)

    def on_train_begin(self, trainer):
        self.started = time.perf_counter()

    def on_batch_end(self, trainer, step, logs):
        self.step += 1

    def progress(self):
        p = self.step / self.total_steps
        if self.time_budget:
            p = max(p, (time.perf_counter() - self.started) / self.time_budget)
        return min(p, 1.0)


class StepSchedule(_Progress):
    """Set every group's lr to its peak (the lr the optimizer was built with) times
    `schedule_factor(shape, progress)` before each step (progress: see _Progress)."""

    def __init__(self, shape, total_steps, time_budget=None, start_step=0):
        schedule_factor(shape, 0.0)            # an unknown shape fails here, not mid-run
        super().__init__(total_steps, time_budget, start_step)
        self.shape = shape

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        for group in trainer.optimizer.param_groups:
            group.setdefault("peak_lr", group["lr"])
        self._apply(trainer)

    def on_batch_end(self, trainer, step, logs):
        super().on_batch_end(trainer, step, logs)
        self._apply(trainer)

    def _apply(self, trainer):
        factor = schedule_factor(self.shape, self.progress())
        for group in trainer.optimizer.param_groups:
            group["lr"] = group["peak_lr"] * factor


class TimeBudget(Callback):
    """Stop training after the step during which `seconds` of wall-clock time ran out
    (counted from the start of training); the run then evaluates as usual."""

    def __init__(self, seconds):
        if not seconds > 0:
            raise ValueError(f"TimeBudget: seconds must be positive, got {seconds}")
        self.seconds = float(seconds)
        self.exhausted = False

    def on_train_begin(self, trainer):
        self.started = time.perf_counter()

    def on_epoch_begin(self, trainer, epoch):
        self.epoch = epoch

    def on_batch_end(self, trainer, step, logs):
        if time.perf_counter() - self.started >= self.seconds:
            self.exhausted = True
            trainer.stop = True
            trainer.stop_reason = (f"the time budget of {self.seconds / 60:g} minutes ran out "
                                   f"in epoch {self.epoch}, step {step}")


class Lookahead(_Progress):
    """Lookahead (Zhang, Lucas, Hinton & Ba, 2019, "Lookahead Optimizer: k steps forward, 1
    step back") as the fast CIFAR recipe uses it: every `every` steps the slow copy of the
    weights (and of the float buffers, e.g. BatchNorm statistics) moves towards the fast
    ones, slow = a slow + (1 - a) fast, and the fast weights restart from it (parameters
    frozen from the start are left alone). The pull-back `a` grows as `alpha *
    progress^3` (progress: see _Progress, over `total_steps` or a time budget), so early
    training runs freely and late training averages; at the end the model keeps the slow
    weights."""

    def __init__(self, total_steps, every=5, alpha=0.95 ** 5, time_budget=None):
        super().__init__(total_steps, time_budget)
        self.every, self.alpha = every, alpha

    @staticmethod
    def _tensors(model):
        """What training changes: the learning parameters and the float buffers."""
        return [p for p in model.parameters() if p.requires_grad] + \
            [b for b in model.buffers() if b._array.dtype.kind == "f"]

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.tensors = self._tensors(trainer.model)   # fixed now: a later freeze keeps order
        self.slow = [t._array.copy() for t in self.tensors]

    def on_batch_end(self, trainer, step, logs):
        super().on_batch_end(trainer, step, logs)
        if self.step % self.every == 0:
            self._pull(trainer.model, self.alpha * self.progress() ** 3)

    def on_train_end(self, trainer):
        self._pull(trainer.model, 1.0)

    def _pull(self, model, a):
        for slow, t in zip(self.slow, self.tensors):
            fast = t._array
            slow *= a
            slow += (1 - a) * fast
            fast[...] = slow


class FreezeAfter(Callback):
    """Stop training `parameters` after `epochs` epochs (their gradient is dropped, so the
    optimizer leaves them alone from then on)."""

    def __init__(self, parameters, epochs):
        self.parameters, self.epochs = list(parameters), int(epochs)

    def on_epoch_begin(self, trainer, epoch):
        if epoch > self.epochs:
            for p in self.parameters:
                p.requires_grad_(False)
                p.grad = None
