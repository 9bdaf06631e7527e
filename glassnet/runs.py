"""A training run: one configuration, everything built from it, and its directory.

`glassnet train` is a thin layer over this module. A run is described by a plain
dict (the *config*: model, dataset, epochs, optimizer, seed, ...); `Run(config)`
builds the data, the model, the loss, the metrics and the optimizer from it, and
`Run.train()` trains with `glassnet.train.fit`, writing after every epoch:

    RUN_DIR/checkpoint.gn   model, optimizer and every random generator's state,
                            the config, the epoch and the history (atomic write)
    RUN_DIR/config.json     the exact configuration
    RUN_DIR/history.csv     one row per epoch; history.json the same as JSON

and at the end result.json and the plots (`glassnet.plots`). Because every
random draw comes from a generator whose state is in the checkpoint — the
global one (initialisation, dropout), the loader's (shuffling), the
augmentation's — `--resume RUN_DIR` continues exactly where the run stopped: the
resumed run ends with the same weights as an uninterrupted one.
"""
import csv
import json
import math
import os
import time

import numpy as np

from . import data, models, nn, optim
from .autograd.grad_mode import no_grad
from .data import transforms as T
from .data.images import image_array
from .io import load, save
from .nn import functional as F
from .random import get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor
from .train import EarlyStopping, StepSchedule, TimeBudget, fit
from .train.callbacks import SCHEDULES, Callback
from .run_eval import Evaluation


class RunError(ValueError):
    """A run that cannot be set up as asked (bad option, wrong data for the model)."""


# The command's own defaults; a model's registry entry may override them, the user
# overrides both.
DEFAULTS = dict(dataset=None, data_dir=None, download=False, epochs=1, batch_size=64,
                optimizer="adam", lr=None, weight_decay=0.0, augment=False, val_split=0.0,
                early_stopping=None, limit_train=0, seed=0, prefetch=0, momentum=None,
                schedule="constant", label_smoothing=0.0, cutout=0, tta=False,
                time_budget=None, decay_norm_and_bias=True, drop_last=False,
                init=None, freeze=None, classes=None, per_class=0)

# (parameters, lr, weight decay, momentum) -> optimizer; None means the optimizer's usual
OPTIMIZERS = {
    "sgd": lambda p, lr, wd, m: optim.SGD(p, lr=lr or 0.01, weight_decay=wd),
    "momentum": lambda p, lr, wd, m: optim.SGD(p, lr=lr or 0.01, momentum=0.9 if m is None
                                               else m, weight_decay=wd),
    "nesterov": lambda p, lr, wd, m: optim.SGD(p, lr=lr or 0.01, momentum=0.9 if m is None
                                               else m, nesterov=True, weight_decay=wd),
    "adam": lambda p, lr, wd, m: optim.Adam(p, lr=lr or 1e-3, weight_decay=wd),
    "adamw": lambda p, lr, wd, m: optim.AdamW(p, lr=lr or 1e-3, weight_decay=wd or 1e-2),
    "rmsprop": lambda p, lr, wd, m: optim.RMSprop(p, lr=lr or 1e-3, weight_decay=wd,
                                                  momentum=m or 0.0),
}
AUGMENTS = (False, True, "alternating")
TTAS = (False, True, "flip", "multicrop")

CHECKPOINT, CONFIG, HISTORY_CSV, HISTORY_JSON, RESULT = (
    "checkpoint.gn", "config.json", "history.csv", "history.json", "result.json")


def resolve_config(model, **given):
    """The full config for training `model`: the user's values (None = not given) over the
    model's defaults over the command's."""
    entry = models.entry(model)
    config = {**DEFAULTS, "dataset": entry.dataset}
    defaults = {k: v for k, v in entry.defaults.items() if k in DEFAULTS}
    if given.get("optimizer") not in (None, defaults.get("optimizer", DEFAULTS["optimizer"])):
        defaults.pop("lr", None)          # a model's learning rate is for its own optimizer
    config.update(defaults)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise RunError(f"train: unknown options {unknown}")
    config.update({k: v for k, v in given.items() if v is not None})
    config["model"] = model
    _check_config(config)
    return config


