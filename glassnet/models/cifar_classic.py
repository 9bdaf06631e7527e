"""The classic CNN families of the notes, sized for 32x32 CIFAR-10 images.

AlexNet (large kernels, local response normalisation, dropout), VGG (depth from stacked 3x3
convolutions) and ResNet (residual shortcuts). Layer names follow PyTorch's usual ones
(`features` / `classifier`; `conv1`, `bn1`, `layer1`..., `fc`), so state dicts line up
with the same architectures written in torch.nn.
"""
from .. import nn
from ..nn import functional as F
from . import CIFAR_RECIPE, register

# --------------------------------------------------------------------------- AlexNet


class AlexNet(nn.Module):
    """AlexNet for 32x32 inputs (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet
    Classification with Deep Convolutional Neural Networks").

    The network that made deep CNNs win ImageNet: ReLU instead of saturating units, local
    response normalisation after the first two conv layers (strong channels damp their
    neighbours), overlapping max pooling, and dropout in the large fully connected layers.

    Sizes: the paper's order (conv, ReLU, LRN, pool twice; three convs and a pool; three
    dense layers) with the single-tower channel widths 64-192-384-256-256 of Krizhevsky's
    2014 "One weird trick" (also torchvision's), kernels 5-5-3-3-3 with stride 1 and 2x2
    pools for a 32x32 input (32 -> 16 -> 8 -> 4), and dense layers 4096 -> 2048 -> 2048 ->
    classes (half the paper's 4096 units, for an input 50 times smaller). LRN uses the
    paper's n=5, alpha=1e-4, beta=0.75, k=2; PyTorch's alpha is per neighbour (it divides
    by n), hence alpha=5e-4 here.
    """

    def __init__(self, num_classes=10, dropout=0.5):
        super().__init__()

        def lrn():
            return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)

        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 4 * 4, 2048), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(2048, 2048), nn.ReLU(),
            nn.Linear(2048, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


@register("alexnet", "AlexNet for 32x32: conv 64-192-384-256-256 with LRN, dense 2048-2048",
          (3, 32, 32), dataset="cifar10", **{**CIFAR_RECIPE, "lr": 0.01})   # no BatchNorm
def alexnet(num_classes=10):
    return AlexNet(num_classes)


# --------------------------------------------------------------------------- VGG


def vgg_block(in_c, out_c, convs=2, kernel=3, batch_norm=True, pool=True):
    """`convs` 'same' convolutions of `kernel` x `kernel` (each + BatchNorm + ReLU), then a
    2x2 max pool, as one Sequential.

    VGG's point is one argument away: two stacked 3x3 convolutions see a 5x5 window, like
    one 5x5, with 2 * 9 C^2 weights instead of 25 C^2 (28% fewer) and one more ReLU;
    compare `vgg_block(c, c)` with `vgg_block(c, c, convs=1, kernel=5)` in
    `glassnet.summary.summary`.
    """
    if convs < 1 or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"vgg_block: convs must be >= 1 and kernel a positive odd size, "
                         f"got convs={convs}, kernel={kernel}")
    layers = []
    for i in range(convs):
        layers.append(nn.Conv2d(in_c if i == 0 else out_c, out_c, kernel, padding=kernel // 2))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_c))
        layers.append(nn.ReLU())
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


# (out channels, convs) per stage: configurations A (VGG-11) and D (VGG-16) of the paper
VGG_STAGES = {
    "A": ((64, 1), (128, 1), (256, 2), (512, 2), (512, 2)),
    "D": ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)),
}


