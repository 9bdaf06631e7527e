"""The `glassnet` command: train the notes' networks, list them, summarise them.

    glassnet train cnn-mnist --epochs 1          # train, then report test accuracy
    glassnet models                              # the zoo
    glassnet summary mlp                         # the Keras-style table
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from . import data, models, nn, optim
from .io import save
from .random import manual_seed
from .summary import summary
from .train import EarlyStopping, evaluate, fit

DATASETS = {"mnist": (data.MNIST, 0.1307, 0.3081), "fashion-mnist": (data.FashionMNIST, 0.2860,
                                                                        0.3530)}

OPTIMIZERS = {
    "sgd": lambda p, lr, wd: optim.SGD(p, lr=lr or 0.01, weight_decay=wd),
    "momentum": lambda p, lr, wd: optim.SGD(p, lr=lr or 0.01, momentum=0.9, weight_decay=wd),
    "nesterov": lambda p, lr, wd: optim.SGD(p, lr=lr or 0.01, momentum=0.9, nesterov=True,
                                            weight_decay=wd),
    "adam": lambda p, lr, wd: optim.Adam(p, lr=lr or 1e-3, weight_decay=wd),
    "adamw": lambda p, lr, wd: optim.AdamW(p, lr=lr or 1e-3, weight_decay=wd or 1e-2),
    "rmsprop": lambda p, lr, wd: optim.RMSprop(p, lr=lr or 1e-3, weight_decay=wd),
}


def _scaled(mean, std):
    """uint8 images (N, H, W) -> normalised float32 (N, 1, H, W)."""
    def transform(images):
        x = images.astype(np.float32)
        x *= np.float32(1 / (255 * std))
        x -= np.float32(mean / std)
        return x[:, None]
    return transform


def _datasets(name, data_dir):
    cls, mean, std = DATASETS[name]
    transform = _scaled(mean, std)
    return (cls(data_dir, train=True, transform=transform),
            cls(data_dir, train=False, transform=transform))


def train(args):
    manual_seed(args.seed)
    start = time.perf_counter()
    train_set, test_set = _datasets(args.dataset, args.data_dir)
    if args.limit_train:
        train_set = data.Subset(train_set, np.arange(min(args.limit_train, len(train_set))))
    val_loader = None
    if args.val_split:
        n_val = int(round(len(train_set) * args.val_split))
        train_set, val_set = data.random_split(train_set, [len(train_set) - n_val, n_val])
        val_loader = data.DataLoader(val_set, batch_size=1000)
    loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, prefetch=args.prefetch)
    model = models.get(args.model)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), args.lr, args.weight_decay)
    callbacks = []
    if args.early_stopping is not None:
        callbacks.append(EarlyStopping("val_loss" if val_loader else "loss",
                                       patience=args.early_stopping,
                                       restore_best_weights=True))
    fit_start = time.perf_counter()
    history = fit(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs,
                  val_data=val_loader, callbacks=callbacks, quiet=args.quiet)
    train_seconds = time.perf_counter() - fit_start
    test = evaluate(model, data.DataLoader(test_set, batch_size=1000), nn.CrossEntropyLoss())
    seconds = time.perf_counter() - start
    result = {"model": args.model, "dataset": args.dataset, "epochs": len(history.epochs),
              "train_seconds": round(train_seconds, 1),
              "images_per_second": round(len(history.epochs) * len(train_set) / train_seconds),
              "test_loss": test["loss"], "test_accuracy": test["accuracy"],
              "params": sum(p.numel() for p in model.parameters()), "run_dir": args.out,
              "seconds": round(seconds, 1), "history": history.history,
              "stop_reason": history.stop_reason}
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
              "model_name": args.model}, os.path.join(args.out, "checkpoint.gn"))
        with open(os.path.join(args.out, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
    if not args.quiet:
        print(f"test accuracy: {test['accuracy']:.4f}, test loss {test['loss']:.4f} "
              f"({seconds:.1f} s)")
    if args.json:
        print(json.dumps(result))
    return 0 if history.stop_reason is None or "callback" in history.stop_reason else 1


def list_models(args):
    for name in models.names():
        description, input_size = models.describe(name)
        print(f"{name:20s} {description}  input {input_size}")
    return 0


def show_summary(args):
    _, input_size = models.describe(args.model)
    s = summary(models.get(args.model), input_size)
    if args.json:
        print(json.dumps({"model": args.model, "total_params": s.total_params,
                          "trainable_params": s.trainable_params,
                          "layers": [{"name": r.name, "type": r.type,
                                      "output_shape": list(r.output_shape), "params": r.params}
                                     for r in s.layers]}))
    else:
        print(s)
    return 0


def list_datasets(args):
    """Which data sets are present locally, and where."""
    found = {}
    for name, (cls, _, _) in sorted(DATASETS.items()):
        try:
            ds = cls(args.data_dir, train=False)
            found[name] = {"present": True, "test_samples": len(ds)}
        except (FileNotFoundError, data.DataFormatError) as e:
            found[name] = {"present": False, "looked_in": cls.search_dirs(args.data_dir),
                           "error": str(e)}
    if args.json:
        print(json.dumps(found))
        return 0
    for name, info in found.items():
        where = f"{info['test_samples']} test images" if info["present"] else \
            "not found; looked in " + ", ".join(info["looked_in"])
        print(f"{name:15s} {where}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="glassnet", description="glassnet: train and inspect the "
                                "notes' neural networks")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model from the zoo and report test accuracy")
    t.add_argument("model", choices=models.names())
    t.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    t.add_argument("--data-dir", default=None, help="folder with the IDX files")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    t.add_argument("--lr", type=float, default=None, help="default: the optimizer's usual rate")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--val-split", type=float, default=0.0, help="fraction held out")
    t.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    t.add_argument("--limit-train", type=int, default=0, help="use only the first N images")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--prefetch", type=int, default=0, help="batches prepared ahead by a thread")
    t.add_argument("--out", default=None, metavar="RUN_DIR", help="save checkpoint and results")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=train)
    m = sub.add_parser("models", help="list the models")
    m.set_defaults(run=list_models)
    s = sub.add_parser("summary", help="print a model's layer table")
    s.add_argument("model", choices=models.names())
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=show_summary)
    d = sub.add_parser("datasets", help="which data sets are present locally, and where")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--json", action="store_true")
    d.set_defaults(run=list_datasets)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, data.DataFormatError) as e:
        print(f"glassnet: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
