"""The modern CIFAR families (Inception, Inception-ResNet, MobileNet v1/v2): parameter
counts against published figures and against twins written in torch.nn, output parity
with those twins on copied weights, one training step, and the Inception factorisations'
savings."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
from glassnet import models
from glassnet.models import cifar_modern as cm

torch.set_num_threads(2)


# ---- torch twins: the same architectures, written independently with torch.nn -------

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


# name -> (torch twin, published CIFAR parameter count or None)
FAMILIES = {"inception": (TGoogLeNet, None), "inception-resnet": (TInceptionResNet, None),
            "mobilenet": (TMobileNet, 3_217_226), "mobilenetv2": (TMobileNetV2, 2_296_922)}


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _randomize_batchnorm(model, rng):
    """Give every BatchNorm non-trivial statistics and affine terms, so that eval-mode
    parity also checks that each one sits where the twin has it; the scales are large
    enough that ReLU6 clips (with PyTorch's fresh statistics it never would)."""
    for bn in (m for m in model.modules() if isinstance(m, gn.nn.BatchNorm2d)):
        for tensor, low, high in [(bn.weight, 0.5, 3.0), (bn.bias, -1.0, 2.0),
                                  (bn.running_mean, -0.5, 0.5), (bn.running_var, 0.5, 1.5)]:
            tensor._array[...] = rng.uniform(low, high, tensor.shape)


@pytest.mark.parametrize("name", FAMILIES)
def test_parameter_count_matches_twin_and_publication(name):
    twin, published = FAMILIES[name]
    count = _count(models.get(name))
    assert count == sum(p.numel() for p in twin().parameters())
    if published is not None:
        assert count == published


@pytest.mark.parametrize("name", FAMILIES)
def test_outputs_match_torch_twin_on_copied_weights(name):
    torch.manual_seed(0)
    model, twin = models.get(name), FAMILIES[name][0]()
    _randomize_batchnorm(model, np.random.default_rng(1))
    state = model.state_dict()
    assert set(state) == set(twin.state_dict()), "state-dict keys differ from the twin's"
    twin.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in state.items()})
    model.eval(), twin.eval()
    x = np.random.default_rng(2).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = twin(torch.tensor(x)).numpy()
    got = model(gn.from_numpy(x))
    np.testing.assert_allclose(got._array, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", FAMILIES)
def test_one_training_step_reaches_every_parameter(name):
    gn.manual_seed(0)
    model = models.get(name)
    x = gn.randn(2, 3, 32, 32)
    loss = gn.nn.functional.cross_entropy(model(x), gn.tensor([3, 7]))
    loss.backward()
    assert np.isfinite(loss.item())
    missing = [n for n, p in model.named_parameters()
               if p.grad is None or not np.any(p.grad._array)]
    assert not missing, f"no gradient for {missing}"


def _branch_conv_weights(block, branch):
    """Weights of the branch's convolutions after its 1x1 bottleneck."""
    convs = [m for m in getattr(block, branch).modules() if isinstance(m, gn.nn.Conv2d)]
    return sum(c.weight.numel() for c in convs[1:])


def test_two_3x3_replace_a_5x5_with_28_percent_fewer_weights():
    plain = cm.Inception(32, 8, 8, 8, 32, 32, 8)
    stacked = cm.Inception(32, 8, 8, 8, 32, 32, 8, factorize="3x3")
    ratio = _branch_conv_weights(stacked, "b3") / _branch_conv_weights(plain, "b3")
    assert ratio == pytest.approx(18 / 25)          # 28% fewer
    assert stacked(gn.randn(1, 32, 8, 8)).shape == (1, 56, 8, 8)


def test_asymmetric_factorisation_saves_a_third_of_a_3x3():
    plain = cm.Inception(32, 8, 32, 32, 8, 8, 8)
    asym = cm.Inception(32, 8, 32, 32, 8, 8, 8, factorize="asymmetric")
    ratio = _branch_conv_weights(asym, "b2") / _branch_conv_weights(plain, "b2")
    assert ratio == pytest.approx(6 / 9)            # 33% fewer for n = 3
    shapes = [m.weight.shape[2:] for m in asym.b2.modules() if isinstance(m, gn.nn.Conv2d)]
    assert shapes == [(1, 1), (1, 3), (3, 1)]
    assert asym(gn.randn(1, 32, 8, 8)).shape == (1, 56, 8, 8)


@pytest.mark.parametrize("factorize", ["3x3", "asymmetric"])
def test_factorised_inception_network_matches_its_twin(factorize):
    torch.manual_seed(0)
    model, twin = models.get("inception", factorize=factorize), TGoogLeNet(factorize)
    assert _count(model) == sum(p.numel() for p in twin.parameters())
    twin.load_state_dict({k: torch.tensor(np.asarray(v.numpy()))
                          for k, v in model.state_dict().items()})
    model.eval(), twin.eval()
    x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = twin(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(gn.from_numpy(x))._array, expected, rtol=1e-4, atol=1e-4)


def test_unknown_factorisation_is_refused():
    with pytest.raises(ValueError, match=r"Inception: factorize must be one of .*'4x4'"):
        cm.Inception(16, 4, 4, 4, 4, 4, 4, factorize="4x4")


def test_mobilenetv2_without_projection_is_the_papers_block():
    """Shortcuts only where the widths agree (the paper); the published CIFAR port adds
    1x1 projections on stride-1 blocks whose width changes (2,296,922 parameters)."""
    model = models.get("mobilenetv2", project_shortcut=False)
    assert _count(model) == 2_237_770
    assert model(gn.randn(2, 3, 32, 32)).shape == (2, 10)
