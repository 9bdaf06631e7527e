"""The CIFAR families written independently with torch.nn: the same architectures as
glassnet.models' (same layer names and order, so a glassnet state_dict loads into them
by name), imported by the parity tests (tests/models/test_cifar_*.py check the twins
against glassnet, output for output) and by benchmarks/vs_torch.py, which times them.

Only torch is imported here: a benchmark's PyTorch process must not load glassnet.
"""
import torch
import torch.nn as tnn


# ----------------------------------------------------------------- AlexNet, VGG, ResNet
def torch_alexnet():
    def lrn():
        return tnn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    features = tnn.Sequential(
        tnn.Conv2d(3, 64, 5, padding=2), tnn.ReLU(), lrn(), tnn.MaxPool2d(2),
        tnn.Conv2d(64, 192, 5, padding=2), tnn.ReLU(), lrn(), tnn.MaxPool2d(2),
        tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(), tnn.Conv2d(384, 256, 3, padding=1),
        tnn.ReLU(), tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2))
    classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(4096, 2048), tnn.ReLU(), tnn.Dropout(),
                                tnn.Linear(2048, 2048), tnn.ReLU(), tnn.Linear(2048, 10))
    return _FeaturesClassifier(features, classifier)


def torch_vgg(config):
    """torchvision's vgg*_bn feature layout from its cfg lists, classifier Linear(512, 10)."""
    cfg = {"A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
           "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                 512, 512, 512, "M"]}[config]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2))
        else:
            layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU()]
            c = v
    return _FeaturesClassifier(tnn.Sequential(*layers), tnn.Linear(512, 10))


