"""Each optimizer against torch.optim: the same parameters, the same gradients, the same
trajectory step for step; state dicts, param groups, closures, speed and errors."""
import tracemalloc

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
    ("SGD", dict(lr=0.1, maximize=True)), ("SGD", dict(lr=0.1, weight_decay=0.2, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.7, nesterov=True, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)), ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True, betas=(0.5, 0.9))),
    ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, maximize=True, eps=1e-4)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
]


def _pair(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return ([gn.tensor(a, dtype=dtype, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _grads(steps, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]


def _step(opt, params, grads, lib, skip=None):
    for i, (p, g) in enumerate(zip(params, grads)):
        if i == skip:
            p.grad = None
        else:
            p.grad = gn.tensor(g, dtype=g.dtype) if lib is gn else torch.tensor(g)
    opt.step()


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    for o, t in zip(ours, theirs):
        assert o._array.dtype == t.detach().numpy().dtype
        np.testing.assert_allclose(o._array, t.detach().numpy(), rtol=rtol, atol=atol)


def _run_both(name, options, dtype=np.float32, steps=20, tol=(1e-5, 1e-6)):
    ours, theirs = _pair(dtype=dtype)
    o_opt = getattr(optim, name)(ours, **options)
    t_opt = getattr(torch.optim, name)(theirs, **options)
    for k, grads in enumerate(_grads(steps, dtype=dtype)):
        skip = 1 if k == 7 else None       # one step where a parameter has no gradient
        _step(o_opt, ours, grads, gn, skip)
        _step(t_opt, theirs, grads, torch, skip)
        _assert_same(ours, theirs, *tol)
    return o_opt, t_opt


@pytest.mark.parametrize("name, options", CASES)
def test_trajectory_and_state_match_pytorch(name, options):
    o_opt, t_opt = _run_both(name, options)
    ours, theirs = o_opt.state_dict()["state"], t_opt.state_dict()["state"]
    assert sorted(ours) == sorted(theirs)
    for index, entries in ours.items():
        assert set(entries) == set(theirs[index])
        for key, value in entries.items():
            expected = theirs[index][key]
            expected = expected.item() if expected.ndim == 0 else expected.numpy()
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=key)
    if "step" in ours.get(1, {}):
        assert ours[1]["step"] == 19 and ours[0]["step"] == 20      # parameter 1 skipped once


@pytest.mark.parametrize("name, options", [CASES[3], CASES[11], CASES[14], CASES[19], CASES[22]])
def test_float64_parameters_stay_float64_and_match_tightly(name, options):
    _run_both(name, options, dtype=np.float64, steps=10, tol=(1e-12, 1e-13))


@pytest.mark.parametrize("name, options", [CASES[6], CASES[11], CASES[19], CASES[22]])
def test_a_steady_step_allocates_nothing_parameter_sized(name, options):
    big = [gn.tensor(np.ones((256, 256), np.float32), requires_grad=True)]
    opt = getattr(optim, name)(big, **options)
    big[0].grad = gn.tensor(np.full((256, 256), 0.5, np.float32))
    opt.step()                              # the first step allocates state and scratch
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < big[0]._array.nbytes / 4, f"{name} allocated {peak} bytes in a step"


def test_param_groups_with_their_own_options():
    ours, theirs = _pair()
    for name, extra in [("SGD", {"momentum": 0.5}), ("Adam", {"betas": (0.5, 0.9)})]:
        o_opt = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5,
                                                              **extra}], lr=0.1)
        t_opt = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2:],
                                                                      "lr": 0.5, **extra}], lr=0.1)
        for grads in _grads(5):
            _step(o_opt, ours, grads, gn)
            _step(t_opt, theirs, grads, torch)
        _assert_same(ours, theirs)
        assert o_opt.param_groups[1]["lr"] == 0.5 and o_opt.param_groups[0]["lr"] == 0.1
        assert [g["params"] for g in o_opt.state_dict()["param_groups"]] == [[0, 1], [2]]


def test_add_param_group_fills_defaults():
    ours, _ = _pair()
    opt = optim.Adam(ours[:1], lr=0.01, amsgrad=True)
    opt.add_param_group({"params": ours[1:], "lr": 0.5})
    group = opt.param_groups[1]
    assert group["lr"] == 0.5 and group["amsgrad"] is True and group["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("name, options", [CASES[2], CASES[3], CASES[11], CASES[14], CASES[19],
                                           CASES[21]])
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_round_trip_continues_exactly(name, options, through_file, tmp_path):
    grads = _grads(10)
    straight, _ = _pair()
    opt = getattr(optim, name)(straight, **options)
    for g in grads:
        _step(opt, straight, g, gn)
    resumed, _ = _pair()
    first = getattr(optim, name)(resumed, **options)
    for g in grads[:5]:
        _step(first, resumed, g, gn)
    state = first.state_dict()
    if through_file:
        gn.save(state, tmp_path / "opt.gn")
        state = gn.load(tmp_path / "opt.gn")
    second = getattr(optim, name)(resumed, lr=123.0)    # options come from the state dict
    second.load_state_dict(state)
    assert second.param_groups[0]["lr"] == options["lr"]
    for g in grads[5:]:
        _step(second, resumed, g, gn)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a._array, b._array)


