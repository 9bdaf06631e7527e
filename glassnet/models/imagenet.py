"""The classic families at ImageNet size (3x224x224), laid out as torchvision lays them out.

Every builder returns a network whose `state_dict()` has torchvision's keys, shapes and
order for the same architecture (BatchNorm's `num_batches_tracked` included), so a
torchvision weight file read with `glassnet.load('resnet18.pth')` goes straight into
`load_state_dict` and gives torchvision's logits. The layer order of each network is
the one in torchvision's model documentation and source; the code is ours.

ResNet and VGG reuse the CIFAR classes' building blocks (`cifar_classic.ResNet` with its
ImageNet stem, `cifar_classic.vgg_features`); AlexNet and MobileNet v2 have their own
classes here, because torchvision's numbering (AlexNet without LRN; MobileNet v2's
blocks as numbered Sequentials) differs from the CIFAR networks' names, which must stay.

These networks are not in the CLI zoo: they are 224x224 networks for ImageNet's weights,
too heavy to train here on a CPU.
"""
import glassnet as gn

from .. import nn
from ..nn import functional as F
from ..nn import init
from .cifar_classic import VGG_STAGES, ResNet, vgg_features

__all__ = ["resnet18", "resnet34", "vgg16", "vgg16_bn", "alexnet", "mobilenet_v2",
           "VGG", "AlexNet", "MobileNetV2", "InvertedResidual"]


def _init_like_torchvision(model, linear_std=None):
    """torchvision's initialisation for its ResNets, VGGs and MobileNets: convolutions
    He-normal over fan_out with zero biases, BatchNorm 1 / 0, and with `linear_std` the
    linear layers N(0, linear_std^2) with zero biases (else left at PyTorch's default)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            init.ones_(m.weight)
            init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and linear_std is not None:
            init.normal_(m.weight, 0.0, linear_std)
            init.zeros_(m.bias)
    return model


# --------------------------------------------------------------------------- ResNet


def resnet18(num_classes=1000):
    """ResNet-18 (He, Zhang, Ren & Sun, 2016, "Deep Residual Learning for Image
    Recognition"), torchvision's `resnet18` layout: conv1 (7x7/2), bn1, relu, maxpool
    (3x3/2), layer1..layer4 of two BasicBlocks each (conv1, bn1, conv2, bn2, and
    downsample.0 / downsample.1 = 1x1 conv + BatchNorm where the shape changes), avgpool,
    fc. 11,689,512 parameters for 1000 classes."""
    return _init_like_torchvision(
        ResNet((64, 128, 256, 512), (2, 2, 2, 2), "B", num_classes, stem="imagenet"))


def resnet34(num_classes=1000):
    """ResNet-34 (He et al., 2016), torchvision's `resnet34` layout: as `resnet18` with
    3, 4, 6 and 3 BasicBlocks per stage. 21,797,672 parameters for 1000 classes."""
    return _init_like_torchvision(
        ResNet((64, 128, 256, 512), (3, 4, 6, 3), "B", num_classes, stem="imagenet"))


# --------------------------------------------------------------------------- VGG


class VGG(nn.Module):
    """VGG at 224x224 (Simonyan & Zisserman, 2015, "Very Deep Convolutional Networks for
    Large-Scale Image Recognition"), torchvision's layout: `features` (3x3 convs with
    bias, [BatchNorm,] ReLU, 2x2 max pools; 224 -> 7), avgpool = AdaptiveAvgPool2d(7),
    `classifier` = Linear(512*7*7, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU,
    Dropout, Linear(4096, classes) (keys classifier.0 / .3 / .6)."""

    def __init__(self, config="D", num_classes=1000, batch_norm=False, dropout=0.5):
        super().__init__()
        self.features = vgg_features(config, 3, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        width = VGG_STAGES[config][-1][0]
        self.classifier = nn.Sequential(
            nn.Linear(width * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, num_classes))
        _init_like_torchvision(self, linear_std=0.01)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def vgg16(num_classes=1000, dropout=0.5):
    """VGG-16, configuration D of Simonyan & Zisserman (2015), torchvision's `vgg16`
    layout: 13 convolutions at features.0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28,
    classifier.0 / 3 / 6. 138,357,544 parameters for 1000 classes."""
    return VGG("D", num_classes, batch_norm=False, dropout=dropout)


def vgg16_bn(num_classes=1000, dropout=0.5):
    """VGG-16 with BatchNorm after every convolution (Simonyan & Zisserman, 2015; Ioffe &
    Szegedy, 2015), torchvision's `vgg16_bn` layout (conv, bn, relu triples in
    `features`). 138,365,992 parameters for 1000 classes."""
    return VGG("D", num_classes, batch_norm=True, dropout=dropout)


# --------------------------------------------------------------------------- AlexNet


class AlexNet(nn.Module):
    """AlexNet at 224x224 (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet Classification
    with Deep Convolutional Neural Networks"), torchvision's layout, which follows the
    single-tower variant of Krizhevsky's 2014 "One weird trick" paper: no local response
    normalisation, convolutions 64-192-384-256-256 at features.0, 3, 6, 8, 10 (11x11/4,
    5x5, 3x3, 3x3, 3x3) with 3x3/2 max pools after the 1st, 2nd and 5th, avgpool =
    AdaptiveAvgPool2d(6), classifier = Dropout, Linear(256*6*6, 4096), ReLU, Dropout,
    Linear(4096, 4096), ReLU, Linear(4096, classes) (keys classifier.1 / .4 / .6).
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes=1000, dropout=0.5):
    """AlexNet (Krizhevsky et al., 2012; one-tower widths of Krizhevsky, 2014) in
    torchvision's `alexnet` layout; see `AlexNet`. 61,100,840 parameters for 1000
    classes. PyTorch's default initialisation, as torchvision's."""
    return AlexNet(num_classes, dropout)


# --------------------------------------------------------------------------- MobileNet v2


def _conv_bn_relu6(in_channels, out_channels, kernel_size, stride=1, groups=1):
    """torchvision's Conv2dNormActivation as MobileNet v2 uses it: a numbered Sequential
    of a 'same'-padded convolution without bias, BatchNorm and ReLU6 (keys .0 and .1)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU6())


class InvertedResidual(nn.Module):
    """MobileNet v2's block in torchvision's layout: `conv` is a Sequential of
    [expand 1x1 conv-BN-ReLU6 (only when expansion > 1),] depthwise 3x3 conv-BN-ReLU6,
    linear 1x1 projection conv, BatchNorm; the input is added back when the stride is 1
    and the widths agree. (The CIFAR `cifar_modern.InvertedResidual` is the same idea with
    the CIFAR port's flat names and an optional projection shortcut.)"""

    def __init__(self, in_channels, out_channels, stride, expansion):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        hidden = int(round(in_channels * expansion))
        layers = [] if expansion == 1 else [_conv_bn_relu6(in_channels, hidden, 1)]
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, out_channels, 1, bias=False),
                   nn.BatchNorm2d(out_channels)]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and in_channels == out_channels

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_res_connect else out