def _check_config(c):
    checks = [(c["epochs"] >= 1, f"--epochs must be at least 1, got {c['epochs']}"),
              (c["batch_size"] >= 1, f"--batch-size must be at least 1, got {c['batch_size']}"),
              (0 <= c["val_split"] < 1, f"--val-split is a fraction in [0, 1), got {c['val_split']}"),
              (c["lr"] is None or c["lr"] > 0, f"--lr must be positive, got {c['lr']}"),
              (c["weight_decay"] >= 0, f"--weight-decay must be >= 0, got {c['weight_decay']}"),
              (c["limit_train"] >= 0, f"--limit-train must be >= 0, got {c['limit_train']}"),
              (c["schedule"] in SCHEDULES, f"unknown --schedule {c['schedule']!r}; choose from "
                                           f"{', '.join(SCHEDULES)}"),
              (0 <= c["label_smoothing"] < 1, f"--label-smoothing is in [0, 1), got "
                                              f"{c['label_smoothing']}"),
              (c["cutout"] >= 0, f"--cutout is a square's side in pixels, >= 0; got "
                                 f"{c['cutout']}"),
              (c["time_budget"] is None or c["time_budget"] > 0,
               f"--time-budget is a positive number of minutes, got {c['time_budget']}"),
              (c["per_class"] >= 0, f"--per-class must be >= 0, got {c['per_class']}"),
              (c["augment"] in AUGMENTS, f"augment must be one of {AUGMENTS}, got "
                                         f"{c['augment']!r}"),
              (c["augment"] != "alternating" or c["dataset"] in ("cifar10", "imagefolder"),
               "alternating flips are for natural images (cifar10, imagefolder), not "
               f"{c['dataset']}"),
              (c["tta"] in TTAS, f"--tta must be one of {TTAS[2:]}, got {c['tta']!r}"),
              (c["momentum"] is None or 0 <= c["momentum"] < 1,
               f"--momentum is in [0, 1), got {c['momentum']}"),
              (not c["per_class"] or c["classes"], "--per-class needs --classes (which "
                                                   "classes, in which order)"),
              (c["optimizer"] in OPTIMIZERS, f"unknown optimizer {c['optimizer']!r}; "
                                             f"choose from {', '.join(OPTIMIZERS)}")]
    for ok, message in checks:
        if not ok:
            raise RunError(f"train: {message}")


def _generator(seed, stream):
    """An independent generator per purpose, all derived from the run's seed."""
    return np.random.default_rng([int(seed), stream])


def _state(generator):
    return generator.bit_generator.state


def _restore(generator, state):
    generator.bit_generator.state = state


# ------------------------------------------------------------------------- data
def image_transform(config, task, train, generator=None):
    """uint8 images -> float (N, C, H, W): scaled to [0, 1], augmented when asked (training
    only), normalised by the data set's per-channel statistics, which the config records
    (not for autoencoders, whose sigmoid output reconstructs [0, 1] pixels)."""
    steps = [T.ToTensor()]
    if train and config["augment"]:
        steps += augmentations(config["dataset"], generator, config["augment"])
    if task != "autoencoder" and config.get("normalize"):
        steps.append(T.Normalize(*config["normalize"]))
    if train and config.get("cutout"):      # after Normalize: the square becomes mean colour
        steps.append(T.Cutout(config["cutout"], generator=generator))
    return T.Compose(steps)


def augmentations(dataset, generator, kind=True):
    """The notes' augmentation: small shifts, rotations and zooms for digits; flips and
    padded random crops for natural images (a mirrored digit is not the same digit).
    kind='alternating' (the fast CIFAR recipe): 2-pixel translations here, and flips that
    alternate per image from epoch to epoch (`data.AlternatingFlips`), the translations
    padded by mirroring (black borders would be an edge that test images never have)."""
    if kind == "alternating":      # the flips come from data.AlternatingFlips (see Run)
        return [T.RandomCrop(32, padding=2, padding_mode="reflect", generator=generator)]
    if dataset == "cifar10":
        return [T.RandomHorizontalFlip(generator=generator),
                T.RandomCrop(32, padding=4, generator=generator)]
    steps = [T.RandomShift(0.1, 0.1, generator=generator),
             T.RandomRotation(10, generator=generator),
             T.RandomZoom(0.1, generator=generator)]
    if dataset == "imagefolder":
        steps.insert(0, T.RandomHorizontalFlip(generator=generator))
    return steps