def test_load_state_dict_copies_and_casts():
    ours, _ = _pair()
    first = optim.SGD(ours, lr=0.1, momentum=0.9)
    _step(first, ours, _grads(1)[0], gn)
    state = first.state_dict()
    state["state"][0]["momentum_buffer"] = state["state"][0]["momentum_buffer"].astype(np.float64)
    second = optim.SGD(ours, lr=0.1, momentum=0.9)
    second.load_state_dict(state)
    buf = second.state[ours[0]]["momentum_buffer"]
    assert buf.dtype == np.float32 and buf is not first.state[ours[0]]["momentum_buffer"]


def test_zero_grad_both_ways():
    ours, _ = _pair()
    opt = optim.SGD(ours, lr=0.1)
    for p in ours:
        p.grad = gn.ones(*p.shape)
    kept = ours[0].grad
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad._array.any() for p in ours)
    assert ours[0].grad is kept             # zeroed in place, not replaced
    opt.zero_grad()
    assert all(p.grad is None for p in ours)


def test_closure_runs_with_grad_enabled_and_returns_its_loss():
    ours, theirs = _pair()
    o_opt, t_opt = optim.SGD(ours, lr=0.1, momentum=0.9), torch.optim.SGD(theirs, lr=0.1,
                                                                          momentum=0.9)

    def closure(opt, params):
        def run():
            opt.zero_grad()
            loss = (params[0] * params[0]).sum() + (params[1] * params[1]).sum()
            loss.backward()
            return loss
        return run
    for _ in range(3):
        with gn.no_grad():
            o_loss = o_opt.step(closure(o_opt, ours))
        t_loss = t_opt.step(closure(t_opt, theirs))
        np.testing.assert_allclose(o_loss.item(), t_loss.item(), rtol=1e-6)
    _assert_same(ours, theirs)
    assert ours[2].grad is None and np.array_equal(ours[2]._array, _pair()[0][2]._array)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_each_optimizer_fits_a_logistic_regression(name):
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal((200, 2)).astype(np.float32))
    y = gn.tensor((x._array @ np.array([2.0, -3.0]) + 0.5 > 0).astype(np.float32))
    w = gn.zeros(2, requires_grad=True)
    b = gn.zeros(1, requires_grad=True)
    lr = {"SGD": 0.5, "Adagrad": 0.5}.get(name, 0.05)
    opt = getattr(optim, name)([w, b], lr=lr)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = gn.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0] and w.dtype == gn.float32


ERRORS = [
    (lambda ps: optim.SGD(ps, lr=-1), "SGD: parameter group 0: invalid learning rate -1"),
    (lambda ps: optim.SGD(ps, momentum=-0.5), "invalid momentum -0.5"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum needs momentum > 0"),
    (lambda ps: optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": -2}], lr=0.1),
     "SGD: parameter group 1: invalid learning rate -2"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), r"Adam: parameter group 0: invalid betas \(1.0"),
    (lambda ps: optim.AdamW(ps, eps=-1e-8), "AdamW: parameter group 0: invalid eps"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.1), "RMSprop: parameter group 0: invalid alpha"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Adagrad: parameter group 0: invalid lr_decay"),
    (lambda ps: optim.Adam(ps, weight_decay=-1), "invalid weight_decay -1"),
    (lambda ps: optim.SGD([{"params": ps}, {"params": ps[:1]}], lr=0.1),
     "more than one parameter group"),
    (lambda ps: optim.SGD(ps + ps[:1], lr=0.1), "more than one parameter group"),
    (lambda ps: optim.Adam([]), "empty parameter list"),
    (lambda ps: optim.Adam([gn.ones(3)]), r"parameter 0 \(shape \(3,\)\) does not require grad"),
    (lambda ps: optim.Adam([ps[0] * 2]), "not a leaf"),
]


@pytest.mark.parametrize("make, message", ERRORS)
def test_bad_arguments_raise_value_error(make, message):
    ours, _ = _pair()
    with pytest.raises(ValueError, match=message):
        make(ours)


def test_bad_types_raise_type_error():
    ours, _ = _pair()
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(ours[0], lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD(set(ours), lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a list"):
        optim.SGD([ours[0], [1.0]], lr=0.1)


def test_load_state_dict_mismatches_name_group_and_parameter():
    ours, _ = _pair()
    opt = optim.Adam(ours)
    with pytest.raises(ValueError, match="Adam.load_state_dict: group 0 has 2 parameters in the "
                                         "state dict, 3 in"):
        opt.load_state_dict(optim.Adam(ours[:2]).state_dict())
    with pytest.raises(ValueError, match="state dict has 2 parameter groups, the optimizer 1"):
        opt.load_state_dict(optim.Adam([{"params": ours[:2]}, {"params": ours[2:]}]).state_dict())
    other = [gn.zeros(4, 3, requires_grad=True), gn.zeros(5, requires_grad=True),
             gn.zeros(2, 2, 2, requires_grad=True)]
    donor = optim.Adam(other)
    for p in other:
        p.grad = gn.ones(*p.shape)
    donor.step()
    with pytest.raises(ValueError, match=r"group 0, parameter 1, state 'exp_avg' has shape "
                                         r"\(5,\), but the parameter has shape \(3,\)"):
        opt.load_state_dict(donor.state_dict())


def test_grad_of_the_wrong_shape_is_reported():
    ours, _ = _pair()
    opt = optim.SGD(ours, lr=0.1)
    ours[2].grad = gn.ones(8)
    with pytest.raises(ValueError, match=r"SGD.step: parameter 2 of group 0 has shape "
                                         r"\(2, 2, 2\) but its grad has shape \(8,\)"):
        opt.step()
