"""The fast CIFAR-10 recipe (`cifar-fast`) written in plain PyTorch, as a reference run.

    python benchmarks/airbench_torch.py --data-dir DEV [--epochs 10] [--limit N] [--json]

Why: `glassnet train cifar-fast` reaches less than the 94% that Jordan's airbench94 reports
for the same network and recipe (on 50,000 images; here the dev split's 40,000). This
script trains that recipe in PyTorch (float32, PyTorch's defaults, no glassnet code in the
training) on the same data, so that the two can be compared epoch by epoch: if PyTorch
reaches about what glassnet does, the gap is the data; if it reaches more, glassnet's
training differs somewhere. It follows the airbench94 description in the recipe's own
terms, independently of glassnet's implementation:

- the batch's summed loss (cross-entropy, label smoothing 0.2), Nesterov SGD with momentum
  0.85 at lr 11.5 / (1024 (1 + 1 / (1 - 0.85))) per summed example, weight decay 0.0153 in
  the same units; BatchNorm shifts at 64 times the lr (and the same decay per step);
- the triangular schedule (0.2 -> 1 at 23% of the steps -> 0.07), set every step;
- Lookahead every 5 steps with pull-back 0.95^5 * progress^3 over every float tensor of the
  state dict, and the slow weights at the end;
- each epoch: a fresh permutation, the last partial batch dropped, every image shifted by up
  to 2 pixels with mirrored padding, flipped when its drawn bit XOR (epoch is odd);
- the whitening layer from the first 5,000 training images, its bias trained for 3 epochs;
- multi-crop test-time augmentation (the image and its mirror: 1/2; the mirrored pairs of
  the two 1-pixel diagonal shifts: 1/4 each).

Reads the CIFAR-10 batch files itself (glassnet is not imported, so that none of its
process settings touch PyTorch): data_batch_* to train on, test_batch to report. Prints one line per epoch (train
loss and accuracy, the held-out accuracy without TTA, seconds) and the final accuracy with
TTA; `--json` ends with one JSON line.
"""
import argparse
import glob
import json
import os
import pickle
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles the batch files' dicts, lists and NumPy arrays, and refuses anything else
    (a pickle can name any callable)."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
                                                           "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a CIFAR batch file")
        return super().find_class(module, name)


def load(data_dir, train, limit=0):
    """(normalised float images (N, 3, 32, 32), labels) from the batch files in data_dir or
    data_dir/cifar-10-batches-py (a dev split has data_batch_1..4 only)."""
    folder = os.path.join(data_dir, "cifar-10-batches-py")
    folder = folder if os.path.isdir(folder) else data_dir
    names = sorted(glob.glob(os.path.join(folder, "data_batch_*"))) if train else \
        [os.path.join(folder, "test_batch")]
    images, labels = [], []
    for name in names:
        with open(name, "rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
        images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images).float() / 255
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std, torch.from_numpy(labels)


class Norm(nn.BatchNorm2d):
    """BatchNorm whose scale stays 1; PyTorch's momentum 0.4, eps 1e-12."""

    def __init__(self, width):
        super().__init__(width, eps=1e-12, momentum=0.4)
        self.weight.requires_grad_(False)


def conv(c_in, c_out):
    layer = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    with torch.no_grad():                            # the first c_in filters: identity
        layer.weight[:c_in].zero_()
        layer.weight[torch.arange(c_in), torch.arange(c_in), 1, 1] = 1
    return layer


def block(c_in, c_out):
    return nn.Sequential(conv(c_in, c_out), nn.MaxPool2d(2), Norm(c_out), nn.GELU(),
                         conv(c_out, c_out), Norm(c_out), nn.GELU())


class Net(nn.Module):
    def __init__(self, widths=(64, 256, 256)):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2, bias=True)
        self.body = nn.Sequential(nn.GELU(), block(24, widths[0]), block(widths[0], widths[1]),
                                  block(widths[1], widths[2]), nn.MaxPool2d(3), nn.Flatten())
        self.head = nn.Linear(widths[2], 10, bias=False)

    def forward(self, x):
        return self.head(self.body(self.whiten(x))) / 9

    def init_whitening(self, images, eps=5e-4):
        patches = F.unfold(images, 2).transpose(1, 2).reshape(-1, 12).double()
        covariance = patches.T @ patches / len(patches)
        values, vectors = torch.linalg.eigh(covariance)
        values, vectors = values.flip(0), vectors.flip(1)
        filters = (vectors / torch.sqrt(values + eps)).T.reshape(12, 3, 2, 2)
        with torch.no_grad():
            self.whiten.weight.copy_(torch.cat([filters, -filters]).float())
            self.whiten.bias.zero_()
        self.whiten.weight.requires_grad_(False)


