"""The modern CIFAR families (Inception, Inception-ResNet, MobileNet v1/v2): parameter
counts against published figures and against twins written in torch.nn, output parity
with those twins on copied weights, one training step, and the Inception factorisations'
savings."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import models
from glassnet.models import cifar_modern as cm
from torch_twins import TGoogLeNet, TInceptionResNet, TMobileNet, TMobileNetV2  # benchmarks/

torch.set_num_threads(2)


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
