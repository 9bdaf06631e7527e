"""The `glassnet` command: train the notes' networks, test them, use them, look inside.

    glassnet train cnn-mnist --epochs 3 --out runs/cnn   # train, test, write a run directory
    glassnet train --resume runs/cnn --epochs 5           # continue that run to epoch 5
    glassnet eval runs/cnn                                # test a trained model again
    glassnet predict runs/cnn digit.png                   # classify image files
    glassnet models | summary MODEL | datasets            # the zoo, a layer table, the data
    glassnet diagnose vanishing                           # watch gradients vanish in an RNN

Errors in what was asked (an unknown name, missing data, a bad file) end with one
line on stderr and exit status 2; a training whose loss diverges exits with 1; Ctrl-C
ends with "interrupted" and 130 (checkpoints are written atomically, so the last one is
whole). Anything else is a bug in glassnet: one line says so (exit 3). `--debug` (or
GLASSNET_DEBUG=1) shows the traceback instead, in every case.
"""
import argparse
import json
import os
import sys
import time

from . import data, models
from .io import CheckpointError
from .summary import (build_model, comparison, comparison_text, parse_assignments,
                      savings as summary_savings, savings_text, summary)


def _print_result(result, args, keys):
    if not args.quiet:
        for k in keys:
            v = result.get(k)
            if v is not None:
                print(f"{k.replace('_', ' ')}: {v:.4f}" if isinstance(v, float) else
                      f"{k.replace('_', ' ')}: {v}")
    if args.json:
        print(json.dumps(result))


def _names(text):
    """A comma-separated command-line list."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated names")
    return names


def train(args):
    from . import runs
    options = {k: getattr(args, k) for k in runs.DEFAULTS}
    if args.resume:
        if args.model:
            raise runs.RunError("train: give either a MODEL or --resume RUN_DIR, not both")
        given = {k: v for k, v in options.items() if v is not None and v is not False}
        unchangeable = sorted(set(given) - {"epochs", "data_dir", "prefetch"})
        if unchangeable:
            flags = ", ".join("--" + k.replace("_", "-") for k in unchangeable)
            raise runs.RunError(f"train --resume: the run's own settings are used; only "
                                f"--epochs, --data-dir and --prefetch may be given (got {flags})")
        run = runs.load_run(args.resume, out=args.resume, **given)
        if run.epoch >= run.config["epochs"]:
            raise runs.RunError(f"train --resume: {args.resume} already has {run.epoch} epochs "
                                f"of {run.config['epochs']}; give a larger --epochs")
    else:
        if not args.model:
            raise runs.RunError("train: name a MODEL (see `glassnet models`) or give "
                                "--resume RUN_DIR")
        config = runs.resolve_config(args.model, **options)
        out = args.out or os.path.join(
            "runs", f"{args.model}-{config['dataset']}-{time.strftime('%Y%m%d-%H%M%S')}")
        run = runs.Run(config, out=out)
    if not args.quiet:
        c, lr = run.config, run.optimizer.param_groups[0]["lr"]
        print(f"{c['model']} on {c['dataset']}: {len(run.train_set)} training samples, "
              f"{run.params:,} parameters, {c['optimizer']} (lr {lr:g}), "
              f"batch {c['batch_size']}, epochs {run.epoch + 1}..{c['epochs']}")
    result = run.train(quiet=args.quiet)
    if not args.quiet:
        if result.get("stop_reason"):
            print(result["stop_reason"])
        per_class = result.get("per_class_accuracy") or {}
        if 1 < len(per_class) <= 20:
            print("test accuracy per class: " + ", ".join(f"{k} {v:.3f}"
                                                           for k, v in per_class.items()))
        print(f"run directory: {run.out}")
    _print_result(result, args, ["test_accuracy", "test_loss", "test_mse"])
    return 1 if result.get("diverged") else 0


def evaluate_checkpoint(args):
    from . import runs
    run = runs.load_run(args.checkpoint, dataset=args.dataset, data_dir=args.data_dir,
                        download=args.download or None)
    result = run.test()
    result.pop("run_dir")
    result["checkpoint"] = runs.find_checkpoint(args.checkpoint)
    _print_result(result, args, ["model", "dataset", "test_accuracy", "test_loss", "test_mse"])
    return 0


def predict(args):
    from . import runs
    results = runs.predict_images(args.checkpoint, args.images, top=args.top,
                                  invert=args.invert)
    for r in results:
        if not args.quiet:
            probs = ", ".join(f"{c} {p:.3f}" for c, p in r["probabilities"])
            print(f"{r['image']}: {r['label']}  ({probs})")
    if args.json:
        print(json.dumps({"predictions": results}))
    return 0


def list_models(args):
    for name in models.names():
        e = models.entry(name)
        print(f"{name:20s} {e.description}  [{e.task}, input {e.input_size}, "
              f"data {e.dataset}]")
    return 0


def show_summary(args):
    """A model's layer table (built with --set arguments), its comparison with another
    build (--compare), or the notes' worked savings (--savings)."""
    if args.savings:
        if args.model or args.set or args.compare:
            raise ValueError("summary: --savings takes no MODEL, --set or --compare")
        result = summary_savings()
        print(json.dumps(result) if args.json else savings_text(result))
        return 0
    base_args = parse_assignments(args.set, "--set")
    extra = parse_assignments(args.compare, "--compare")
    if not args.model:
        raise ValueError("summary: name a MODEL (see `glassnet models`) or give --savings")
    arguments = {**base_args, **extra}
    _, input_size = models.describe(args.model)
    s = summary(build_model(args.model, arguments), input_size)
    compared = None
    if args.compare:
        base = summary(build_model(args.model, base_args), input_size)
        compared = comparison(base, s, base_args, arguments)
    if args.json:
        print(json.dumps({"model": args.model, "arguments": arguments,
                          "total_params": s.total_params,
                          "trainable_params": s.trainable_params, "mult_adds": s.mult_adds,
                          "layers": [{"name": r.name, "type": r.type,
                                      "output_shape": list(r.output_shape), "params": r.params}
                                     for r in s.layers],
                          **({"comparison": compared} if compared else {})}, default=repr))
    else:
        print(s)
        if compared:
            print(comparison_text(args.model, compared))
    return 0


