"""One DataLoader epoch over MNIST, glassnet vs PyTorch, each in its own fresh process.

    python benchmarks/dataloader_vs_torch.py [--data-dir DIR] [--rounds 5] [--quick] [--json]

glassnet: `DataLoader(vision.datasets.MNIST(root, train=True, transform=Compose([ToTensor(),
Normalize((0.5,), (0.5,))])), batch_size=64, shuffle=True)`, written as a PyTorch user
writes it. PyTorch: `torch.utils.data.DataLoader(batch_size=64, shuffle=True)` over a
map-style Dataset holding the same uint8 images (read from the same IDX files) and applying
the same per-sample transform as torchvision does it: `Image.fromarray(img, mode='L')`,
then torchvision's ToTensor on a PIL 'L' image (`from_numpy(np.array(pic, copy=True))
.view(H, W, 1).permute(2, 0, 1).contiguous().float().div(255)`), then Normalize
(`sub_(mean).div_(std)` with (C, 1, 1) tensors). torchvision itself cannot be imported on
this machine, so its steps are spelled out here.

Each measurement is a new process (`--child NAME`) at the framework's default settings
(no thread variables set; glassnet imported first in its process, PyTorch's process never
imports glassnet): it reads the data, then times one epoch, iterating every batch and
touching it (a sum of a pixel and of the labels, which both processes must agree on).
The two frameworks alternate for `--rounds` rounds, the order flipping every round.
Reported: the median epoch seconds of each and their [min, max], and the ratio
torch / glassnet of the medians (> 1: glassnet faster).

--quick: the first 1024 training images, 2 rounds. --limit N: the first N images.
--json: the last line of stdout is one JSON object {"images", "batch_size", "rounds",
"glassnet": {"median", "min", "max", "seconds", "setup_median", "batched"}, "torch": {...},
"ratio"}.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "datasets", "mnist")
BATCH, MEAN, STD = 64, 0.5, 0.5
FRAMEWORKS = ("glassnet", "torch")


# ------------------------------------------------------------------ inside a child process
def glassnet_epoch(data_dir, limit):
    """(setup seconds, the loader, whether batches are built in one call) for glassnet."""
    if ROOT not in sys.path:          # the tree's glassnet, installed or not
        sys.path.insert(0, ROOT)
    import glassnet  # noqa: F401  (first: see glassnet/_kernels/blas.py)
    import numpy as np
    from glassnet import vision
    from glassnet.vision import transforms
    try:
        from glassnet.utils.data import DataLoader
    except ImportError:
        from glassnet.data import DataLoader

    start = time.perf_counter()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    dataset = vision.datasets.MNIST(data_dir, train=True, transform=transform)
    if limit:
        dataset.data, dataset.targets = dataset.data[:limit], dataset.targets[:limit]
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True)
    batched = dataset.get_batch(np.arange(2)) is not None
    return time.perf_counter() - start, loader, batched


def read_idx(path):
    """An IDX file (gzip or raw) as a uint8 array. The PyTorch process must not import
    glassnet (it sets thread variables when imported), hence this reader of its own."""
    import gzip
    import numpy as np
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_file(data_dir, stem):
    for name in (stem + ".gz", stem):
        if os.path.isfile(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    raise FileNotFoundError(f"dataloader_vs_torch: {stem}(.gz) not found in {data_dir}")


def torch_epoch(data_dir, limit):
    """(setup seconds, the loader, False) for PyTorch with torchvision's per-sample steps."""
    import numpy as np
    import torch
    from PIL import Image

    class TorchvisionStyleMNIST(torch.utils.data.Dataset):
        def __init__(self, images, labels):
            self.images, self.labels = images, labels
            self.mean = torch.tensor([MEAN]).view(-1, 1, 1)
            self.std = torch.tensor([STD]).view(-1, 1, 1)

        def __len__(self):
            return len(self.images)

        def __getitem__(self, index):
            pic = Image.fromarray(self.images[index], mode="L")
            h, w = pic.size[1], pic.size[0]
            x = torch.from_numpy(np.array(pic, copy=True)).view(h, w, 1)
            x = x.permute(2, 0, 1).contiguous().float().div(255)
            return x.sub_(self.mean).div_(self.std), int(self.labels[index])

    start = time.perf_counter()
    images = read_idx(find_file(data_dir, "train-images-idx3-ubyte"))
    labels = read_idx(find_file(data_dir, "train-labels-idx1-ubyte")).astype(np.int64)
    if limit:
        images, labels = images[:limit], labels[:limit]
    dataset = TorchvisionStyleMNIST(images, labels)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)
    return time.perf_counter() - start, loader, False