def vgg_features(config="D", in_channels=3, batch_norm=True):
    """VGG's convolutional part for `config` as one flat Sequential (conv, [bn,] relu, ...,
    pool), numbered as torchvision's `features` of vgg* / vgg*_bn."""
    if config not in VGG_STAGES:
        raise ValueError(f"VGG: config must be one of {sorted(VGG_STAGES)}, got {config!r}")
    layers, c = [], in_channels
    for out_c, convs in VGG_STAGES[config]:
        layers.extend(vgg_block(c, out_c, convs, batch_norm=batch_norm))
        c = out_c
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG with BatchNorm for 32x32 inputs (Simonyan & Zisserman, 2015, "Very Deep
    Convolutional Networks for Large-Scale Image Recognition"; BatchNorm from Ioffe &
    Szegedy, 2015).

    Depth from small kernels only: every convolution is 3x3, stacked two or three deep
    between 2x2 max pools, so a stack sees a 5x5 or 7x7 window with fewer weights and more
    nonlinearities than one large kernel. The common CIFAR variant: five pools take 32x32
    to 1x1, and the classifier is a single Linear(512, classes). `features` is one flat
    Sequential (conv, bn, relu, ..., pool), numbered as in torchvision's vgg*_bn.
    """

    def __init__(self, config="D", num_classes=10, in_channels=3):
        super().__init__()
        self.features = vgg_features(config, in_channels)
        self.classifier = nn.Linear(VGG_STAGES[config][-1][0], num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


@register("vgg11-bn", "VGG-11 (config A) with BatchNorm: 8 3x3 convs 64-512, 5 pools, "
          "linear 512-10", (3, 32, 32), dataset="cifar10", **CIFAR_RECIPE)
def vgg11_bn(num_classes=10):
    return VGG("A", num_classes)


@register("vgg16-bn", "VGG-16 (config D) with BatchNorm: 13 3x3 convs 64-512, 5 pools, "
          "linear 512-10", (3, 32, 32), dataset="cifar10", **CIFAR_RECIPE)
def vgg16_bn(num_classes=10):
    return VGG("D", num_classes)


# --------------------------------------------------------------------------- ResNet


class PadShortcut(nn.Module):
    """He et al.'s option A shortcut: no parameters. Keep every `stride`-th pixel and pad
    the channels with zeros (half in front, half behind) up to `out_c`."""

    def __init__(self, in_c, out_c, stride):
        super().__init__()
        if out_c < in_c or (out_c - in_c) % 2:
            raise ValueError(f"PadShortcut: out_c must exceed in_c by an even number, "
                             f"got in_c={in_c}, out_c={out_c}")
        self.in_c, self.out_c, self.stride = in_c, out_c, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        extra = (self.out_c - self.in_c) // 2
        return F.pad(x, (0, 0, 0, 0, extra, extra))

    def extra_repr(self):
        return f"{self.in_c}, {self.out_c}, stride={self.stride}"


class BasicBlock(nn.Module):
    """Two 3x3 conv + BatchNorm layers and a shortcut: relu(bn2(conv2(relu(bn1(conv1 x))))
    + shortcut(x)). The shortcut is the identity when the shape stays; when it changes it is
    option 'A' (PadShortcut, parameter-free) or 'B' (1x1 conv + BatchNorm, `downsample`)."""

    def __init__(self, in_c, out_c, stride=1, shortcut="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.downsample = None
        if stride != 1 or in_c != out_c:
            self.downsample = (PadShortcut(in_c, out_c, stride) if shortcut == "A" else
                               nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False),
                                             nn.BatchNorm2d(out_c)))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet(nn.Module):
    """Residual networks (He, Zhang, Ren & Sun, 2016, "Deep Residual Learning for Image
    Recognition").

    Each block learns a residual F(x) added to its input through a shortcut, so the signal
    and its gradient pass unchanged through the identity path: a deep stack can fall back
    to the identity and keeps training where a plain stack of the same depth gets worse.
    A stem, stages of BasicBlocks (the first block of each later stage halves the size and
    widens), global average pooling and fc. `stem="cifar"`: one 3x3 conv at stride 1 and no
    max pool (32x32 inputs); `stem="imagenet"`: the paper's 7x7 conv at stride 2 and a 3x3
    stride-2 max pool (224x224 inputs: 224 -> 56 before the first stage).
    """

    def __init__(self, widths, blocks, shortcut="B", num_classes=10, stem="cifar"):
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"ResNet: shortcut must be 'A' or 'B', got {shortcut!r}")
        if stem not in ("cifar", "imagenet"):
            raise ValueError(f"ResNet: stem must be 'cifar' or 'imagenet', got {stem!r}")
        if len(widths) != len(blocks):
            raise ValueError(f"ResNet: one block count per stage width expected, "
                             f"got widths {widths} and blocks {blocks}")
        if stem == "cifar":
            self.conv1 = nn.Conv2d(3, widths[0], 3, 1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, widths[0], 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, padding=1) if stem == "imagenet" else None
        c = widths[0]
        for i, (width, n) in enumerate(zip(widths, blocks)):
            stride = 1 if i == 0 else 2
            stage = [BasicBlock(c if j == 0 else width, width, stride if j == 0 else 1, shortcut)
                     for j in range(n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
            c = width
        self.num_stages = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def cifar_resnet(depth, num_classes=10):
    """He et al.'s CIFAR ResNet of `depth` = 6n + 2 layers: 3 stages of 16/32/64 channels,
    n BasicBlocks each, option A (parameter-free) shortcuts."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"cifar_resnet: depth must be 6n + 2 (20, 32, 44, 56, 110, ...), "
                         f"got {depth}")
    n = (depth - 2) // 6
    return ResNet((16, 32, 64), (n, n, n), "A", num_classes)


@register("resnet20", "He et al.'s CIFAR ResNet-20: 3x3 BasicBlocks 16-32-64, n=3, "
          "option A shortcuts", (3, 32, 32), dataset="cifar10", **CIFAR_RECIPE)
def resnet20(num_classes=10):
    return cifar_resnet(20, num_classes)


@register("resnet56", "He et al.'s CIFAR ResNet-56: 3x3 BasicBlocks 16-32-64, n=9, "
          "option A shortcuts", (3, 32, 32), dataset="cifar10", **CIFAR_RECIPE)
def resnet56(num_classes=10):
    return cifar_resnet(56, num_classes)


@register("resnet18", "ResNet-18 for 32x32: BasicBlocks 64-128-256-512 (2 each), 3x3 stem, "
          "no max pool, 1x1 projection shortcuts", (3, 32, 32), dataset="cifar10",
          **CIFAR_RECIPE)
def resnet18(num_classes=10):
    return ResNet((64, 128, 256, 512), (2, 2, 2, 2), "B", num_classes)
