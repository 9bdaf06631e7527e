"""The classic CIFAR families (AlexNet, VGG, ResNet) against the same architectures written
independently with torch.nn (benchmarks/torch_twins.py): parameter counts (and the
published figures), the same state-dict keys, the same outputs for the same weights, and
one training step."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import models
from glassnet.models.cifar_classic import ResNet, vgg_block, PadShortcut, cifar_resnet
from glassnet.summary import summary
from torch_twins import TWINS as ALL_TWINS  # benchmarks/torch_twins.py


TWINS = {name: ALL_TWINS[name] for name in ("alexnet", "vgg11-bn", "vgg16-bn", "resnet20",
                                             "resnet56", "resnet18")}
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