def load_split(config, task, train, generator=None):
    """The data set named in the config, with the transform the model needs."""
    name, options = config["dataset"], {}
    if name == "sine":      # consecutive chunks of `batch_size` waves, for the stateful RNN
        b = config["batch_size"]
        options = {"streams": b, "n_sequences": b * 16}
    try:
        ds = data.get_dataset(name, root=config["data_dir"], train=train,
                              download=config["download"], **options)
    except KeyError as e:
        raise RunError(f"train: {e.args[0]}") from None
    if len(getattr(ds, "input_shape", None) or ()) == 3:      # images: (C, H, W)
        if "normalize" not in config:
            mean, std = getattr(ds, "mean", None), getattr(ds, "std", None)
            config["normalize"] = [list(mean), list(std)] if mean is not None else \
                [[0.5] * ds.input_shape[0], [0.5] * ds.input_shape[0]]
        ds.transform = image_transform(config, task, train, generator)
    if config.get("classes"):
        per_class = config["per_class"] if train else 0
        try:
            ds = data.ClassSubset(ds, config["classes"], per_class,
                                  _generator(config["seed"], 4) if per_class else None)
        except (KeyError, ValueError, TypeError) as e:
            raise RunError(f"train: --classes: {e.args[0]}") from None
    return ds


class _Mapped:
    """A loader whose (x, y) batches pass through `fn` (keeps len for progress bars)."""

    def __init__(self, loader, fn):
        self.loader, self.fn = loader, fn

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield self.fn(x, y)


def _reconstruct(x, y):
    """An autoencoder's target is its input."""
    return x, x


def _float_targets(x, y):
    """BCE wants float 0/1 targets."""
    return x, Tensor._make(y._array.astype(np.float32), False, None)


