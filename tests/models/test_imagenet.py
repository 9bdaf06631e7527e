"""The ImageNet-layout twins (glassnet.models.imagenet) against the same architectures
written here with torch.nn under torchvision's documented state-dict names and layer order
(torchvision itself cannot be imported here): the same keys, shapes and order, the
published parameter counts, and a torch checkpoint (`torch.save` of the twin's state
dict) read with `glassnet.load` and loaded strictly giving the twin's logits at 224x224."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import models
from glassnet.models import imagenet
from glassnet.models.cifar_classic import ResNet
from glassnet._kernels.workspace import WORKSPACE
from torch_twins import TorchBlock

torch.set_num_threads(2)


@pytest.fixture(scope="module", autouse=True)
def _release_workspace():
    """224x224 activations fill the shared kernel workspace (256 MB) with buffers of
    shapes no later test uses, and a full workspace keeps nothing new; hand it back empty
    so that the workspace tests of other files see the state they expect."""
    yield
    WORKSPACE.clear()


# ---- torch twins with torchvision's names --------------------------------------------

def TBasicBlock(cin, cout, stride):
    """torchvision's BasicBlock: the CIFAR tests' twin with projection shortcuts (option B)."""
    return TorchBlock(cin, cout, stride, "B")


class TResNet(tnn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (w, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            self.add_module(f"layer{i + 1}", tnn.Sequential(
                *[TBasicBlock(cin if j == 0 else w, w, 2 if i and not j else 1) for j in range(n)]))
            cin = w
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TFeaturesPoolClassifier(tnn.Module):
    """torchvision's VGG / AlexNet / MobileNetV2 shape: features, pool, flatten, classifier."""

    def __init__(self, features, pool, classifier):
        super().__init__()
        self.features, self.avgpool, self.classifier = features, pool, classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def t_vgg16(batch_norm):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
           512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
            continue
        norm = [tnn.BatchNorm2d(v)] if batch_norm else []
        layers += [tnn.Conv2d(c, v, 3, padding=1), *norm, tnn.ReLU()]
        c = v
    head = tnn.Sequential(tnn.Linear(512 * 49, 4096), tnn.ReLU(), tnn.Dropout(),
                          tnn.Linear(4096, 4096), tnn.ReLU(), tnn.Dropout(), tnn.Linear(4096, 1000))
    return TFeaturesPoolClassifier(tnn.Sequential(*layers), tnn.AdaptiveAvgPool2d(7), head)


