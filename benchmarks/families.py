"""The CIFAR families side by side: parameters, multiply-adds, training images/s, minutes
per epoch of the dev split, and (when runs are given) dev-split accuracy.

    python benchmarks/families.py --data-dir DEV_DIR [--models resnet20,vgg11-bn,...]
        [--steps 8] [--runs RUN_DIR ...] [--json]

Each model is measured in its own fresh process (`--child NAME`), with glassnet imported
first: a `glassnet.runs.Run` of the model's own recipe (batch, optimizer, augmentation) on
the dev split's first (2 + steps) x batch training images, stepping through the run's
loader exactly as `glassnet train` does (data loading and augmentation included); the
first 2 steps warm up and are not timed; images/s is batch / the median step time.
Minutes per epoch = 40,000 / images/s / 60. Multiply-adds are `glassnet.summary`'s forward
count per image. With --runs, each RUN_DIR's result.json gives the accuracy column (the
run named by its model; say in the README which run it was).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ["cnn-cifar", "alexnet", "vgg11-bn", "vgg16-bn", "resnet20", "resnet56", "resnet18",
            "inception", "inception-resnet", "mobilenet", "mobilenetv2", "cifar-fast-small",
            "cifar-fast"]
WARMUP = 2


def child(name, data_dir, steps):
    sys.path.insert(0, ROOT)
    from glassnet import runs, summary
    from glassnet.train.loop import _batches

    config = runs.resolve_config(name, dataset="cifar10", data_dir=data_dir, epochs=1)
    config["limit_train"] = config["batch_size"] * (WARMUP + steps)
    run = runs.Run(config)
    model, opt, loss = run.model, run.optimizer, run.loss
    times = []
    model.train()
    start = time.perf_counter()
    for x, y in _batches(run.train_loader):
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()
        now = time.perf_counter()
        times.append(now - start)
        start = now
    step = statistics.median(times[WARMUP:])
    table = summary(model, (3, 32, 32))
    return {"model": name, "params": table.total_params, "mult_adds": table.mult_adds,
            "batch": config["batch_size"], "steps": len(times) - WARMUP,
            "images_per_second": config["batch_size"] / step,
            "minutes_per_epoch": 40000 / (config["batch_size"] / step) / 60}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--models", default=",".join(FAMILIES))
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--runs", nargs="*", default=[])
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.data_dir, args.steps)))
        return
    accuracy = {}
    for run_dir in args.runs:
        with open(os.path.join(run_dir, "result.json")) as f:
            r = json.load(f)
        accuracy[r["model"]] = (r["test_accuracy"], r.get("epochs"), r.get("train_seconds"))
    rows = []
    for name in args.models.split(","):
        out = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir, "--steps",
                              str(args.steps), "--child", name], capture_output=True, text=True)
        if out.returncode:
            print(f"{name}: failed\n{out.stderr}", file=sys.stderr)
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        if name in accuracy:
            row["dev_accuracy"], row["epochs"], row["train_seconds"] = accuracy[name]
        rows.append(row)
        print(f"{name}: {row['images_per_second']:.0f} img/s", file=sys.stderr, flush=True)
    print("| model | params | multiply-adds | batch | images/s | min/epoch (40k) | dev accuracy |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        acc = (f"{r['dev_accuracy']:.2%} ({r['epochs']} epochs, "
               f"{r['train_seconds'] / 60:.0f} min)" if "dev_accuracy" in r else "")
        print(f"| `{r['model']}` | {r['params']:,} | {r['mult_adds'] / 1e6:.1f} M | {r['batch']} "
              f"| {r['images_per_second']:.0f} | {r['minutes_per_epoch']:.1f} | {acc} |")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
