"""cifar-fast: the network against a torch.nn twin, its data-set whitening and identity
initialisation, and the recipe's pieces (groups, Lookahead, alternating flips, the triangle
schedule, multi-crop TTA) in a run on small CIFAR files built here."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import models, nn, runs
from glassnet.data import AlternatingFlips, TensorDataset
from glassnet.models.cifar_fast import FastNet, whitening_filters
from glassnet.train import Lookahead, FreezeAfter, fit, schedule_factor
from data.test_cifar import _cifar_dir


def torch_twin(widths=(64, 256, 256)):
    def block(i, o):
        return torch.nn.ModuleDict(dict(
            conv1=torch.nn.Conv2d(i, o, 3, padding=1, bias=False), pool=torch.nn.MaxPool2d(2),
            norm1=torch.nn.BatchNorm2d(o, eps=1e-12, momentum=0.4),
            conv2=torch.nn.Conv2d(o, o, 3, padding=1, bias=False),
            norm2=torch.nn.BatchNorm2d(o, eps=1e-12, momentum=0.4), act=torch.nn.GELU()))

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.whiten = torch.nn.Conv2d(3, 24, 2)
            self.act = torch.nn.GELU()
            self.block1, self.block2 = block(24, widths[0]), block(widths[0], widths[1])
            self.block3 = block(widths[1], widths[2])
            self.pool = torch.nn.MaxPool2d(3)
            self.head = torch.nn.Linear(widths[2], 10, bias=False)

        def forward(self, x):
            x = self.act(self.whiten(x))
            for b in (self.block1, self.block2, self.block3):
                x = b.act(b.norm1(b.pool(b.conv1(x))))
                x = b.act(b.norm2(b.conv2(x)))
            return self.head(self.pool(x).flatten(1)) / 9

    return Twin()


def test_forward_backward_and_running_stats_match_a_torch_twin():
    gn.manual_seed(0)
    ours = FastNet(widths=(16, 32, 32))
    ours.init_from_data(np.random.default_rng(1).normal(size=(20, 3, 32, 32)))
    twin = torch_twin((16, 32, 32)).double()
    assert list(twin.state_dict()) == list(ours.state_dict())
    twin.load_state_dict({k: torch.tensor(v.numpy().astype(np.float64)) for k, v in
                          ours.state_dict().items()})
    ours = ours.double()
    x = np.random.default_rng(2).normal(size=(6, 3, 32, 32))
    y = np.array([0, 1, 2, 3, 4, 5])
    out = ours(gn.from_numpy(x))
    gn.nn.functional.cross_entropy(out, gn.tensor(y), label_smoothing=0.2).backward()
    t_out = twin(torch.tensor(x))
    torch.nn.functional.cross_entropy(t_out, torch.tensor(y), label_smoothing=0.2).backward()
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9,
                               atol=1e-12)
    t_params = dict(twin.named_parameters())
    for name, p in ours.named_parameters():
        if p.requires_grad:
            np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(),
                                       rtol=1e-7, atol=1e-10, err_msg=name)
    t_state = twin.state_dict()
    for name, v in ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), t_state[name].numpy(), rtol=1e-9, err_msg=name)


def test_parameter_counts_and_what_learns():
    net = models.get("cifar-fast")
    total = sum(p.numel() for p in net.parameters())
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    assert total == 1_972_792          # airbench94's net: 1.97 M parameters
    assert set(frozen) == {"whiten.weight"} | {f"block{b}.norm{k}.weight" for b in (1, 2, 3)
                                               for k in (1, 2)}
    small = models.get("cifar-fast-small")
    assert sum(p.numel() for p in small.parameters()) < total / 3


def test_convolutions_start_as_identities():
    net = FastNet(widths=(32, 64, 64))
    w = net.block2.conv1.weight.detach().numpy()                   # (64, 32, 3, 3)
    dirac = np.zeros((32, 32, 3, 3), np.float32)
    dirac[np.arange(32), np.arange(32), 1, 1] = 1
    np.testing.assert_array_equal(w[:32], dirac)
    assert np.abs(w[32:]).sum() > 0                                # the rest stay random
    x = gn.tensor(np.random.default_rng(0).normal(size=(2, 32, 8, 8)).astype(np.float32))
    conv = net.block2.conv1
    np.testing.assert_allclose(conv(x).detach().numpy()[:, :32], x.numpy(), atol=1e-6)


def test_whitening_filters_decorrelate_patches():
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(3, 3))
    images = np.einsum("dc,nchw->ndhw", mix, rng.normal(size=(64, 3, 16, 16)))
    images += 0.5 * np.roll(images, 1, axis=-1)                   # neighbours correlate too
    filters = whitening_filters(images, eps=0.0)
    assert filters.shape == (24, 3, 2, 2) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters[12:], -filters[:12])
    out = torch.nn.functional.conv2d(torch.tensor(images), torch.tensor(filters[:12]).double())
    flat = out.permute(1, 0, 2, 3).reshape(12, -1).numpy()
    np.testing.assert_allclose(np.cov(flat), np.eye(12), atol=1e-4)
    with pytest.raises(ValueError, match="too few patches"):
        whitening_filters(np.zeros((1, 3, 2, 2)))


def test_bias_groups_learn_faster_with_smaller_decay():
    net = FastNet(widths=(8, 16, 16))
    fast, = [g for g in net.param_groups(1.5, 0.002) if "lr" in g]
    assert fast["lr"] == 1.5 * 64 and fast["weight_decay"] == pytest.approx(0.002 / 64)
    assert {id(p) for p in fast["params"]} == {id(p) for n, p in net.named_parameters()
                                               if ".norm" in n}


def test_lookahead_pulls_towards_the_slow_weights_and_ends_on_them():
    gn.manual_seed(0)
    model = nn.Linear(4, 2)
    x = gn.tensor(np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32))
    y = gn.tensor((np.arange(32) % 2).astype(np.int64))
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 32, 4)]
    start = model.weight.detach().numpy().copy()
    seen = []

    class Spy(gn.train.Callback):
        def on_batch_end(self, trainer, step, logs):
            seen.append(model.weight.detach().numpy().copy())

    look = Lookahead(total_steps=8, every=2, alpha=0.5)
    fit(model, batches, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.5), 1,
        callbacks=[look, Spy()], quiet=True)
    # replay: plain SGD between pulls; at step k (even) slow = a slow + (1 - a) fast
    gn.manual_seed(0)
    replay = nn.Linear(4, 2)
    slow_w = replay.weight.detach().numpy().copy()
    np.testing.assert_array_equal(slow_w, start)
    opt = gn.optim.SGD(replay.parameters(), lr=0.5)
    slow = [t.numpy().copy() for t in replay.state_dict().values()]
    for k, (xb, yb) in enumerate(batches, 1):
        opt.zero_grad()
        nn.CrossEntropyLoss()(replay(xb), yb).backward()
        opt.step()
        if k % 2 == 0:
            a = 0.5 * (k / 8) ** 3
            for s, t in zip(slow, replay.state_dict().values()):
                s[...] = a * s + (1 - a) * t.numpy()
                t._array[...] = s
        np.testing.assert_allclose(seen[k - 1], replay.weight.detach().numpy(), rtol=1e-6,
                                   err_msg=f"step {k}")
    # the last pull (a = 0.5 at step 8) moved the weights off plain SGD's
    assert not np.allclose(seen[-1], seen[-2])


def test_freeze_after_drops_the_gradient_from_that_epoch_on():
    model = nn.Linear(2, 2)
    data = [(gn.ones(3, 2), gn.tensor([0, 1, 0]))]
    bias0 = None

    class Spy(gn.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            nonlocal bias0
            if epoch == 2:
                bias0 = model.bias.detach().numpy().copy()

    fit(model, data, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.1), 4,
        callbacks=[FreezeAfter([model.bias], 2), Spy()], quiet=True)
    assert not model.bias.requires_grad
    np.testing.assert_array_equal(model.bias.detach().numpy(), bias0)


def test_alternating_flips_show_each_image_both_ways_in_two_epochs():
    images = np.arange(8 * 1 * 2 * 3, dtype=np.float32).reshape(8, 1, 2, 3)
    ds = AlternatingFlips(TensorDataset(images, np.arange(8)), np.random.default_rng(0))
    seen = {}
    for epoch in (1, 2, 3):
        ds.epoch = epoch
        x, y = ds.get_batch(np.arange(8))
        flipped = np.array([np.array_equal(x[i], images[i, ..., ::-1]) for i in range(8)])
        assert all(np.array_equal(x[i], images[i]) for i in np.flatnonzero(~flipped))
        seen[epoch] = flipped
        xi, _ = ds[5]
        np.testing.assert_array_equal(xi, x[5])
    assert (seen[1] ^ seen[2]).all() and (seen[1] == seen[3]).all()
    assert 0 < seen[1].sum() < 8


def test_triangle_schedule():
    assert schedule_factor("triangle", 0) == pytest.approx(0.2)
    assert schedule_factor("triangle", 0.23) == pytest.approx(1.0)
    assert schedule_factor("triangle", 1) == pytest.approx(0.07)
    assert schedule_factor("triangle", 0.115) == pytest.approx(0.6)


def test_a_cifar_fast_run_on_small_files(tmp_path):
    root = tmp_path / "cifar"
    root.mkdir()
    _cifar_dir(root, n=20, labels=list(range(10)) * 2)
    config = runs.resolve_config("cifar-fast-small", data_dir=str(root), epochs=2,
                                 batch_size=8)
    assert (config["optimizer"], config["momentum"], config["schedule"], config["augment"],
            config["tta"], config["label_smoothing"]) == ("nesterov", 0.85, "triangle",
                                                          "alternating", "multicrop", 0.2)
    run = runs.Run(config, out=str(tmp_path / "run"))
    assert isinstance(run.train_set, AlternatingFlips)
    n = len(run.train_set)                       # the last partial batch is dropped
    assert config["drop_last"] and n % 8 and len(run.train_loader) == n // 8
    crop, = runs.augmentations("cifar10", None, "alternating")
    assert (crop.padding, crop.padding_mode) == (2, "reflect")
    whiten = run.model.whiten.weight.detach().numpy().copy()
    expected = whitening_filters(run._plain_training_images(5000))
    np.testing.assert_allclose(whiten, expected, rtol=1e-5, atol=1e-6)
    groups = run.optimizer.param_groups
    assert [g["lr"] for g in groups] == [1.5, 96.0]
    result = run.train(quiet=True)
    np.testing.assert_array_equal(run.model.whiten.weight.detach().numpy(), whiten)
    assert result["epochs"] == 2 and 0 <= result["test_accuracy"] <= 1
    # multicrop TTA: half the flip-averaged outputs, a quarter each of the shifted ones
    x = next(iter(run.test_loader))[0]
    run.model.eval()
    with gn.no_grad():
        def mirror_mean(a):
            return (run.model(gn.tensor(a)).numpy()
                    + run.model(gn.tensor(np.ascontiguousarray(a[..., ::-1]))).numpy()) / 2
        a = x.numpy()
        p = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
        manual = mirror_mean(a) / 2 + (mirror_mean(np.ascontiguousarray(p[..., :32, :32]))
                                       + mirror_mean(np.ascontiguousarray(p[..., 2:, 2:]))) / 4
    np.testing.assert_allclose(run._tta_outputs(x, "multicrop"), manual, rtol=1e-5, atol=1e-6)
