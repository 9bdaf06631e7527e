"""Each optimizer against torch.optim: the same parameters, the same gradients, the same
trajectory step for step; state dicts, param groups, closures and errors."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.optim as optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]

CASES = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)), ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
]


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    return ([gn.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _grads(steps, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]


def _step(opt, params, grads, lib, skip=None):
    for i, (p, g) in enumerate(zip(params, grads)):
        p.grad = None if i == skip else lib.tensor(g)
    opt.step()


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, options", CASES)
def test_trajectory_matches_pytorch(name, options):
    ours, theirs = _pair()
    o_opt, t_opt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for k, grads in enumerate(_grads(20)):
        skip = 1 if k == 7 else None       # one step where a parameter has no gradient
        _step(o_opt, ours, grads, gn, skip)
        _step(t_opt, theirs, grads, torch, skip)
        _assert_same(ours, theirs)
    t_state = t_opt.state_dict()["state"]
    for index, entries in o_opt.state_dict()["state"].items():
        for key, value in entries.items():
            expected = t_state[index][key]
            expected = expected.item() if expected.ndim == 0 else expected.numpy()
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=key)


def test_param_groups_with_their_own_options():
    ours, theirs = _pair()
    o_opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5, "momentum": 0.5}],
                      lr=0.1)
    t_opt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5,
                                                      "momentum": 0.5}], lr=0.1)
    for grads in _grads(5):
        _step(o_opt, ours, grads, gn)
        _step(t_opt, theirs, grads, torch)
    _assert_same(ours, theirs)
    assert o_opt.param_groups[1]["lr"] == 0.5 and o_opt.param_groups[0]["momentum"] == 0


@pytest.mark.parametrize("name, options", [("Adam", dict(lr=0.01, amsgrad=True)),
                                           ("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("RMSprop", dict(centered=True, momentum=0.3))])
def test_state_dict_round_trip_continues_exactly(name, options, tmp_path):
    grads = _grads(10)
    straight, _ = _pair()
    opt = getattr(optim, name)(straight, **options)
    for g in grads:
        _step(opt, straight, g, gn)
    resumed, _ = _pair()
    first = getattr(optim, name)(resumed, **options)
    for g in grads[:5]:
        _step(first, resumed, g, gn)
    gn.save(first.state_dict(), tmp_path / "opt.gn")
    second = getattr(optim, name)(resumed, **options)
    second.load_state_dict(gn.load(tmp_path / "opt.gn"))
    for g in grads[5:]:
        _step(second, resumed, g, gn)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)


def test_zero_grad_both_ways_and_closure():
    ours, _ = _pair()
    opt = optim.SGD(ours, lr=0.1)
    for p in ours:
        p.grad = gn.ones(*p.shape)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in ours)
    opt.zero_grad()
    assert all(p.grad is None for p in ours)
    before = ours[1].data.copy()

    def closure():
        opt.zero_grad()
        loss = (ours[1] * ours[1]).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    np.testing.assert_allclose(loss.item(), (before ** 2).sum(), rtol=1e-6)
    np.testing.assert_allclose(ours[1].data, before - 0.1 * 2 * before, rtol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_each_optimizer_fits_a_logistic_regression(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x @ np.array([2.0, -3.0]) + 0.5 > 0).astype(np.float32)
    model = gn.nn.Linear(2, 1)
    lr = {"SGD": 0.5, "Adagrad": 0.5}.get(name, 0.05)
    opt = getattr(optim, name)(model.parameters(), lr=lr)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = gn.nn.functional.binary_cross_entropy_with_logits(model(gn.tensor(x))[:, 0],
                                                                 gn.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


def test_errors_are_plain():
    ours, _ = _pair()
    with pytest.raises(ValueError, match="SGD: invalid learning rate -1"):
        optim.SGD(ours, lr=-1)
    with pytest.raises(ValueError, match=r"Adam: invalid betas \(1.0, 0.9\)"):
        optim.Adam(ours, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        optim.SGD(ours, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": ours}, {"params": ours[:1]}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="does not require grad"):
        optim.Adam([gn.ones(3)])
    opt = optim.Adam(ours)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict, 3 in"):
        opt.load_state_dict(optim.Adam(ours[:2]).state_dict())
