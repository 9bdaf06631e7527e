"""Keras's callbacks, and the bridge that lets glassnet's training loop call them.

A Keras callback sees `self.model` and `self.params`, epochs numbered from 0 and the logs
Keras gives (loss, accuracy, val_loss, val_accuracy); it stops training by setting
`model.stop_training = True`. glassnet's loop has its own callback protocol (the trainer,
epochs from 1): `bridge` adapts one to the other. The progress bar is Keras's: verbose=1
redraws one line per step (`  12/469 ━━━━━━━─────── 2s 5ms/step - accuracy: 0.71 - loss:
0.93`, the time being what is left), verbose=2 prints one line per epoch.
"""
import csv
import math
import os
import sys
import time

import numpy as np

from ..train import callbacks as core

_HIDDEN = ("lr",)       # glassnet's loop logs the rate; Keras's logs do not


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items())
                      if isinstance(v, float) and k not in _HIDDEN)


def _keras_logs(logs):
    return {k: float(v) for k, v in logs.items() if k not in _HIDDEN}


class Callback:
    def __init__(self):
        self.model, self.params = None, {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """`fit`'s return value: `history.history['val_accuracy'][e]`, `history.epoch`."""

    def on_train_begin(self, logs=None):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class _Bridge(core.Callback):
    """glassnet's loop -> Keras callbacks."""

    def __init__(self, callbacks, model, params):
        self.callbacks, self.model, self.params = callbacks, model, params

    def on_train_begin(self, trainer):
        for cb in self.callbacks:
            cb.set_model(self.model)
            cb.set_params(self.params)
            cb.on_train_begin({})

    def on_epoch_begin(self, trainer, epoch):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch - 1, {})

    def on_batch_begin(self, trainer, step):
        for cb in self.callbacks:
            cb.on_train_batch_begin(step - 1, {})

    def on_batch_end(self, trainer, step, logs):
        logs = _keras_logs(logs)
        for cb in self.callbacks:
            cb.on_train_batch_end(step - 1, logs)
        trainer.stop = trainer.stop or self.model.stop_training

    def on_epoch_end(self, trainer, epoch, logs):
        logs = _keras_logs(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(epoch - 1, logs)
        if self.model.stop_training:
            trainer.stop = True
            trainer.stop_reason = f"model.stop_training was set after epoch {epoch - 1}"

    def on_train_end(self, trainer):
        for cb in self.callbacks:
            cb.on_train_end({})


def bridge(callbacks, model, epochs, steps, verbose):
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be glassnet.keras.callbacks.Callback "
                            f"objects, got {type(cb).__name__}")
    return _Bridge(callbacks, model, {"epochs": epochs, "steps": steps, "verbose": verbose})


# ------------------------------------------------------------------ progress
class _Bar:
    """Keras's progress display for one epoch."""
    WIDTH = 20

    def __init__(self, total, epoch, epochs, stream, quiet, verbose):
        self.total, self.stream, self.verbose = total, stream or sys.stdout, verbose
        self.quiet = quiet or verbose == 0
        self.live = verbose == 1 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start, self.step, self._drawn = time.perf_counter(), 0, 0.0
        if not self.quiet:
            self.stream.write(f"Epoch {epoch}/{epochs}\n")

    def update(self, step, samples, logs):
        self.step = step
        now = time.perf_counter()
        if self.quiet or not self.live or (now - self._drawn < 0.1 and step < self.total):
            return
        self._drawn = now
        per_step = (now - self.start) / step
        left = per_step * max(self.total - step, 0)
        self._draw(step, f"{_seconds(left)} {_per_step(per_step)}", logs, "\r")

    def _draw(self, step, times, logs, start):
        width = len(str(self.total))
        done = int(self.WIDTH * step / max(self.total, 1))
        bar = "━" * done + "─" * (self.WIDTH - done)
        text = format_logs(logs)
        self.stream.write(f"{start}{step:>{width}}/{self.total} {bar} {times}"
                          + (f" - {text}" if text else ""))
        self.stream.flush()

    def close(self, logs):
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(self.step, 1)
        if self.verbose == 2:
            text = format_logs(logs)
            self.stream.write(f"{self.step}/{self.total} - {_seconds(elapsed)} - "
                              f"{_per_step(per_step)}" + (f" - {text}" if text else "") + "\n")
        else:
            self._draw(self.step, f"{_seconds(elapsed)} {_per_step(per_step)}", logs,
                       "\r" if self.live else "")
            self.stream.write("\n")
        self.stream.flush()


def _seconds(s):
    return f"{s:.0f}s" if s < 60 else f"{int(s // 60)}:{int(s % 60):02d}"


def _per_step(s):
    return f"{s * 1000:.0f}ms/step" if s < 1 else f"{s:.0f}s/step"


def progress_bar(verbose):
    """A factory of Keras bars for glassnet's loop (its `progress=` argument)."""
    def make(total, epoch, epochs, stream, quiet):
        return _Bar(total, epoch, epochs, stream, quiet, verbose)
    return make


# ------------------------------------------------------- Keras's callbacks
def _monitor_mode(mode, monitor):
    better = core._better(mode, monitor)
    return better, (math.inf if better(0.0, 1.0, 0.0) else -math.inf)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.better, self._worst = _monitor_mode(mode, monitor)

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None
        self.best = self._worst if self.baseline is None else self.baseline
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self.better(value, self.best, self.min_delta):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after each epoch, or only when `monitor` improved.
    `filepath` may hold fields such as 'w.{epoch:02d}-{val_loss:.2f}.weights.h5'."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint: only save_freq='epoch' is supported")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.better, worst = _monitor_mode(mode, monitor)
        self.best = worst if initial_value_threshold is None else initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                print(f"ModelCheckpoint: can save best model only with {self.monitor} "
                      f"available (logs: {', '.join(logs)}); skipping", file=sys.stderr)
                return
            if not self.better(value, self.best, 0.0):
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{value:.5f}, saving model to {path}")
            self.best = value
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        self._save(path)

    def _save(self, path):
        whole = not self.save_weights_only and not path.endswith(".weights.h5")
        if whole and path.endswith(".keras"):
            self.model.save(path)
        else:
            self.model.save_weights(path)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **unknown):
        super().__init__()
        if unknown:
            raise TypeError(f"ReduceLROnPlateau: unexpected argument(s) {', '.join(unknown)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.min_delta, self.cooldown, self.min_lr = (verbose, min_delta,
                                                                    cooldown, min_lr)
        self.better, self._worst = _monitor_mode(mode, monitor)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = self._worst, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        value = logs.get(self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.better(value, self.best, self.min_delta):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Before each epoch: learning_rate = schedule(epoch) or schedule(epoch, lr)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(new)
        if not np.isfinite(new):
            raise ValueError(f"LearningRateScheduler: the schedule gave {new} at epoch {epoch}")
        self.model.optimizer.learning_rate = new
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """One CSV row per epoch: epoch, then the logs' keys in sorted order."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append

    def on_train_begin(self, logs=None):
        self.keys = None
        self._has_header = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._has_header:
                self._writer.writerow(["epoch"] + self.keys)
        self._writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class LambdaCallback(Callback):
    """A callback from functions: on_epoch_end=lambda epoch, logs: ..."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None):
        super().__init__()
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_begin", on_train_batch_begin),
                         ("on_train_batch_end", on_train_batch_end)):
            if fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop when a step's loss is NaN or infinite (glassnet's loop already does)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