class _FeaturesClassifier(tnn.Module):
    def __init__(self, features, classifier):
        super().__init__()
        self.features, self.classifier = features, classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class TorchBlock(tnn.Module):
    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        self.option, self.pad = option, (cout - cin) // 2
        self.downsample = None
        if (stride != 1 or cin != cout) and option == "B":
            self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False),
                                             tnn.BatchNorm2d(cout))
        self.reshape = stride != 1 or cin != cout

    def forward(self, x):
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
        elif self.reshape:  # option A: subsample, zero channels on both sides
            identity = torch.nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchResNet(tnn.Module):
    def __init__(self, widths, blocks, option):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(widths[0])
        self.relu = tnn.ReLU()
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            stage = [TorchBlock(cin if j == 0 else w, w, (1 if i == 0 or j else 2), option)
                     for j in range(n)]
            self.add_module(f"layer{i + 1}", tnn.Sequential(*stage))
            cin = w
        self.stages = len(widths)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(cin, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ----------------------------------------------------------------- Inception, MobileNet
class TConvBN(tnn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, k, stride, padding, bias=False)
        self.bn = tnn.BatchNorm2d(cout)
        self.relu = tnn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class TInception(tnn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, cp, factorize=None):
        super().__init__()
        self.b1 = TConvBN(cin, c1, 1)
        if factorize == "asymmetric":
            self.b2 = tnn.Sequential(TConvBN(cin, c3r, 1), TConvBN(c3r, c3, (1, 3), padding=(0, 1)),
                                     TConvBN(c3, c3, (3, 1), padding=(1, 0)))
            self.b3 = tnn.Sequential(TConvBN(cin, c5r, 1), TConvBN(c5r, c5, (1, 5), padding=(0, 2)),
                                     TConvBN(c5, c5, (5, 1), padding=(2, 0)))
        else:
            self.b2 = tnn.Sequential(TConvBN(cin, c3r, 1), TConvBN(c3r, c3, 3, padding=1))
            wide = ([TConvBN(c5r, c5, 3, padding=1), TConvBN(c5, c5, 3, padding=1)]
                    if factorize == "3x3" else [TConvBN(c5r, c5, 5, padding=2)])
            self.b3 = tnn.Sequential(TConvBN(cin, c5r, 1), *wide)
        self.b4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1), TConvBN(cin, cp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class TGoogLeNet(tnn.Module):
    def __init__(self, factorize=None):
        super().__init__()
        self.conv1 = TConvBN(3, 64, 3, padding=1)
        cfg = [(64, 32, 48, 64, 8, 16, 16), (128, 64, 64, 96, 16, 48, 32), "M",
               (240, 96, 48, 104, 8, 24, 32), (256, 80, 56, 112, 12, 32, 32), "M",
               (256, 128, 80, 160, 16, 64, 64), (416, 192, 96, 192, 24, 64, 64)]
        self.layers = tnn.Sequential(*[tnn.MaxPool2d(3, 2, 1) if c == "M"
                                       else TInception(*c, factorize=factorize) for c in cfg])
        self.linear = tnn.Linear(512, 10)

    def forward(self, x):
        return self.linear(self.layers(self.conv1(x)).mean((2, 3)))


class TInceptionResidual(tnn.Module):
    def __init__(self, c):
        super().__init__()
        q = c // 4
        self.block = TInception(c, q, q, q, q // 2, q, q, factorize="3x3")
        self.proj = tnn.Conv2d(c, c, 1, bias=False)
        self.bn = tnn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bn(self.proj(self.block(x))))


class TInceptionResNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = TConvBN(3, 64, 3, padding=1)
        self.layers = tnn.Sequential(
            TInceptionResidual(64), TInceptionResidual(64), TConvBN(64, 128, 3, 2, 1),
            TInceptionResidual(128), TInceptionResidual(128), TConvBN(128, 256, 3, 2, 1),
            TInceptionResidual(256), TInceptionResidual(256))
        self.linear = tnn.Linear(256, 10)

    def forward(self, x):
        return self.linear(self.layers(self.conv1(x)).mean((2, 3)))


class TSeparable(tnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = tnn.BatchNorm2d(cin)
        self.conv2 = tnn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class TMobileNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(32)
        cfg = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512,
               (1024, 2), 1024]
        blocks, cin = [], 32
        for c in cfg:
            cout, stride = c if isinstance(c, tuple) else (c, 1)
            blocks.append(TSeparable(cin, cout, stride))
            cin = cout
        self.layers = tnn.Sequential(*blocks)
        self.linear = tnn.Linear(1024, 10)

    def forward(self, x):
        out = self.layers(torch.relu(self.bn1(self.conv1(x))))
        return self.linear(tnn.functional.avg_pool2d(out, 2).flatten(1))


class TInverted(tnn.Module):
    def __init__(self, cin, cout, t, stride):
        super().__init__()
        h = cin * t
        self.stride = stride
        self.conv1 = tnn.Conv2d(cin, h, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(h)
        self.conv2 = tnn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False)
        self.bn2 = tnn.BatchNorm2d(h)
        self.conv3 = tnn.Conv2d(h, cout, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(cout)
        self.shortcut = tnn.Sequential()
        if stride == 1 and cin != cout:
            self.shortcut = tnn.Sequential(tnn.Conv2d(cin, cout, 1, bias=False),
                                           tnn.BatchNorm2d(cout))

    def forward(self, x):
        out = tnn.functional.relu6(self.bn1(self.conv1(x)))
        out = tnn.functional.relu6(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class TMobileNetV2(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 32, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(32)
        blocks, cin = [], 32
        for t, cout, n, s in [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
                              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            for i in range(n):
                blocks.append(TInverted(cin, cout, t, s if i == 0 else 1))
                cin = cout
        self.layers = tnn.Sequential(*blocks)
        self.conv2 = tnn.Conv2d(320, 1280, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(1280)
        self.linear = tnn.Linear(1280, 10)

    def forward(self, x):
        out = self.layers(tnn.functional.relu6(self.bn1(self.conv1(x))))
        out = tnn.functional.relu6(self.bn2(self.conv2(out)))
        return self.linear(tnn.functional.avg_pool2d(out, 4).flatten(1))


# glassnet model name -> a function making its twin
TWINS = {
    "alexnet": torch_alexnet,
    "vgg11-bn": lambda: torch_vgg("A"),
    "vgg16-bn": lambda: torch_vgg("D"),
    "resnet20": lambda: TorchResNet((16, 32, 64), (3, 3, 3), "A"),
    "resnet56": lambda: TorchResNet((16, 32, 64), (9, 9, 9), "A"),
    "resnet18": lambda: TorchResNet((64, 128, 256, 512), (2, 2, 2, 2), "B"),
    "inception": TGoogLeNet,
    "inception-resnet": TInceptionResNet,
    "mobilenet": TMobileNet,
    "mobilenetv2": TMobileNetV2,
}