def list_datasets(args):
    """Which data sets are present locally, and where."""
    found = data.available_datasets(args.data_dir)
    if args.json:
        print(json.dumps(found))
        return 0
    for name, info in found.items():
        if info.get("present"):
            where = f"present: {info.get('where', '')}"
            if info.get("test_samples") is not None:
                where += f" ({info['test_samples']} test samples)"
        else:
            where = "not found; looked in " + ", ".join(info.get("looked_in") or ["-"])
        print(f"{name:15s} {where}")
    return 0


def diagnose(args):
    from . import diagnostics
    return diagnostics.run_command(args)


def parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of any error")
    common.add_argument("--max-image-pixels", type=int, default=argparse.SUPPRESS,
                        metavar="N", help="refuse images of more pixels than N (default "
                        "2**25; a guard against decompression bombs)")
    p = argparse.ArgumentParser(prog="glassnet", parents=[common], description="glassnet: "
                                "train, test and inspect the notes' neural networks")
    sub = p.add_subparsers(dest="command", required=True)
    add_parser = sub.add_parser
    sub.add_parser = lambda *a, **k: add_parser(*a, parents=[common], **k)  # --debug anywhere

    t = sub.add_parser("train", help="train a model from the zoo and report its test score")
    t.add_argument("model", nargs="?", choices=models.names(), metavar="MODEL",
                   help="one of: " + ", ".join(models.names()))
    t.add_argument("--dataset", default=None, help="default: the model's own (see `glassnet "
                   "models`); mnist, fashion-mnist, cifar10, imagefolder, blobs, sine")
    t.add_argument("--data-dir", default=None, help="folder holding the data set's files")
    t.add_argument("--download", action="store_true", help="fetch missing data (checksummed)")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--optimizer", default=None,
                   choices=["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"])
    t.add_argument("--lr", type=float, default=None, help="default: the optimizer's usual rate")
    t.add_argument("--weight-decay", type=float, default=None)
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random shifts, rotations, zooms (flips and padded crops for natural "
                   "images); the CIFAR families augment by default (cifar-fast: 2-pixel "
                   "shifts and alternating flips)")
    t.add_argument("--schedule", default=None,
                   choices=["constant", "cosine", "onecycle", "triangle"],
                   help="learning-rate shape over the run, set every step (the CIFAR "
                   "families: cosine)")
    t.add_argument("--label-smoothing", type=float, default=None, metavar="EPS")
    t.add_argument("--cutout", type=int, default=None, metavar="PIXELS",
                   help="blank one random square of this side per training image")
    t.add_argument("--tta", nargs="?", const="flip", default=None,
                   choices=["flip", "multicrop"], help="test-time augmentation: the mean "
                   "output of each image and its mirror image (flip, the default), also "
                   "of 1-pixel shifts (multicrop)")
    t.add_argument("--no-tta", dest="tta", action="store_const", const=False)
    t.add_argument("--momentum", type=float, default=None,
                   help="for the momentum and nesterov optimizers (default 0.9)")
    t.add_argument("--time-budget", type=float, default=None, metavar="MINUTES",
                   help="stop training when the time is up (the schedule follows it), "
                   "then test")
    t.add_argument("--decay-norm-and-bias", action=argparse.BooleanOptionalAction,
                   default=None, help="weight decay also on biases and BatchNorm scales "
                   "(the CIFAR families: no)")
    t.add_argument("--drop-last", action=argparse.BooleanOptionalAction, default=None,
                   help="drop each epoch's last partial training batch (cifar-fast: yes)")
    t.add_argument("--init", default=None, metavar="RUN_DIR_OR_WEIGHT_FILE",
                   help="start from these weights (transfer learning); a classifier head "
                   "that does not fit the classes is made new")
    t.add_argument("--freeze", type=_names, default=None, metavar="PREFIXES",
                   help="comma-separated parameter-name prefixes not to train, e.g. features")
    t.add_argument("--classes", type=_names, default=None, metavar="NAMES",
                   help="train and test on these classes only, e.g. airplane,ship")
    t.add_argument("--per-class", type=int, default=None, metavar="N",
                   help="with --classes: N training images of each class")
    t.add_argument("--val-split", type=float, default=None, help="fraction held out")
    t.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    t.add_argument("--limit-train", type=int, default=None, help="use only the first N samples")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--prefetch", type=int, default=None, help="batches prepared ahead by a thread")
    t.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="run directory (default runs/MODEL-DATASET-TIME)")
    t.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=train)

    e = sub.add_parser("eval", help="test a trained model (checkpoint or run directory)")
    e.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR")
    e.add_argument("--dataset", default=None, help="default: the one it was trained on")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--download", action="store_true")
    e.add_argument("--json", action="store_true")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(run=evaluate_checkpoint)

    r = sub.add_parser("predict", help="classify image files (PNG, JPEG) with a trained model")
    r.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR")
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--top", type=int, default=3, help="how many classes to show")
    r.add_argument("--invert", action="store_true",
                   help="dark strokes on a light background (MNIST digits are light on dark)")
    r.add_argument("--json", action="store_true")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(run=predict)

    m = sub.add_parser("models", help="list the models")
    m.set_defaults(run=list_models)
    s = sub.add_parser("summary", help="print a model's layer table, or the notes' savings")
    s.add_argument("model", nargs="?", choices=models.names(), metavar="MODEL",
                   help="one of: " + ", ".join(models.names()))
    s.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="build the model with this builder argument, e.g. factorize=3x3 "
                   "(values are Python literals where they are one, else strings)")
    s.add_argument("--compare", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="show the model built with these arguments too, and its parameters "
                   "and multiply-adds against the build without them")
    s.add_argument("--savings", action="store_true", help="the notes' worked comparisons "
                   "(5x5 vs two 3x3, 3x3 vs 1x3+3x1, depthwise-separable, inception's "
                   "factorize settings), counted on built modules")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=show_summary)
    d = sub.add_parser("datasets", help="which data sets are present locally, and where")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--json", action="store_true")
    d.set_defaults(run=list_datasets)

    g = sub.add_parser("diagnose", help="experiments that show what goes on inside training")
    g.add_argument("experiment", choices=["vanishing"])
    g.add_argument("--steps", type=int, default=None, help="sequence length (default 100)")
    g.add_argument("--out", default=None, metavar="DIR", help="where to write the plots")
    g.add_argument("--quick", action="store_true", help="a small, fast configuration")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--json", action="store_true")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(run=diagnose)
    return p


# what a user's request can get wrong; anything else escaping a command is a bug
USER_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
               data.DataFormatError, CheckpointError, ValueError, KeyError, TypeError, OSError)


def main(argv=None):
    args = parser().parse_args(argv)
    debug = getattr(args, "debug", False) or bool(os.environ.get("GLASSNET_DEBUG"))
    try:
        if hasattr(args, "max_image_pixels"):
            data.set_max_image_pixels(args.max_image_pixels)
        return args.run(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:     # `glassnet models | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except USER_ERRORS as e:
        if debug:
            raise
        message = str(e.args[0] if isinstance(e, KeyError) and e.args else e)
        message = message.removeprefix(f"{args.command}: ")    # said once, below
        print(f"glassnet {args.command}: {message}", file=sys.stderr)
        return 2
    except Exception as e:
        if debug:
            raise
        print(f"glassnet {args.command}: internal error, a bug in glassnet "
              f"({type(e).__name__}: {e}); please report it to the glassnet developers with "
              f"the output of the same command run with --debug", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