# (expansion t, out channels c, blocks n, first stride s): table 2 of the paper, ImageNet
# strides (224 -> 112 in the stem, then -> 56 -> 28 -> 14 -> 7).
_MOBILENETV2_224 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class MobileNetV2(nn.Module):
    """MobileNet v2 at 224x224 (Sandler, Howard, Zhu, Zhmoginov & Chen, 2018,
    "MobileNetV2: Inverted Residuals and Linear Bottlenecks"), torchvision's layout at
    width 1.0: features.0 = 3x3/2 conv-BN-ReLU6 to 32 channels (features.0.0 / .0.1),
    features.1..17 = InvertedResidual blocks, features.18 = 1x1 conv-BN-ReLU6 to 1280,
    global average pool, classifier = Dropout(0.2), Linear(1280, classes) (classifier.1).
    """

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        layers, channels = [_conv_bn_relu6(3, 32, 3, stride=2)], 32
        for expansion, out_channels, count, stride in _MOBILENETV2_224:
            for i in range(count):
                layers.append(InvertedResidual(channels, out_channels,
                                               stride if i == 0 else 1, expansion))
                channels = out_channels
        layers.append(_conv_bn_relu6(channels, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        _init_like_torchvision(self, linear_std=0.01)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(gn.flatten(x, 1))


def mobilenet_v2(num_classes=1000, dropout=0.2):
    """MobileNet v2 (Sandler et al., 2018) in torchvision's `mobilenet_v2` layout (width
    multiplier 1.0); see `MobileNetV2`. 3,504,872 parameters for 1000 classes."""
    return MobileNetV2(num_classes, dropout)
