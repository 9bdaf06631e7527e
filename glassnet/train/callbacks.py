"""Callbacks: code that runs at the edges of epochs and steps (Keras' idea).

Each hook receives the `Trainer` (model, optimizer, history, and `stop`, which a
callback sets to end training after the current epoch) and the epoch's logs.
"""
import csv
import math
import os

from ..io import save


class Callback:
    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

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
