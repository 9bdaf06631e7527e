"""`cifar-fast`: a network and recipe built for the fewest FLOPs to high CIFAR-10 accuracy.

After Keller Jordan (2024), "94% on CIFAR-10 in 3.29 Seconds on a Single GPU" (airbench),
itself the end of a line of fast-training work (Page's ResNet-9 "DAWNBench" runs, tysam-code's
hlb-CIFAR10). The ideas, each small, which together make a VGG-like net of 2 M parameters
reach 94% in about ten epochs:

- **patch whitening**: the first layer is a 2x2 convolution whose filters are the
  eigenvectors of the training images' 2x2-patch covariance, scaled by 1/sqrt(eigenvalue)
  (and their negatives, so that a ReLU-like unit passes both signs): its outputs are
  decorrelated, unit-variance patch features from the first step on. It is set from the
  data (`init_from_data`), never trained, and only its bias learns for a few epochs;
- **identity initialisation**: each 3x3 convolution starts with as many filters as it has
  input channels set to the identity (a Dirac kernel), so the untrained net passes its
  input through, like a residual net without the shortcut arithmetic;
- **BatchNorm without scale, with fast biases**: the normalisation keeps gamma = 1 and
  only learns its shift, at a learning rate 64 times the weights' (with weight decay 64
  times smaller), and updates its running statistics with momentum 0.4;
- **GELU** activations, **max pooling** after the first convolution of each block, a global
  max pool and a bias-free linear head whose logits are scaled by 1/9;
- and in the recipe (`FAST_DEFAULTS` and the model's hooks below): label smoothing 0.2,
  Nesterov SGD with a triangular schedule, Lookahead, derandomised alternating flips,
  2-pixel translations, and multi-crop test-time augmentation.

Layer names follow the structure (`whiten`, `block1.conv1`, `block1.norm1`, ..., `head`).
"""
import numpy as np

