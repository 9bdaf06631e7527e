"""The classic CIFAR families (AlexNet, VGG, ResNet) against the same architectures written
independently with torch.nn here: parameter counts (and the published figures), the same
state-dict keys, the same outputs for the same weights, and one training step."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import models
from glassnet.models.cifar_classic import ResNet, vgg_block, PadShortcut, cifar_resnet
from glassnet.summary import summary


# ----------------------------------------------------------------- torch twins
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


TWINS = {
    "alexnet": torch_alexnet,
    "vgg11-bn": lambda: torch_vgg("A"),
    "vgg16-bn": lambda: torch_vgg("D"),
    "resnet20": lambda: TorchResNet((16, 32, 64), (3, 3, 3), "A"),
    "resnet56": lambda: TorchResNet((16, 32, 64), (9, 9, 9), "A"),
    "resnet18": lambda: TorchResNet((64, 128, 256, 512), (2, 2, 2, 2), "B"),
}
# Exact counts. VGG and ResNet-18: the common CIFAR variants' figures. He et al. (2016)
# give 0.27 M / 0.85 M for ResNet-20/56 with option A (identity + zero padding) shortcuts,
# which is 269,722 / 853,018 exactly; the often-quoted 272,474 / 855,770 are the same
# networks with 1x1 projection shortcuts (option B), checked below.
PARAMS = {"alexnet": 15_058_762, "vgg11-bn": 9_231_114, "vgg16-bn": 14_728_266,
          "resnet20": 269_722, "resnet56": 853_018, "resnet18": 11_173_962}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", TWINS)
def test_parameter_count_matches_torch_twin_and_published(name):
    model = models.get(name)
    assert n_params(model) == n_params(TWINS[name]()) == PARAMS[name]
    assert models.entry(name).input_size == (3, 32, 32)
    assert models.entry(name).dataset == "cifar10"


def test_cifar_resnets_with_projection_shortcuts_give_the_quoted_figures():
    assert n_params(ResNet((16, 32, 64), (3, 3, 3), "B")) == 272_474
    assert n_params(ResNet((16, 32, 64), (9, 9, 9), "B")) == 855_770
    assert 0.265e6 < PARAMS["resnet20"] < 0.275e6 and 0.845e6 < PARAMS["resnet56"] < 0.855e6


def _randomise_batchnorm(model, rng):
    """BatchNorm at its defaults (weight 1, bias 0, mean 0, var 1) would hide a missing or
    misplaced BatchNorm; give every one distinct statistics and affine terms."""
    state = model.state_dict()
    norms = [k[:-len("running_var")] for k in state if k.endswith("running_var")]
    assert norms or not any(isinstance(m, gn.nn.BatchNorm2d) for m in model.modules())
    new = {k: gn.tensor(v.numpy()) for k, v in state.items()}
    for prefix in norms:
        c = state[prefix + "running_var"].shape[0]
        for key, values in (("weight", rng.uniform(0.5, 1.5, c)), ("running_var",
                            rng.uniform(0.5, 1.5, c)), ("bias", rng.standard_normal(c) * 0.1),
                            ("running_mean", rng.standard_normal(c) * 0.1)):
            new[prefix + key] = gn.tensor(values.astype(np.float32))
    model.load_state_dict(new)


@pytest.mark.parametrize("name", TWINS)
def test_same_outputs_as_torch_twin_for_the_same_weights(name):
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    model = models.get(name)
    _randomise_batchnorm(model, rng)
    twin = TWINS[name]()
    state = model.state_dict()
    assert list(state) == list(twin.state_dict())           # same names, same order
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    model.eval()
    twin.eval()
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    with gn.no_grad():
        ours = model(gn.tensor(x)).numpy()
    with torch.no_grad():
        theirs = twin(torch.tensor(x)).numpy()
    assert ours.shape == (2, 10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", TWINS)
def test_one_training_step_reaches_every_parameter(name):
    gn.manual_seed(1)
    model = models.get(name)
    model.train()
    x = gn.randn(2, 3, 32, 32)
    loss = F.cross_entropy(model(x), gn.tensor([3, 7]))
    loss.backward()
    assert np.isfinite(loss.item())
    missing = [k for k, p in model.named_parameters() if p.grad is None
               or not np.any(p.grad.numpy())]
    assert not missing, f"{name}: no gradient for {missing[:5]}"


def test_two_stacked_3x3_have_28_percent_fewer_parameters_than_one_5x5():
    c = 64
    stacked, single = vgg_block(c, c), vgg_block(c, c, convs=1, kernel=5)
    stacked_n = summary(stacked, (c, 32, 32)).total_params
    single_n = summary(single, (c, 32, 32)).total_params
    assert stacked_n == n_params(stacked) and single_n == n_params(single)
    assert round(100 * (1 - stacked_n / single_n)) == 28
    # the weights alone: 2 * 9 C^2 against 25 C^2
    weights = [m.weight.numel() for m in stacked.modules() if isinstance(m, gn.nn.Conv2d)]
    assert weights == [9 * c * c] * 2
    assert single[0].weight.numel() == 25 * c * c


def test_vgg_block_layout_and_bad_arguments():
    block = vgg_block(3, 8, convs=3)
    kinds = [type(m).__name__ for m in block]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU"] * 3 + ["MaxPool2d"]
    assert tuple(block(gn.randn(1, 3, 8, 8)).shape) == (1, 8, 4, 4)
    for bad in ({"convs": 0}, {"kernel": 4}):
        with pytest.raises(ValueError, match="vgg_block"):
            vgg_block(3, 8, **bad)


def test_option_a_shortcut_subsamples_and_zero_pads_without_parameters():
    x = gn.randn(2, 16, 8, 8)
    out = PadShortcut(16, 32, 2)(x)
    assert tuple(out.shape) == (2, 32, 4, 4) and not list(PadShortcut(16, 32, 2).parameters())
    expected = np.zeros((2, 32, 4, 4), np.float32)
    expected[:, 8:24] = x.numpy()[:, :, ::2, ::2]
    np.testing.assert_array_equal(out.numpy(), expected)


def test_bad_resnet_arguments_are_named():
    with pytest.raises(ValueError, match="cifar_resnet: depth must be 6n"):
        cifar_resnet(21)
    with pytest.raises(ValueError, match="ResNet: shortcut"):
        ResNet((16,), (1,), "C")
    with pytest.raises(ValueError, match="PadShortcut"):
        PadShortcut(32, 16, 2)
