"""Transfer learning on CIFAR-10's dev split, measured: does a pretrained network help?

    python benchmarks/transfer.py --data-dir DEV_DIR [--model resnet20] [--pretrain-epochs 10]
        [--pretrained RUN_DIR] [--epochs 30] [--per-class 100] [--seeds 0,1,2] [--out DIR]
        [--quick] [--json]

The notes' lesson (seed 002: reuse a trained VGG for a new task) as an experiment:

1. pretrain MODEL on the six animal classes of the dev split's training part (bird, cat,
   deer, dog, frog, horse; 24,000 images) with the family's own recipe, or reuse a run
   given by --pretrained;
2. learn the four vehicle classes (airplane, automobile, ship, truck) from only
   --per-class labelled training images each, three ways, each over every seed:
     scratch    the same architecture, freshly initialised (lr 0.1);
     frozen     the pretrained features frozen (their BatchNorm layers in inference mode)
                and a new linear head trained on top (lr 0.1);
     finetune   the pretrained network with a new head, every weight trained (lr 0.01:
                a smaller step keeps what pretraining learned);
   and test each on the held-out part's 4,000 vehicle images.

All runs use `glassnet.runs` exactly as `glassnet train MODEL --classes ... --per-class N
[--init RUN --freeze ...]` does. The learning curves (held-out accuracy after each epoch
on a fixed 1,000 of those images; nothing is selected on them) of the three settings go to
OUT/transfer_curves.png, the table to stdout and OUT/transfer.json.
--quick: a tiny configuration (a few hundred pretraining images, 2 epochs) to check that
everything runs.
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from glassnet import runs  # noqa: E402  (before NumPy: see the README on import order)
import numpy as np  # noqa: E402
from glassnet.train import evaluate  # noqa: E402
from glassnet.train.callbacks import Callback  # noqa: E402

ANIMALS = ["bird", "cat", "deer", "dog", "frog", "horse"]
VEHICLES = ["airplane", "automobile", "ship", "truck"]
SETTINGS = {"scratch": dict(lr=0.1), "frozen": dict(lr=0.1), "finetune": dict(lr=0.01)}


class HeldOutCurve(Callback):
    """Accuracy on a fixed slice of the held-out set after every epoch (for the plot)."""

    def __init__(self, run, limit):
        self.run, self.points = run, []
        loader = run.test_loader
        self.batches = []
        for x, y in loader:
            self.batches.append((x, y))
            if sum(len(b[0]) for b in self.batches) >= limit:
                break

    def on_epoch_end(self, trainer, epoch, logs):
        self.points.append((epoch, evaluate(self.run.model, self.batches)["accuracy"]))


def pretrain(args, out):
    config = runs.resolve_config(args.model, dataset="cifar10", data_dir=args.data_dir,
                                 classes=ANIMALS, epochs=args.pretrain_epochs, seed=0,
                                 limit_train=args.limit_pretrain or None)
    run = runs.Run(config, out=out)
    print(f"pretraining {args.model} on {', '.join(ANIMALS)}: {len(run.train_set)} images, "
          f"{args.pretrain_epochs} epochs", flush=True)
    result = run.train(quiet=not args.verbose)
    print(f"  held-out accuracy on the animals: {result['test_accuracy']:.4f} "
          f"({result['train_seconds'] / 60:.1f} min)", flush=True)
    return result


def head_prefixes(run):
    """Top-level parameter names other than the classifier head's: what 'frozen' freezes."""
    from glassnet.transfer import head_names
    head_tops = {n.split(".")[0] for n in head_names(run.model)}
    return sorted({n.split(".")[0] for n, _ in run.model.named_parameters()} - head_tops)


def transfer_run(args, setting, seed, pretrained, freeze, out):
    extra = dict(init=pretrained) if setting != "scratch" else {}
    if setting == "frozen":
        extra["freeze"] = freeze
    config = runs.resolve_config(args.model, dataset="cifar10", data_dir=args.data_dir,
                                 classes=VEHICLES, per_class=args.per_class, seed=seed,
                                 epochs=args.epochs, batch_size=64, **SETTINGS[setting],
                                 **extra)
    run = runs.Run(config, out=out)
    curve = HeldOutCurve(run, 1000)
    result = run.train(quiet=True, callbacks=[curve])
    return {"accuracy": result["test_accuracy"], "seconds": result["train_seconds"],
            "trainable_params": result["trainable_params"], "curve": curve.points}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True, help="the dev split's folder")
    p.add_argument("--model", default="resnet20")
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--limit-pretrain", type=int, default=0)
    p.add_argument("--pretrained", default=None, metavar="RUN_DIR")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default="runs/transfer")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.pretrain_epochs, args.limit_pretrain, args.epochs = 1, 256, 2
        args.per_class, args.seeds = 10, "0"
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    pretrained, pre = args.pretrained, None
    if pretrained is None:
        pretrained = os.path.join(args.out, "pretrain")
        pre = pretrain(args, pretrained)
    probe = runs.Run(runs.resolve_config(args.model, dataset="cifar10", data_dir=args.data_dir,
                                         classes=VEHICLES, per_class=args.per_class))
    freeze = head_prefixes(probe)
    results = {s: [] for s in SETTINGS}
    for seed in seeds:
        for setting in SETTINGS:
            r = transfer_run(args, setting, seed, pretrained, freeze,
                             os.path.join(args.out, f"{setting}-seed{seed}"))
            results[setting].append(r)
            print(f"seed {seed} {setting:9s} held-out accuracy {r['accuracy']:.4f} "
                  f"({r['trainable_params']:,} trainable parameters, {r['seconds']:.0f} s)",
                  flush=True)
    table = {s: {"mean": statistics.mean(r["accuracy"] for r in rs),
                 "min": min(r["accuracy"] for r in rs), "max": max(r["accuracy"] for r in rs),
                 "accuracies": [r["accuracy"] for r in rs]} for s, rs in results.items()}
    print(f"\n{args.model}: four vehicle classes from {args.per_class} images each, "
          f"{args.epochs} epochs, seeds {seeds}; held-out accuracy (4 classes, chance 0.25)")
    print("| setting | mean | min | max |\n|---|---|---|---|")
    for s, t in table.items():
        print(f"| {s} | {t['mean']:.4f} | {t['min']:.4f} | {t['max']:.4f} |")
    plot(results, os.path.join(args.out, "transfer_curves.png"), args)
    summary = {"model": args.model, "per_class": args.per_class, "epochs": args.epochs,
               "seeds": seeds, "pretrain": pre and {k: pre[k] for k in
                                                    ("test_accuracy", "train_seconds")},
               "pretrained": pretrained, "table": table, "runs": results,
               "minutes": round((time.time() - started) / 60, 1)}
    with open(os.path.join(args.out, "transfer.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if args.json:
        print(json.dumps(summary))


def plot(results, path, args):
    from glassnet import plots
    curves = {}
    for setting, rs in results.items():
        epochs = [e for e, _ in rs[0]["curve"]]
        mean = np.mean([[a for _, a in r["curve"]] for r in rs], axis=0)
        curves[f"{setting} (mean of {len(rs)} seeds)"] = (epochs, mean)
    plots.lines(curves, path, "epoch", "held-out accuracy (1,000 vehicle images)",
                f"{args.model}: vehicles from {args.per_class} images per class")


if __name__ == "__main__":
    main()