from .. import nn
from ..train.callbacks import FreezeAfter, Lookahead
from . import register


ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class BiasOnlyBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose scale stays 1 (its weight does not learn): only the shift does."""

    def __init__(self, num_features, momentum=0.4, eps=1e-12):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.weight.requires_grad_(False)


class ConvBlock(nn.Module):
    """conv 3x3 -> max pool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU."""

    def __init__(self, in_c, out_c, bn_momentum=0.4, act=nn.GELU):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = BiasOnlyBatchNorm(out_c, bn_momentum)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, padding=1, bias=False)
        self.norm2 = BiasOnlyBatchNorm(out_c, bn_momentum)
        self.act = act()
        for conv in (self.conv1, self.conv2):
            identity_init(conv)

    def forward(self, x):
        x = self.act(self.norm1(self.pool(self.conv1(x))))
        return self.act(self.norm2(self.conv2(x)))


def identity_init(conv):
    """Set the first in_channels filters of a 'same' convolution to the identity (a Dirac
    kernel); the rest keep their random initialisation."""
    w = conv.weight._array
    k = min(w.shape[0], w.shape[1])
    w[:k] = 0
    w[np.arange(k), np.arange(k), w.shape[2] // 2, w.shape[3] // 2] = 1


class FastNet(nn.Module):
    """The `cifar-fast` network (see the module docstring): whiten (2x2, 2 x 3 x 2 x 2
    filters) -> GELU -> three ConvBlocks of `widths` -> global max pool -> linear (no bias)
    -> x `scale`. 32x32 inputs become 31x31 after the whitening layer, then 15, 7 and 3."""

    def __init__(self, num_classes=10, widths=(64, 256, 256), scale=1 / 9, bn_momentum=0.4,
                 act="gelu"):
        super().__init__()
        if act not in ACTIVATIONS:
            raise ValueError(f"FastNet: act must be one of {sorted(ACTIVATIONS)}, got {act!r}")
        act = ACTIVATIONS[act]
        patch_dims = 3 * 2 * 2
        self.whiten = nn.Conv2d(3, 2 * patch_dims, 2, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        self.act = act()
        blocks, c = [], 2 * patch_dims
        for width in widths:
            blocks.append(ConvBlock(c, width, bn_momentum, act))
            c = width
        self.block1, self.block2, self.block3 = blocks
        self.pool = nn.MaxPool2d(3)          # the last 3x3 map to one value per channel
        self.head = nn.Linear(c, num_classes, bias=False)
        self.scale = scale

    def forward(self, x):
        x = self.act(self.whiten(x))
        x = self.block3(self.block2(self.block1(x)))
        return self.head(self.pool(x).flatten(1)) * self.scale

    def init_from_data(self, images, eps=5e-4):
        """Set the whitening filters from training images (N, 3, H, W) as the net sees them
        (normalised): eigenvectors V and eigenvalues L of the covariance of all 2x2 patches,
        filters V / sqrt(L + eps) and their negatives; the bias starts at 0."""
        self.whiten.weight._array[...] = whitening_filters(images, eps)
        self.whiten.bias._array[...] = 0

    def param_groups(self, lr, weight_decay, bias_scale=64.0):
        """The BatchNorm shifts learn `bias_scale` times faster than the weights, with
        weight decay `bias_scale` times smaller (the same shrinking per step)."""
        shifts = [p for name, p in self.named_parameters() if ".norm" in name]
        chosen = {id(p) for p in shifts}
        others = [p for p in self.parameters() if id(p) not in chosen]
        return [{"params": others},
                {"params": shifts, "lr": lr * bias_scale,
                 "weight_decay": weight_decay / bias_scale}]

    def training_callbacks(self, total_steps, time_budget=None, whiten_bias_epochs=3):
        """Lookahead over the whole run (its steps, or its time budget in seconds when that
        ends first); the whitening bias learns for the first epochs."""
        return [FreezeAfter([self.whiten.bias], whiten_bias_epochs),
                Lookahead(total_steps, time_budget=time_budget)]


def whitening_filters(images, eps=5e-4, size=2):
    """(2 * C * size^2, C, size, size) filters that whiten the images' size x size patches:
    eigenvectors of the patch covariance scaled by 1/sqrt(eigenvalue + eps), eigenvalues
    in descending order, then the same filters negated."""
    x = np.asarray(images, dtype=np.float64)
    n, c, h, w = x.shape
    if c * size * size > n * (h - size + 1) * (w - size + 1):
        raise ValueError(f"whitening_filters: too few patches in images of shape {x.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, c * size * size)   # (P, C*s*s)
    cov = np.cov(patches, rowvar=False)
    values, vectors = np.linalg.eigh(cov)
    order = values.argsort()[::-1]
    values, vectors = values[order], vectors[:, order]
    filters = (vectors / np.sqrt(values + eps)).T.reshape(-1, c, size, size)
    return np.concatenate([filters, -filters]).astype(np.float32)


# airbench94's hyperparameters, for a loss averaged over the batch: its lr 11.5 per 1024
# summed examples, divided by its 1024 * (1 + 1 / (1 - momentum)), is 1.5 here; its decay
# per step of 0.0153 / (1 + 1 / (1 - momentum)) = 0.0019957 of each weight (times the
# schedule) is lr * weight_decay. Like airbench, the last partial batch of an epoch is
# dropped: with a mean loss it would take a full step on a few images.
FAST_DEFAULTS = dict(epochs=10, batch_size=1024, optimizer="nesterov", lr=1.5, momentum=0.85,
                     weight_decay=0.0153 / (1 + 1 / 0.15) / 1.5, label_smoothing=0.2,
                     schedule="triangle", augment="alternating", tta="multicrop",
                     drop_last=True)


@register("cifar-fast", "airbench-style net for fast CIFAR-10: 2x2 whitening (from data), "
          "3 conv blocks 64-256-256, GELU, Lookahead; the 94% recipe", (3, 32, 32),
          dataset="cifar10", **FAST_DEFAULTS)
def cifar_fast(num_classes=10, widths=(64, 256, 256), act="gelu"):
    return FastNet(num_classes, tuple(widths), act=act)



@register("cifar-fast-small", "cifar-fast at widths 32-128-128 (a quarter of the multiply-adds), "
          "for short budgets: --time-budget 30", (3, 32, 32), dataset="cifar10",
          **{**FAST_DEFAULTS, "epochs": 20})
def cifar_fast_small(num_classes=10, widths=(32, 128, 128), act="gelu"):
    return FastNet(num_classes, tuple(widths), act=act)
