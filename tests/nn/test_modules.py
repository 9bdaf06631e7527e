"""Modules against PyTorch: the same architecture has the same parameter names and
shapes, copies weights by name, and then computes the same outputs and gradients."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn as nn

torch.set_num_threads(2)


def _build(lib, spec):
    return eval(spec, {"nn": lib.nn if lib is gn else torch.nn, "OrderedDict": OrderedDict})


def check_module(spec, input_shape, *, train=False, rtol=1e-4, atol=1e-5, seed=0):
    """Same module in both frameworks, torch's weights copied in; compare repr, names,
    output, the input's gradient and every parameter's gradient."""
    torch.manual_seed(seed)
    theirs, ours = _build(torch, spec), _build(gn, spec)
    ours.train(train)
    theirs.train(train)
    assert repr(ours) == repr(theirs)
    t_state = theirs.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_state.items()]
    ours.load_state_dict({k: v.numpy() for k, v in t_state.items()})
    x = np.random.default_rng(seed).uniform(-1, 1, input_shape).astype(np.float32)
    tx, gx = torch.tensor(x, requires_grad=True), gn.tensor(x, requires_grad=True)
    ty, gy = theirs(tx), ours(gx)
    np.testing.assert_allclose(gy._array, ty.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(seed + 1).standard_normal(gy.shape).astype(np.float32)
    (ty * torch.tensor(w)).sum().backward()
    (gy * gn.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad._array, tx.grad.numpy(), rtol=rtol, atol=atol)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad._array, t_params[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)
    return ours


NOTES_MLP = ("nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), "
             "nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))")
NOTES_CNN = ("nn.Sequential(nn.Conv2d(1, 16, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2), "
             "nn.Conv2d(16, 32, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), "
             "nn.Linear(1568, 10))")


@pytest.mark.parametrize("spec, shape", [
    (NOTES_MLP, (4, 1, 28, 28)),
    (NOTES_CNN, (3, 1, 28, 28)),
    ("nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, (3, 2), stride=2, padding='valid', "
     "bias=False), act=nn.LeakyReLU(0.2), pool=nn.AvgPool2d(2), gap=nn.AdaptiveAvgPool2d(1), "
     "flat=nn.Flatten(), head=nn.Linear(8, 3)))", (2, 3, 17, 15)),
    ("nn.Sequential(nn.Conv2d(4, 8, 3, padding='same', groups=4, dilation=2), nn.ELU(), "
     "nn.Conv2d(8, 8, 1), nn.GELU(), nn.Flatten(0), nn.Unflatten(0, (2, 8 * 36)), nn.Tanh())",
     (2, 4, 6, 6)),
    ("nn.Sequential(nn.Conv1d(3, 5, 3, stride=2, padding=1), nn.Sigmoid(), nn.Flatten(), "
     "nn.Linear(20, 4), nn.Softplus(), nn.Identity(), nn.LogSoftmax(dim=1))", (2, 3, 8)),
    ("nn.Sequential(nn.Linear(6, 5), nn.SiLU(), nn.Linear(5, 4), nn.Softmax(dim=-1))", (7, 6)),
])
def test_module_parity(spec, shape):
    check_module(spec, shape)


def test_notes_mlp_parameter_count():
    model = _build(gn, NOTES_MLP)
    assert sum(p.numel() for p in model.parameters()) == 669_706


def test_default_init_matches_pytorch_distribution():
    gn.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w = layer.weight._array
    assert w.dtype == np.float32 and np.abs(w).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound   # U(-b, b) has std b/sqrt(3)
    conv = nn.Conv2d(16, 32, 5)
    assert np.abs(conv.weight._array).max() <= 1 / np.sqrt(400)
    assert np.abs(conv.bias._array).max() <= 1 / np.sqrt(400)


def test_dropout_follows_train_and_eval():
    model = nn.Sequential(nn.Dropout(0.5))
    x = gn.ones(1000)
    assert (model(x)._array == 0).mean() > 0.4
    model.eval()
    assert not model.training and not model[0].training
    assert np.array_equal(model(x)._array, x._array)


def test_registration_names_and_walks():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
            self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1)])
            self.extra = nn.ModuleDict({"proj": nn.Linear(4, 4, bias=False)})
            self.scale = nn.Parameter(gn.ones(1))
            self.register_buffer("steps", gn.zeros(1))
            self.register_buffer("cache", gn.zeros(2), persistent=False)
            self.tied = self.heads[0]   # the same module twice: its parameters come once

        def forward(self, x):
            h = self.extra["proj"](self.body(x))
            return self.heads[0](h).sum() * self.scale + self.heads[1](h).sum()

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias", "extra.proj.weight"]
    keys = list(net.state_dict())
    assert keys[:3] == ["scale", "steps", "body.0.weight"] and "cache" not in keys
    assert keys[-2:] == ["tied.weight", "tied.bias"]   # PyTorch lists a shared module twice
    assert len(list(net.children())) == 4 and len(list(net.modules())) == 9
    net(gn.ones(2, 3)).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 5   # the tied one twice, as PyTorch


def test_state_dict_round_trip_and_errors():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.weight._array, b.weight._array)
    with pytest.raises(KeyError, match="missing keys \\['bias'\\]"):
        b.load_state_dict({"weight": a.weight})
    result = b.load_state_dict({"weight": a.weight, "other": gn.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    with pytest.raises(ValueError, match=r"weight: checkpoint \(2, 4\), model \(2, 3\)"):
        b.load_state_dict({"weight": gn.ones(2, 4), "bias": gn.ones(2)})


def test_sequential_forms():
    seq = nn.Sequential()
    seq.append(nn.Linear(2, 3)).append(nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[-1], nn.ReLU) and len(seq[:1]) == 1
    with pytest.raises(IndexError, match="Sequential: index 5 is out of range for 2 modules"):
        seq[5]


def test_assigning_a_plain_tensor_to_a_parameter_name_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'weight'"):
        layer.weight = gn.ones(2, 2)


def test_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(4, 2\): expected input with 4 features"):
        nn.Linear(4, 2)(gn.ones(3, 5))
    with pytest.raises(ValueError, match="conv2d: expected input with 3 channels, got 1"):
        nn.Conv2d(3, 8, 3)(gn.ones(1, 1, 8, 8))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 8, 3, groups=2)


@pytest.mark.parametrize("spec, target", [
    ("nn.CrossEntropyLoss()", "index"), ("nn.CrossEntropyLoss(label_smoothing=0.1)", "index"),
    ("nn.CrossEntropyLoss(reduction='sum')", "index"), ("nn.NLLLoss()", "index"),
    ("nn.MSELoss()", "same"), ("nn.L1Loss(reduction='none')", "same"),
    ("nn.BCEWithLogitsLoss()", "prob"), ("nn.BCELoss()", "prob"),
])
def test_loss_modules(spec, target):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, (5, 4)).astype(np.float32)
    t = {"index": rng.integers(0, 4, 5), "same": rng.standard_normal((5, 4)).astype(np.float32),
         "prob": rng.uniform(0, 1, (5, 4)).astype(np.float32)}[target]
    theirs, ours = _build(torch, spec), _build(gn, spec)
    assert repr(ours) == repr(theirs)
    tx, gx = torch.tensor(x, requires_grad=True), gn.tensor(x, requires_grad=True)
    ty, gy = theirs(tx, torch.tensor(t)), ours(gx, gn.tensor(t))
    np.testing.assert_allclose(gy._array, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ty.sum().backward()
    gy.sum().backward()
    np.testing.assert_allclose(gx.grad._array, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_lazy_layers_learn_their_input_size_on_the_first_call():
    gn.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.LazyLinear(10))
    assert list(model.parameters()) == []
    out = model(gn.ones(2, 3, 6, 6))
    assert out.shape == (2, 10)
    assert type(model[0]) is nn.Conv2d and model[0].weight.shape == (8, 3, 3, 3)
    assert type(model[3]) is nn.Linear and model[3].weight.shape == (10, 288)
    assert repr(model[3]) == "Linear(in_features=288, out_features=10, bias=True)"
    assert np.abs(model[3].weight._array).max() <= 1 / np.sqrt(288)
    assert gn.summary(nn.Sequential(nn.Flatten(), nn.LazyLinear(512)), (1, 28, 28)) \
        .total_params == 785 * 512


@pytest.mark.parametrize("spec, shape", [
    ("nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())", (5, 3, 6, 6)),
    ("nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4, momentum=None), nn.Tanh())", (8, 6)),
    ("nn.Sequential(nn.BatchNorm1d(3, affine=False), nn.Flatten())", (4, 3, 5)),
    ("nn.Sequential(nn.BatchNorm2d(3, bias=False), nn.LayerNorm((3, 2), bias=False))", (4, 3, 3, 2)),
    ("nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False))", (4, 3)),
    ("nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU())", (3, 6)),
])
def test_normalization_layers_in_train_and_eval_mode(spec, shape):
    ours = check_module(spec, shape, train=True, atol=1e-4)
    torch.manual_seed(0)
    theirs = _build(torch, spec)
    theirs.train()
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    theirs(torch.tensor(x))      # the same one training batch: the same running statistics
    for k in range(3):           # then several more, in both
        batch = np.random.default_rng(10 + k).uniform(-2, 2, shape).astype(np.float32)
        theirs(torch.tensor(batch))
        ours(gn.tensor(batch))
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=k)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(gn.tensor(x))._array, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_embedding_layer():
    emb_t = torch.nn.Embedding(10, 3, padding_idx=0)
    emb = nn.Embedding(10, 3, padding_idx=0)
    assert repr(emb) == repr(emb_t) and np.all(emb.weight._array[0] == 0)
    emb.load_state_dict({"weight": emb_t.weight.detach().numpy()})
    idx = np.array([[1, 0, 3], [3, 3, 9]])
    out_t, out = emb_t(torch.tensor(idx)), emb(gn.tensor(idx))
    np.testing.assert_allclose(out._array, out_t.detach().numpy())
    out_t.sum().backward()
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad._array, emb_t.weight.grad.numpy())


@pytest.mark.parametrize("spec", ["nn.Linear(512, 2000)", "nn.Conv2d(32, 1024, 3)",
                                  "nn.Conv1d(16, 1024, 7, groups=4)", "nn.Embedding(500, 300)",
                                  "nn.LazyLinear(1500)"])
def test_default_initialisation_moments_match_pytorch(spec):
    gn.manual_seed(1)
    torch.manual_seed(1)
    ours, theirs = _build(gn, spec), _build(torch, spec)
    if "Lazy" in spec:
        ours(gn.ones(1, 700))
        theirs(torch.ones(1, 700))
    for name, t in theirs.named_parameters():   # every tensor has >= 1000 draws
        o = dict(ours.named_parameters())[name]._array
        t = t.detach().numpy()
        assert o.shape == t.shape and o.dtype == t.dtype
        assert abs(o.std() - t.std()) < 0.05 * t.std() + 1e-3, name
        assert abs(o.mean() - t.mean()) < 0.1 * t.std() + 1e-3, name
        assert abs(np.abs(o).max() - np.abs(t).max()) <= 0.05 * np.abs(t).max() + 1e-3, name