# ------------------------------------------------------------------------- the run
class Run(Evaluation):
    """Everything a config describes, built: data, model, loss, metrics, optimizer."""

    def __init__(self, config, out=None, restoring=False):
        self.config, self.out = dict(config), out
        c = self.config
        self.entry = models.entry(c["model"])
        self.task = self.entry.task
        manual_seed(c["seed"])
        self.loader_rng, self.augment_rng = _generator(c["seed"], 1), _generator(c["seed"], 2)
        train_set = load_split(c, self.task, True, self.augment_rng)
        test_set = load_split(c, self.task, False)
        self._check_model_fits(train_set)
        self.classes = list(getattr(train_set, "classes", None) or [])
        if c["limit_train"]:
            train_set = data.Subset(train_set, np.arange(min(c["limit_train"], len(train_set))))
        self.val_set = None
        if c["val_split"]:
            n_val = int(round(len(train_set) * c["val_split"]))
            if n_val < 1 or n_val >= len(train_set):
                raise RunError(f"train: --val-split {c['val_split']} leaves no training or no "
                               f"validation data from {len(train_set)} samples")
            train_set, self.val_set = data.random_split(
                train_set, [len(train_set) - n_val, n_val], generator=_generator(c["seed"], 3))
        if c["augment"] == "alternating":
            train_set = data.AlternatingFlips(train_set, _generator(c["seed"], 5))
        self.train_set, self.test_set = train_set, test_set
        stateful = self.task == "regression"          # consecutive chunks, in order
        self.train_loader = self._wrap(data.DataLoader(
            train_set, batch_size=c["batch_size"], shuffle=not stateful,
            drop_last=c.get("drop_last", False) and len(train_set) >= c["batch_size"],
            generator=self.loader_rng, prefetch=c["prefetch"]))
        self.val_loader = self._wrap(data.DataLoader(self.val_set, batch_size=1000)) \
            if self.val_set is not None else None
        self.test_loader = self._wrap(data.DataLoader(
            test_set, batch_size=c["batch_size"] if stateful else 1000))
        self.model = models.get(c["model"], **self._model_kwargs(train_set))
        if hasattr(self.model, "init_from_data") and not restoring:
            self.model.init_from_data(self._plain_training_images(5000))
        self.transfer = self._transfer(restoring)
        self.optimizer = OPTIMIZERS[c["optimizer"]](self._param_groups(), c["lr"],
                                                    c["weight_decay"], c["momentum"])
        self.loss, self.metrics = self._loss_and_metrics()
        self.history = {}
        self.epoch = 0

    def _check_model_fits(self, ds):
        shape = tuple(getattr(ds, "input_shape", ()) or ())
        expected = self.entry.input_size
        if self.task == "regression":
            ok = getattr(ds, "task", None) == "regression"
        else:
            ok = shape == expected
        if not ok:
            raise RunError(f"train: model {self.config['model']} takes inputs of shape "
                           f"{expected}, but data set {self.config['dataset']} gives "
                           f"{shape or getattr(ds, 'task', '?')}; try --dataset "
                           f"{self.entry.dataset}")

    def _model_kwargs(self, ds):
        n = getattr(ds, "num_classes", None)
        if self.task == "classification" and n and n != 10:
            return {"num_classes": n}
        return {}

    def _plain_training_images(self, n):
        """The first n images of the training data as the network sees them in testing
        (normalised, not augmented): for models that set weights from data statistics."""
        base = self.train_set
        while not hasattr(base, "images") and hasattr(base, "dataset"):
            base = base.dataset
        if hasattr(base, "images"):
            return image_transform(self.config, self.task, train=False)(base.images[:n])
        return self.train_set.get_batch(np.arange(min(n, len(self.train_set))))[0]

    def _transfer(self, restoring):
        """--init (not when restoring a checkpoint, which holds every weight) and --freeze."""
        from . import transfer
        c, report = self.config, {}
        try:
            if c["init"] and not restoring:
                loaded = transfer.init_from(self.model, c["init"], self.classes or None)
                report.update(init=os.fspath(c["init"]), loaded=len(loaded["loaded"]),
                              new_head=loaded["new_head"])
            if c["freeze"]:
                report["frozen"] = transfer.freeze(self.model, c["freeze"])
        except transfer.TransferError as e:
            raise RunError(f"train: {e}") from None
        self.frozen_norms = transfer.frozen_norms(self.model)
        return report

    def _param_groups(self):
        """The trainable parameters (frozen ones get no optimizer state); with
        decay_norm_and_bias off, weight decay only on the weights of convolutions and
        linear layers — not on biases and normalisation scales (one-dimensional
        parameters), whose decay only fights the normalisation."""
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        if not trainable:
            raise RunError("train: --freeze left no parameter to train")
        if hasattr(self.model, "param_groups"):     # a model with its own rates per group
            groups = self.model.param_groups(self.config["lr"], self.config["weight_decay"])
            groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]}
                      for g in groups]
            return [g for g in groups if g["params"]]
        if self.config["decay_norm_and_bias"] or not self.config["weight_decay"]:
            return trainable
        groups = [{"params": [p for p in trainable if p.ndim > 1]},
                  {"params": [p for p in trainable if p.ndim <= 1], "weight_decay": 0.0}]
        return [g for g in groups if g["params"]]

    def _wrap(self, loader):
        if self.task == "autoencoder":
            return _Mapped(loader, _reconstruct)
        if self.task == "binary":
            return _Mapped(loader, _float_targets)
        return loader

    def _loss_and_metrics(self):
        if self.task == "classification":
            return nn.CrossEntropyLoss(label_smoothing=self.config["label_smoothing"]), \
                ("accuracy",)
        if self.task == "binary":
            if hasattr(self.model, "train_step"):      # the perceptron: 0/1 outputs, so the
                return nn.MSELoss(), ("binary_accuracy",)   # MSE is the error rate
            return nn.BCELoss(), ("binary_accuracy",)
        if self.task == "regression":
            return nn.MSELoss(), ("mae",)
        return nn.MSELoss(), ()

    @property
    def params(self):
        return sum(p.numel() for p in self.model.parameters())

    @property
    def trainable_params(self):
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    # ---------------------------------------------------------------- saving
    def checkpoint(self):
        return {"format": "glassnet-run", "model_name": self.config["model"],
                "config": self.config, "epoch": self.epoch, "history": self.history,
                "classes": self.classes, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "rng": {"global": get_rng_state(), "loader": _state(self.loader_rng),
                        "augment": _state(self.augment_rng)}}

    def restore(self, ckpt):
        """Continue from a checkpoint written by `checkpoint()`."""
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.epoch, self.history = int(ckpt["epoch"]), dict(ckpt["history"])
        set_rng_state(ckpt["rng"]["global"])
        _restore(self.loader_rng, ckpt["rng"]["loader"])
        _restore(self.augment_rng, ckpt["rng"]["augment"])

    def save_epoch(self):
        """The run directory after an epoch: checkpoint, config and history."""
        if not self.out:
            return
        os.makedirs(self.out, exist_ok=True)
        save(self.checkpoint(), os.path.join(self.out, CHECKPOINT))
        _write_json(os.path.join(self.out, CONFIG), self.config)
        _write_json(os.path.join(self.out, HISTORY_JSON), self.history)
        _write_history_csv(os.path.join(self.out, HISTORY_CSV), self.history)

    # ---------------------------------------------------------------- training
    def train(self, quiet=False, stream=None, callbacks=()):
        """Train up to config['epochs'] (from self.epoch), test, write the run directory;
        returns the result dict. `callbacks` are the caller's own, run before the run's
        epoch writer."""
        c = self.config
        own, budget = self._callbacks()
        callbacks = own[:-1] + list(callbacks) + own[-1:]
        seen = [0]

        def count(x, y):
            seen[0] += len(x)
            return x, y

        start = time.perf_counter()
        history = fit(self.model, _Mapped(self.train_loader, count), self.loss, self.optimizer,
                      c["epochs"], val_data=self.val_loader, metrics=self.metrics,
                      callbacks=callbacks, quiet=quiet, stream=stream, initial_epoch=self.epoch)
        train_seconds = time.perf_counter() - start
        result = self.test()
        result.update(train_seconds=round(train_seconds, 2),
                      images_per_second=round(seen[0] / max(train_seconds, 1e-9)),
                      epochs=self.epoch, stop_reason=history.stop_reason,
                      diverged=history.diverged, trainable_params=self.trainable_params,
                      **self.transfer)
        if budget is not None:
            result.update(time_budget_minutes=c["time_budget"], budget_ran_out=budget.exhausted)
        if self.out:
            _write_json(os.path.join(self.out, RESULT), {**result, "history": self.history})
            self._write_confusion()
            from . import plots
            plots.for_run(self)
        return result

    def _callbacks(self):
        """The run's callbacks (the epoch writer last) and the time budget's, if any."""
        c = self.config
        callbacks = []
        if c["early_stopping"] is not None:
            monitor = "val_loss" if self.val_loader is not None else "loss"
            callbacks.append(EarlyStopping(monitor, patience=c["early_stopping"],
                                           restore_best_weights=True))
        budget = TimeBudget(c["time_budget"] * 60) if c["time_budget"] else None
        if c["schedule"] != "constant":
            steps = len(self.train_loader)
            callbacks.append(StepSchedule(c["schedule"], c["epochs"] * steps,
                                          budget.seconds if budget else None,
                                          start_step=self.epoch * steps))
        if hasattr(self.model, "training_callbacks"):     # e.g. cifar-fast's Lookahead
            callbacks += self.model.training_callbacks(c["epochs"] * len(self.train_loader),
                                                       budget.seconds if budget else None)
        if isinstance(self.train_set, data.AlternatingFlips):
            callbacks.append(_SetEpoch(self.train_set))
        if self.frozen_norms:
            from .transfer import FrozenNormsInEval
            callbacks.append(FrozenNormsInEval(self.frozen_norms))
        if budget is not None:
            callbacks.append(budget)
        return callbacks + [_EpochEnd(self)], budget


