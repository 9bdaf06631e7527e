"""The notes' later CNN families at CIFAR-10 size (3x32x32): Inception, Inception-ResNet,
MobileNet v1 and v2.

Layer names follow the common PyTorch CIFAR ports (conv1/bn1/layers/linear) so that
state dicts line up with twins written in torch.nn. Convolutions followed by
BatchNorm carry no bias: the BatchNorm shift makes it redundant.
"""
import glassnet as gn

from .. import nn
from . import CIFAR_RECIPE, register

FACTORIZATIONS = (None, "3x3", "asymmetric")


class ConvBN(nn.Module):
    """Convolution (no bias) + BatchNorm + ReLU: the unit every branch is made of."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                              bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def _square(in_channels, out_channels, n, asymmetric):
    """One 'same'-padded n x n convolution unit, or with `asymmetric` the pair 1 x n then
    n x 1 that sees the same n x n window with 2n instead of n*n weights per channel pair."""
    if not asymmetric:
        return [ConvBN(in_channels, out_channels, n, padding=n // 2)]
    return [ConvBN(in_channels, out_channels, (1, n), padding=(0, n // 2)),
            ConvBN(out_channels, out_channels, (n, 1), padding=(n // 2, 0))]


class Inception(nn.Module):
    """A GoogLeNet Inception block: four parallel branches concatenated along channels.

    b1: 1x1; b2: 1x1 bottleneck -> 3x3; b3: 1x1 bottleneck -> 5x5; b4: 3x3 max-pool -> 1x1.
    The 1x1 bottlenecks shrink the channels before the costly wide kernels. `factorize`
    selects Inception v2/v3's cheaper spellings of the same receptive fields:
    "3x3" writes the 5x5 as two stacked 3x3 (18 instead of 25 weights per channel pair,
    28% fewer); "asymmetric" writes each n x n as 1 x n then n x 1 (6 instead of 9 for
    n = 3, 33% fewer; 10 instead of 25 for the 5x5). The second convolution of each pair
    maps the branch's output width to itself (as in Inception v3), so the savings are
    exact where bottleneck and output widths agree; where the output is much wider than
    its bottleneck (GoogLeNet's 5x5 branches: 16 from 8) the pair can cost more.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 factorize=None):
        super().__init__()
        if factorize not in FACTORIZATIONS:
            raise ValueError(f"Inception: factorize must be one of {FACTORIZATIONS}, "
                             f"got {factorize!r}")
        asym = factorize == "asymmetric"
        self.b1 = ConvBN(in_channels, ch1x1, 1)
        self.b2 = nn.Sequential(ConvBN(in_channels, ch3x3red, 1),
                                *_square(ch3x3red, ch3x3, 3, asym))
        if factorize == "3x3":
            wide = _square(ch5x5red, ch5x5, 3, False) + _square(ch5x5, ch5x5, 3, False)
        else:
            wide = _square(ch5x5red, ch5x5, 5, asym)
        self.b3 = nn.Sequential(ConvBN(in_channels, ch5x5red, 1), *wide)
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                ConvBN(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return gn.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class InceptionResidual(nn.Module):
    """The notes' "Inception + Res" (Szegedy, Ioffe, Vanhoucke & Alemi 2016): an Inception
    block whose concatenated branches a linear 1x1 convolution (+ BatchNorm) projects back
    to the input width, added to the input, then ReLU. The shortcut lets the multi-scale
    branches learn only a correction, as in ResNet, so deep stacks of them train fast."""

    def __init__(self, channels, factorize="3x3"):
        super().__init__()
        q = channels // 4
        self.block = Inception(channels, q, q, q, q // 2, q, q, factorize=factorize)
        self.proj = nn.Conv2d(self.block.out_channels, channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn(self.proj(self.block(x))))


class _Classifier(nn.Module):
    """features -> global average pool -> linear: the common head of these networks."""

    def _head(self, x):
        return self.linear(gn.flatten(self.pool(x), 1))


# GoogLeNet's stages 3a, 3b, 4a, 4b, 5a, 5b at half their published widths:
# (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj); "M" is a 3x3 stride-2 max-pool.
_INCEPTION_CFG = [(32, 48, 64, 8, 16, 16), (64, 64, 96, 16, 48, 32), "M",
                  (96, 48, 104, 8, 24, 32), (80, 56, 112, 12, 32, 32), "M",
                  (128, 80, 160, 16, 64, 64), (192, 96, 192, 24, 64, 64)]


class GoogLeNet(_Classifier):
    """A small GoogLeNet (Szegedy et al. 2015, "Going Deeper with Convolutions") for 32x32.

    Instead of choosing one kernel size per layer, each Inception block runs 1x1, 3x3,
    5x5 and pooling side by side and concatenates them, so the next layer picks the
    scales it needs; 1x1 bottlenecks keep the wide kernels cheap. This one: a 3x3 stem
    of 64 channels, stages 3a-3b / 4a-4b / 5a-5b at half the paper's widths with
    max-pools between (32 -> 16 -> 8), global average pool, Linear(512, classes).
    """

    def __init__(self, num_classes=10, factorize=None):
        super().__init__()
        self.conv1 = ConvBN(3, 64, 3, padding=1)
        layers, channels = [], 64
        for spec in _INCEPTION_CFG:
            if spec == "M":
                layers.append(nn.MaxPool2d(3, stride=2, padding=1))
                continue
            layers.append(Inception(channels, *spec, factorize=factorize))
            channels = layers[-1].out_channels
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self._head(self.layers(self.conv1(x)))


class InceptionResNet(_Classifier):
    """A small Inception-ResNet (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and
    the Impact of Residual Connections on Learning") for 32x32.

    Three stages of two residual Inception blocks at 64, 128 and 256 channels (32x32,
    16x16, 8x8), joined by stride-2 3x3 convolutions that double the width; the 5x5
    branches are factorised as two 3x3 as in the paper's blocks.
    """

    def __init__(self, num_classes=10, factorize="3x3", widths=(64, 128, 256), blocks=2):
        super().__init__()
        self.conv1 = ConvBN(3, widths[0], 3, padding=1)
        layers, channels = [], widths[0]
        for width in widths:
            if width != channels:
                layers.append(ConvBN(channels, width, 3, stride=2, padding=1))
                channels = width
            layers += [InceptionResidual(width, factorize) for _ in range(blocks)]
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self._head(self.layers(self.conv1(x)))


class DepthwiseSeparable(nn.Module):
    """MobileNet's unit: a depthwise 3x3 (groups = channels, one filter per channel) +
    BN + ReLU, then a pointwise 1x1 mixing channels + BN + ReLU."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


# (out_channels, stride) of MobileNet v1's 13 blocks; the CIFAR variant keeps the
# ImageNet strides after a stride-1 stem: 32 -> 16 -> 8 -> 4 -> 2.
_MOBILENET_CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                  (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class MobileNet(_Classifier):
    """MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural
    Networks for Mobile Vision Applications") for 32x32.

    A k x k convolution from C to D channels costs k*k*C*D weights; splitting it into a
    depthwise k x k (k*k*C) and a pointwise 1x1 (C*D) costs about 1/D + 1/k^2 of that,
    8-9 times less for 3x3, for a small loss of accuracy. Stem: 3x3 conv of 32 channels
    at stride 1; 13 depthwise-separable blocks; global average pool; Linear(1024, classes).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU()
        blocks, channels = [], 32
        for out_channels, stride in _MOBILENET_CFG:
            blocks.append(DepthwiseSeparable(channels, out_channels, stride))
            channels = out_channels
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self._head(self.layers(self.relu(self.bn1(self.conv1(x)))))


class InvertedResidual(nn.Module):
    """MobileNet v2's block: expand 1x1 (ratio t) -> depthwise 3x3 -> linear 1x1 projection.

    Narrow in, wide in the middle, narrow out: the inverse of a ResNet bottleneck. The
    projection has no activation (a ReLU on a narrow layer would destroy information);
    the shortcut joins the narrow ends when the stride is 1. With `project_shortcut`
    (the published CIFAR port) a 1x1 conv + BN carries the shortcut when the widths differ.
    """

    def __init__(self, in_channels, out_channels, expansion, stride, project_shortcut=True):
        super().__init__()
        hidden = in_channels * expansion
        self.stride = stride
        self.conv1 = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU6()
        self.shortcut = None
        if stride == 1 and in_channels != out_channels and project_shortcut:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                          nn.BatchNorm2d(out_channels))
        self.residual = stride == 1 and (in_channels == out_channels or project_shortcut)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if not self.residual:
            return out
        return out + (x if self.shortcut is None else self.shortcut(x))


# (expansion t, out_channels, blocks, first stride): the paper's table 2 with the stem
# and the first stride-2 stage at stride 1 for 32x32 input (32 -> 32 -> 16 -> 8 -> 4).
_MOBILENETV2_CFG = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class MobileNetV2(_Classifier):
    """MobileNet v2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks") for 32x32.

    Depthwise-separable convolutions as in v1, arranged as inverted residual blocks:
    a cheap depthwise 3x3 works in a wide (6x expanded) space, the block's input and
    output stay narrow and linear, and shortcuts join the narrow ends. ReLU6 as in the
    paper. Stem 3x3 conv of 32 channels at stride 1, 17 blocks, 1x1 conv to 1280,
    global average pool, Linear(1280, classes).
    """

    def __init__(self, num_classes=10, project_shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU6()
        blocks, channels = [], 32
        for expansion, out_channels, count, stride in _MOBILENETV2_CFG:
            for i in range(count):
                blocks.append(InvertedResidual(channels, out_channels, expansion,
                                               stride if i == 0 else 1, project_shortcut))
                channels = out_channels
        self.layers = nn.Sequential(*blocks)
        self.conv2 = nn.Conv2d(channels, 1280, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(1280, num_classes)

    def forward(self, x):
        out = self.layers(self.relu(self.bn1(self.conv1(x))))
        return self._head(self.relu(self.bn2(self.conv2(out))))


_CIFAR = dict(input_size=(3, 32, 32), task="classification", dataset="cifar10",
              **CIFAR_RECIPE)


@register("inception", "small GoogLeNet: 3x3 stem 64, Inception 3a-3b/4a-4b/5a-5b at half "
          "width, avg pool, linear 512 -> 10", **_CIFAR)
def inception(num_classes=10, factorize=None):
    return GoogLeNet(num_classes, factorize)


@register("inception-resnet", "Inception + Res: 3 stages x 2 residual Inception blocks "
          "(64-128-256), avg pool, linear 256 -> 10", **_CIFAR)
def inception_resnet(num_classes=10, factorize="3x3"):
    return InceptionResNet(num_classes, factorize)


@register("mobilenet", "MobileNet v1: 3x3 stem 32, 13 depthwise-separable blocks, "
          "avg pool, linear 1024 -> 10", **_CIFAR)
def mobilenet(num_classes=10):
    return MobileNet(num_classes)


@register("mobilenetv2", "MobileNet v2: 17 inverted residual blocks (ReLU6), 1x1 conv "
          "1280, avg pool, linear 1280 -> 10", **_CIFAR)
def mobilenetv2(num_classes=10, project_shortcut=True):
    return MobileNetV2(num_classes, project_shortcut)