def run_child(name, data_dir, limit):
    """Time one epoch; print one JSON line."""
    setup, loader, batched = (glassnet_epoch if name == "glassnet" else torch_epoch)(
        data_dir, limit)
    images = batches = label_sum = 0
    pixel_sum = 0.0
    start = time.perf_counter()
    for x, y in loader:                 # touch every batch: one pixel of each image, labels
        pixel_sum += float(x[:, 0, 14, 14].sum().item())
        label_sum += int(y.sum().item())
        images += x.shape[0]
        batches += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": name, "epoch_seconds": seconds, "setup_seconds": setup,
                      "images": images, "batches": batches, "label_sum": label_sum,
                      "pixel_sum": pixel_sum, "batched": batched}))


# ------------------------------------------------------------------------ the parent
def measure(name, data_dir, limit):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name,
                           "--data-dir", data_dir, "--limit", str(limit)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"dataloader_vs_torch: the {name} process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_same_work(runs):
    """Both frameworks must have seen the same images and labels in their epoch."""
    first = runs[0]
    for run in runs[1:]:
        same = (run["images"], run["label_sum"]) == (first["images"], first["label_sum"])
        close = abs(run["pixel_sum"] - first["pixel_sum"]) <= 1e-4 * max(
            1.0, abs(first["pixel_sum"]))
        if not (same and close):
            sys.exit(f"dataloader_vs_torch: {run['framework']} and {first['framework']} did "
                     f"not see the same data: {run} vs {first}")


def summary(runs):
    seconds = [r["epoch_seconds"] for r in runs]
    return {"median": round(statistics.median(seconds), 4), "min": round(min(seconds), 4),
            "max": round(max(seconds), 4), "seconds": [round(s, 4) for s in seconds],
            "setup_median": round(statistics.median(r["setup_seconds"] for r in runs), 4),
            "batched": runs[0]["batched"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA,
                        help="folder with the MNIST IDX files (default ../shared/datasets/mnist)")
    parser.add_argument("--rounds", type=int, default=None, help="default 5 (2 with --quick)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N images")
    parser.add_argument("--quick", action="store_true", help="1024 images, 2 rounds")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    limit = args.limit if args.limit is not None else (1024 if args.quick else 0)
    if args.child:
        return run_child(args.child, args.data_dir, limit)
    rounds = args.rounds or (2 if args.quick else 5)
    print("load average before the run: %.2f %.2f %.2f (other processes share the CPUs; "
          "compare the ratio, not the times)" % os.getloadavg())
    runs = {name: [] for name in FRAMEWORKS}
    for r in range(rounds):
        for name in (FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1]):
            runs[name].append(measure(name, args.data_dir, limit))
        print(f"round {r + 1}: " + ", ".join(f"{name} {runs[name][-1]['epoch_seconds']:.3f} s"
                                            for name in FRAMEWORKS), flush=True)
    check_same_work([run for name in FRAMEWORKS for run in runs[name]])
    result = {"images": runs["glassnet"][0]["images"], "batch_size": BATCH, "rounds": rounds}
    result.update({name: summary(runs[name]) for name in FRAMEWORKS})
    result["ratio"] = round(result["torch"]["median"] / result["glassnet"]["median"], 2)
    for name in FRAMEWORKS:
        s = result[name]
        print(f"{name:9s} epoch {s['median']:.3f} s median [{s['min']:.3f}, {s['max']:.3f}] "
              f"over {rounds} rounds (data read in {s['setup_median']:.2f} s)")
    print(f"ratio torch / glassnet: {result['ratio']:.2f} (> 1: glassnet faster), "
          f"{result['images']} images in batches of {BATCH}, glassnet "
          f"{'batched' if result['glassnet']['batched'] else 'sample by sample'}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