def t_alexnet():
    features = tnn.Sequential(
        tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(64, 192, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(), tnn.Conv2d(384, 256, 3, padding=1),
        tnn.ReLU(), tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(3, 2))
    head = tnn.Sequential(tnn.Dropout(), tnn.Linear(9216, 4096), tnn.ReLU(), tnn.Dropout(),
                          tnn.Linear(4096, 4096), tnn.ReLU(), tnn.Linear(4096, 1000))
    return TFeaturesPoolClassifier(features, tnn.AdaptiveAvgPool2d(6), head)


def t_cbr6(cin, cout, k, stride=1, groups=1):
    return tnn.Sequential(tnn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(cout), tnn.ReLU6())


class TInvertedResidual(tnn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        h = cin * t
        self.conv = tnn.Sequential(*([t_cbr6(cin, h, 1)] if t != 1 else []),
                                   t_cbr6(h, h, 3, stride, h), tnn.Conv2d(h, cout, 1, bias=False),
                                   tnn.BatchNorm2d(cout))
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


def t_mobilenet_v2(dropout=0.2):
    layers, c = [t_cbr6(3, 32, 3, 2)], 32
    for t, cout, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            layers.append(TInvertedResidual(c, cout, s if i == 0 else 1, t))
            c = cout
    layers.append(t_cbr6(320, 1280, 1))
    head = tnn.Sequential(tnn.Dropout(dropout), tnn.Linear(1280, 1000))
    return TFeaturesPoolClassifier(tnn.Sequential(*layers), tnn.AdaptiveAvgPool2d(1), head)


TWINS = {"resnet18": lambda: TResNet((2, 2, 2, 2)), "resnet34": lambda: TResNet((3, 4, 6, 3)),
         "vgg16": lambda: t_vgg16(False), "vgg16_bn": lambda: t_vgg16(True),
         "alexnet": t_alexnet, "mobilenet_v2": t_mobilenet_v2}
# torchvision's documented counts for 1000 classes
PUBLISHED = {"resnet18": 11_689_512, "resnet34": 21_797_672, "vgg16": 138_357_544,
             "vgg16_bn": 138_365_992, "alexnet": 61_100_840, "mobilenet_v2": 3_504_872}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def randomise_batchnorm(twin, seed):
    """Default BatchNorm (1, 0, mean 0, var 1, count 0) would hide a misplaced or missing
    BatchNorm key; give each its own statistics and a distinct batch count."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for i, m in enumerate(m for m in twin.modules() if isinstance(m, tnn.BatchNorm2d)):
            c = m.num_features
            m.weight.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.num_batches_tracked.fill_(i + 1)


def logit_difference(ours, theirs):
    """(max abs difference, the logit scale it is judged against)."""
    return float(np.abs(ours - theirs).max()), float(np.abs(theirs).max())


def image(seed, n=1, size=224):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


@pytest.fixture(scope="module", params=list(TWINS))
def pair(request, tmp_path_factory):
    """(name, randomised torch twin in eval mode, its checkpoint file, fresh glassnet model),
    built once per architecture (VGG-16 alone holds 138 M parameters)."""
    name = request.param
    torch.manual_seed(0)
    twin = TWINS[name]()
    randomise_batchnorm(twin, 1)
    twin.eval()
    path = tmp_path_factory.mktemp(name) / "w.pth"
    torch.save(twin.state_dict(), path)
    gn.manual_seed(0)
    yield name, twin, path, getattr(imagenet, name)()


# ---- layout --------------------------------------------------------------------------

def test_state_dict_has_torchvisions_keys_shapes_and_order(pair):
    name, twin, _, model = pair
    ours, theirs = model.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    counts = [k for k in ours if k.endswith("num_batches_tracked")]
    assert all(ours[k].dtype == np.int64 for k in counts)
    assert bool(counts) == (name not in ("vgg16", "alexnet"))


def test_parameter_count_is_torchvisions_published_figure(pair):
    name, twin, _, model = pair
    assert n_params(model) == n_params(twin) == PUBLISHED[name]


# ---- torch checkpoint -> glassnet.load -> load_state_dict -> same logits --------------

def test_torch_checkpoint_loads_and_gives_torchs_logits(pair):
    name, twin, path, model = pair
    state = gn.load(path)
    assert list(state) == list(model.state_dict())
    model.load_state_dict(state)                     # strict
    model.eval()
    x = image(2)
    with gn.no_grad():
        ours = model(gn.tensor(x)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    assert ours.shape == theirs.shape == (1, 1000)
    diff, scale = logit_difference(ours, theirs)
    assert diff <= 1e-4 * scale, f"{name}: max |logit difference| {diff:.3g} at scale {scale:.3g}"
    counts = {k: int(v) for k, v in twin.state_dict().items() if k.endswith("batches_tracked")}
    assert {k: int(model.state_dict()[k].item()) for k in counts} == counts


def test_a_dict_of_numpy_arrays_loads_too():
    torch.manual_seed(3)
    twin = t_mobilenet_v2().eval()
    randomise_batchnorm(twin, 4)
    model = imagenet.mobilenet_v2().eval()
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = image(5)
    with gn.no_grad():
        ours = model(gn.tensor(x)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    diff, scale = logit_difference(ours, theirs)
    assert diff <= 1e-4 * scale


# ---- bad checkpoints: named, and nothing half-loaded ---------------------------------

@pytest.fixture(scope="module")
def resnet18_state():
    torch.manual_seed(6)
    return {k: v.numpy() for k, v in TResNet((2, 2, 2, 2)).state_dict().items()}


def _unchanged_after(model, error, match, state):
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=match):
        model.load_state_dict(state)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k].numpy()) for k in before)


def test_missing_key_is_named(resnet18_state):
    state = dict(resnet18_state)
    del state["layer3.0.downsample.1.running_var"]
    _unchanged_after(imagenet.resnet18(), KeyError,
                     r"missing keys \['layer3\.0\.downsample\.1\.running_var'\]", state)


def test_extra_key_is_named(resnet18_state):
    state = dict(resnet18_state, **{"layer1.0.downsample.0.weight": np.zeros((64, 64, 1, 1))})
    _unchanged_after(imagenet.resnet18(), KeyError,
                     r"unexpected keys \['layer1\.0\.downsample\.0\.weight'\]", state)


def test_ill_shaped_key_is_named_with_both_shapes(resnet18_state):
    state = dict(resnet18_state, **{"fc.weight": np.zeros((10, 512), np.float32)})
    _unchanged_after(imagenet.resnet18(), ValueError,
                     r"fc\.weight: checkpoint \(10, 512\), model \(1000, 512\)", state)


# ---- training mode: one step agrees with torch (the light networks) --------------------

@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_one_training_step_matches_torch(name):
    """In float64: with batch statistics over 2 images, the weight gradients of a
    convolution under BatchNorm are sums that nearly cancel (some are exactly zero, e.g. a
    bias followed by a linear conv and BatchNorm), so float32 agrees only to rounding noise
    relative to those sums; float64 makes the comparison sharp. 128x128 images (the
    networks take any size from 32 up; layer4 still sees 4x4) keep float64 affordable."""
    torch.manual_seed(7)
    twin = TResNet((2, 2, 2, 2)) if name == "resnet18" else t_mobilenet_v2(dropout=0.0)
    randomise_batchnorm(twin, 8)
    model = (imagenet.resnet18() if name == "resnet18" else imagenet.mobilenet_v2(dropout=0.0))
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    model.double()
    twin.double()
    x, y = image(9, n=2, size=128).astype(np.float64), np.array([3, 871])
    loss = F.cross_entropy(model(gn.from_numpy(x)), gn.tensor(y))
    loss.backward()
    tloss = tnn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
    tloss.backward()
    assert abs(loss.item() - tloss.item()) <= 1e-10
    pairs = list(zip(model.named_parameters(), twin.named_parameters()))
    scale = max(float(np.abs(tp.grad.numpy()).max()) for _, (_, tp) in pairs)
    for (k, p), (tk, tp) in pairs:
        assert k == tk
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-7,
                                   atol=1e-10 * scale, err_msg=k)
    theirs = twin.state_dict()                       # running statistics and batch counts
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), theirs[k].numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=k)


# ---- builders -----------------------------------------------------------------------

@pytest.mark.parametrize("name,last", [("resnet18", "fc"), ("alexnet", "classifier.6"),
                                       ("mobilenet_v2", "classifier.1")])
def test_num_classes_sizes_only_the_last_layer(name, last):
    model = getattr(imagenet, name)(num_classes=10).eval()
    full = getattr(imagenet, name)()
    changed = [k for k, v in model.state_dict().items()
               if tuple(v.shape) != tuple(full.state_dict()[k].shape)]
    assert changed == [f"{last}.weight", f"{last}.bias"]
    with gn.no_grad():
        assert model(gn.tensor(image(10))).shape == (1, 10)


def test_not_in_the_cli_zoo_and_the_cifar_names_stay():
    assert not {"resnet34", "vgg16", "mobilenet_v2"} & set(models.names())
    assert models.entry("resnet18").input_size == (3, 32, 32)
    cifar = models.get("resnet18")
    assert not hasattr(cifar, "maxpool") or cifar.maxpool is None
    assert tuple(cifar.conv1.weight.shape) == (64, 3, 3, 3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="ResNet: stem must be 'cifar' or 'imagenet'"):
        ResNet((64,), (1,), stem="tiny")
    with pytest.raises(ValueError, match="VGG: config must be one of"):
        imagenet.VGG("E")
    with pytest.raises(ValueError, match="InvertedResidual: stride must be 1 or 2"):
        imagenet.InvertedResidual(16, 16, 3, 6)


def test_fresh_weights_follow_torchvisions_initialisation():
    gn.manual_seed(11)
    resnet, mobilenet = imagenet.resnet18(), imagenet.mobilenet_v2()
    w = resnet.layer2[0].conv1.weight.detach().numpy()        # He normal over fan_out
    assert abs(w.std() / np.sqrt(2 / (128 * 9)) - 1) < 0.02
    head = mobilenet.classifier[1]                            # N(0, 0.01^2), zero bias
    assert abs(head.weight.detach().numpy().std() / 0.01 - 1) < 0.02
    assert not np.any(head.bias.detach().numpy())
    bn = mobilenet.features[3].conv[1][1]
    assert np.all(bn.weight.detach().numpy() == 1) and not np.any(bn.bias.detach().numpy())