def shifted(x, generator, pad=2):
    """Every image moved by up to `pad` pixels each way, the border mirrored."""
    n = len(x)
    padded = F.pad(x, (pad,) * 4, mode="reflect")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(32)).view(n, 1, 32, 1).expand(n, 3, 32, 32 + 2 * pad)
    out = padded.gather(2, rows)
    cols = (dx.view(n, 1) + torch.arange(32)).view(n, 1, 1, 32).expand(n, 3, 32, 32)
    return out.gather(3, cols)


def triangle(progress, start=0.2, peak=0.23, end=0.07):
    return start + (1 - start) * progress / peak if progress < peak else \
        1 + (end - 1) * (progress - peak) / (1 - peak)


def tta_logits(model, x):
    def mirrored(a):
        return (model(a) + model(a.flip(-1))) / 2
    padded = F.pad(x, (1,) * 4, mode="reflect")
    return mirrored(x) / 2 + (mirrored(padded[..., :32, :32]) + mirrored(padded[..., 2:, 2:])) / 4


def evaluate(model, x, y, tta=False, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = tta_logits(model, x[i:i + batch]) if tta else model(x[i:i + batch])
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--limit", type=int, default=0, help="first N training images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = load(args.data_dir, True, args.limit)
    x_test, y_test = load(args.data_dir, False)
    model = Net()
    model.init_whitening(x_train[:5000])
    batch, momentum = args.batch_size, 0.85
    steps_per_epoch = len(x_train) // batch
    total = steps_per_epoch * args.epochs
    per_example = 1024 * (1 + 1 / (1 - momentum))
    lr, decay = 11.5 / per_example, 0.0153 * batch / per_example
    shifts = [p for name, p in model.named_parameters() if p.requires_grad and "body" in name
              and isinstance(dict(model.named_modules())[name.rsplit(".", 1)[0]], Norm)]
    chosen = {id(p) for p in shifts}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in chosen]
    groups = [dict(params=shifts, lr=64 * lr, weight_decay=decay / (64 * lr)),
              dict(params=others, lr=lr, weight_decay=decay / lr)]
    optimizer = torch.optim.SGD(groups, momentum=momentum, nesterov=True)
    for group in optimizer.param_groups:
        group["peak"] = group["lr"]
    criterion = nn.CrossEntropyLoss(label_smoothing=0.2, reduction="sum")
    slow = {k: v.clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    bits = torch.rand(len(x_train), generator=generator) < 0.5
    step, history, started = 0, [], time.perf_counter()
    for epoch in range(args.epochs):
        if epoch == 3:
            model.whiten.bias.requires_grad_(False)
        t0, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
        order = torch.randperm(len(x_train), generator=generator)
        for b in range(steps_per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            x = shifted(x_train[idx], generator)
            flip = bits[idx] ^ (epoch % 2 == 1)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
            for group in optimizer.param_groups:
                group["lr"] = group["peak"] * triangle(step / total)
            out = model(x)
            loss = criterion(out, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seen += len(idx)
            loss_sum += loss.item()
            correct += (out.argmax(1) == y_train[idx]).sum().item()
            if step % 5 == 0:
                pull = 0.95 ** 5 * (step / total) ** 3
                state = model.state_dict()
                for k, v in slow.items():
                    v.lerp_(state[k], 1 - pull)
                    state[k].copy_(v)
        history.append(dict(epoch=epoch + 1, loss=loss_sum / seen, accuracy=correct / seen,
                            test_accuracy=evaluate(model, x_test, y_test),
                            seconds=round(time.perf_counter() - t0, 1)))
        print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in history[-1].items()), flush=True)
    train_seconds = time.perf_counter() - started
    state = model.state_dict()
    for k, v in slow.items():
        state[k].copy_(v)
    result = dict(framework="torch", epochs=args.epochs, train_images=len(x_train),
                  steps=total, train_seconds=round(train_seconds, 1),
                  test_accuracy=evaluate(model, x_test, y_test),
                  test_accuracy_tta=evaluate(model, x_test, y_test, tta=True), history=history)
    print(f"held-out accuracy {result['test_accuracy']:.4f}, with multi-crop TTA "
          f"{result['test_accuracy_tta']:.4f}; {train_seconds / 60:.1f} minutes of training")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
