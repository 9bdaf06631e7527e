"""Train the notes' MNIST CNN on glassnet's engine alone, then report test accuracy.

    conv 1->16 5x5 pad 2, ReLU, max-pool 2  ->  conv 16->32 5x5 pad 2, ReLU, max-pool 2
    ->  flatten  ->  linear 1568->10  ->  softmax cross-entropy, Adam

Everything the training needs is visible here: the IDX file format, PyTorch's
default initialisation, the forward pass, `loss.backward()`, and the Adam update.

    python examples/mnist_cnn.py [--data-dir DIR] [--epochs 1] [--batch-size 64]
"""
import argparse
import gzip
import math
import os
import pathlib
import struct
import time

import glassnet as gn   # before NumPy: it tunes OpenBLAS's threads, which NumPy loads (README)
import glassnet.nn.functional as F
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEARCH = [os.environ.get("GLASSNET_DATA", ""), "data/mnist", str(HERE.parent.parent / "shared/datasets/mnist")]


def read_idx(path, magic, dims):
    """An IDX file (gzip or raw) as a uint8 array, its header checked."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    header = struct.unpack(f">{1 + dims}I", raw[: 4 * (1 + dims)])
    if header[0] != magic:
        raise ValueError(f"{path}: magic number {header[0]}, expected {magic}")
    data = np.frombuffer(raw, np.uint8, offset=4 * (1 + dims))
    if data.size != math.prod(header[1:]):
        raise ValueError(f"{path}: {data.size} bytes of data, header promises {header[1:]}")
    return data.reshape(header[1:])


def find(name, data_dir):
    for folder in [data_dir] + SEARCH:
        for candidate in (name, name + ".gz"):
            path = pathlib.Path(folder or ".") / candidate
            if folder and path.exists():
                return path
    raise FileNotFoundError(f"{name}(.gz) not found in {[d for d in [data_dir] + SEARCH if d]}")


def load(split, data_dir):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(find(f"{prefix}-images-idx3-ubyte", data_dir), 2051, 3)
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte", data_dir), 2049, 1)
    x = ((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]  # N, 1, 28, 28
    return x, labels.astype(np.int64)


def init_params(rng):
    """PyTorch's default: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    def uniform(shape, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return gn.tensor(rng.uniform(-bound, bound, shape), requires_grad=True)
    return {"w1": uniform((16, 1, 5, 5), 25), "b1": uniform((16,), 25),
            "w2": uniform((32, 16, 5, 5), 400), "b2": uniform((32,), 400),
            "w3": uniform((10, 1568), 1568), "b3": uniform((10,), 1568)}


def forward(p, x):
    h = F.max_pool2d(F.relu(F.conv2d(x, p["w1"], p["b1"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["w2"], p["b2"], padding=2)), 2)
    return F.linear(h.flatten(1), p["w3"], p["b3"])


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [np.zeros_like(p.data.numpy()) for p in params]
        self.v = [np.zeros_like(p.data.numpy()) for p in params]

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        scale = self.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad.numpy()
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w = p.data.numpy()      # the weights' own memory: updated in place, no graph
            w -= scale * m / (np.sqrt(v) + self.eps * math.sqrt(1 - b2 ** self.t))
            p.grad = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--limit-train", type=int, default=0, help="use only the first N images")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    x_train, y_train = load("train", args.data_dir)
    x_test, y_test = load("test", args.data_dir)
    if args.limit_train:
        x_train, y_train = x_train[: args.limit_train], y_train[: args.limit_train]
    rng = np.random.default_rng(args.seed)
    params = init_params(rng)
    optimizer = Adam(list(params.values()), lr=args.lr)

    for epoch in range(1, args.epochs + 1):
        order, start, total = rng.permutation(len(x_train)), time.perf_counter(), 0.0
        for step, i in enumerate(range(0, len(order), args.batch_size), 1):
            idx = order[i: i + args.batch_size]
            loss = F.cross_entropy(forward(params, gn.tensor(x_train[idx])), gn.tensor(y_train[idx]))
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: loss {total / step:.4f}, {seconds:.1f} s, "
              f"{len(order) / seconds:.0f} images/s", flush=True)

    with gn.no_grad():
        correct = sum(int((forward(params, gn.tensor(x_test[i: i + 1000])).argmax(1).numpy()
                           == y_test[i: i + 1000]).sum()) for i in range(0, len(x_test), 1000))
    print(f"test accuracy: {correct / len(x_test):.4f} ({correct}/{len(x_test)})")


if __name__ == "__main__":
    main()