class _SetEpoch(Callback):
    """Tells a dataset whose samples depend on the epoch (AlternatingFlips) which it is."""

    def __init__(self, dataset):
        self.dataset = dataset

    def on_epoch_begin(self, trainer, epoch):
        self.dataset.epoch = epoch


class _EpochEnd(Callback):
    """Keeps the run's epoch and history current and writes the run directory."""

    def __init__(self, run):
        self.run = run

    def on_epoch_end(self, trainer, epoch, logs):
        self.run.epoch = epoch
        self.run.history.setdefault("epoch", []).append(epoch)
        for k, v in logs.items():
            self.run.history.setdefault(k, []).append(v)
        self.run.save_epoch()


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, default=_jsonable)
    os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _write_history_csv(path, history):
    keys = list(history)
    rows = len(history.get("epoch", []))
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(keys)
        for i in range(rows):
            writer.writerow([history[k][i] if i < len(history[k]) else math.nan for k in keys])
    os.replace(tmp, path)


# ------------------------------------------------------------------------- reloading
def find_checkpoint(path):
    """A checkpoint file, or the checkpoint inside a run directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    return path


def load_run(path, out=None, **overrides):
    """A Run rebuilt from a checkpoint (or run directory) and restored to its state.
    `overrides` replace config values (e.g. epochs to train further, dataset to test on)."""
    ckpt = load(find_checkpoint(path))
    if not isinstance(ckpt, dict) or ckpt.get("format") != "glassnet-run":
        raise RunError(f"{path}: a glassnet checkpoint, but not of a training run "
                       "(no config inside)")
    config = {**ckpt["config"], **{k: v for k, v in overrides.items() if v is not None}}
    run = Run(config, out=out, restoring=True)
    run.restore(ckpt)
    return run


def load_model(path):
    """(model in eval mode, checkpoint dict) from a checkpoint or run directory, without
    loading any data."""
    ckpt = load(find_checkpoint(path))
    if not isinstance(ckpt, dict) or "model_name" not in ckpt:
        raise RunError(f"{path}: not a checkpoint of a glassnet training run")
    kwargs = {}
    classes = ckpt.get("classes") or []
    if models.entry(ckpt["model_name"]).task == "classification" and classes and \
            len(classes) != 10:
        kwargs["num_classes"] = len(classes)
    model = models.get(ckpt["model_name"], **kwargs)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt


def predict_images(path, image_paths, top=3, invert=False):
    """Classify image files with a trained run's model: a list of
    {"image", "class", "label", "probabilities": [(class, p), ...]}. `invert` turns
    dark-on-light pictures into MNIST's light-on-dark. An image that cannot be decoded
    within glassnet's limits (`glassnet.data.images`) is a DataFormatError naming it."""
    model, ckpt = load_model(path)
    entry = models.entry(ckpt["model_name"])
    if entry.task != "classification" or len(entry.input_size) != 3:
        raise RunError(f"predict: model {ckpt['model_name']} does not classify images")
    channels, height, width = entry.input_size
    arrays = []
    for p in image_paths:
        try:
            pixels = image_array(p, "L" if channels == 1 else "RGB", (height, width))
        except FileNotFoundError:
            raise FileNotFoundError(f"predict: no image at {p}") from None
        arrays.append(255 - pixels if invert else pixels)
    images = image_transform(ckpt["config"], entry.task, train=False)(np.stack(arrays))
    with no_grad():
        probs = F.softmax(model(Tensor(images)), dim=1)._array
    classes = ckpt.get("classes") or [str(i) for i in range(probs.shape[1])]
    results = []
    for p, row in zip(image_paths, probs):
        order = np.argsort(-row)[:top]
        results.append({"image": os.fspath(p), "class": int(order[0]),
                        "label": classes[order[0]],
                        "probabilities": [[classes[i], round(float(row[i]), 4)] for i in order]})
    return results
