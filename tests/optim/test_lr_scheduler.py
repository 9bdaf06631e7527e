"""Learning-rate schedules against torch.optim.lr_scheduler, step by step."""

import pytest
import torch

import glassnet as gn
import glassnet.optim as optim
from glassnet.optim import lr_scheduler as S

pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")  # torch: sched before opt


def _opts(name="SGD", groups=1, **kw):
    """The same optimizer in both frameworks; group k has lr * (k + 1)."""
    lr = kw.pop("lr", 0.1)
    ours = [gn.ones(2, requires_grad=True) for _ in range(groups)]
    theirs = [torch.ones(2, requires_grad=True) for _ in range(groups)]
    return (getattr(optim, name)([{"params": [p], "lr": lr * (k + 1)}
                                  for k, p in enumerate(ours)], **kw),
            getattr(torch.optim, name)([{"params": [p], "lr": lr * (k + 1)}
                                        for k, p in enumerate(theirs)], **kw))


SCHEDULES = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 8], gamma=0.3)),
    ("MultiStepLR", dict(milestones=[10, 2], gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=31)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=11, anneal_strategy="linear",
                        pct_start=0.4)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31, three_phase=True, div_factor=10)),
    ("OneCycleLR", dict(max_lr=[0.5, 2.0], total_steps=31, base_momentum=[0.8, 0.7],
                        max_momentum=0.9, final_div_factor=100)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=31, cycle_momentum=False)),
]
OPTIMIZERS = [("SGD", dict(momentum=0.9)), ("Adam", {})]


def _pair_of_schedules(name, kw, opt, groups=2):
    ours, theirs = _opts(opt[0], groups=groups, **opt[1])
    return (ours, getattr(S, name)(ours, **kw),
            theirs, getattr(torch.optim.lr_scheduler, name)(theirs, **kw))


def _assert_groups_match(ours, theirs):
    for og, tg in zip(ours.param_groups, theirs.param_groups):
        assert og["lr"] == pytest.approx(tg["lr"], rel=1e-9, abs=1e-15)
        for key in ("momentum", "betas"):
            if key in tg:
                assert og[key] == pytest.approx(tg[key], rel=1e-9)


@pytest.mark.parametrize("name, kw", SCHEDULES)
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_schedule_matches_pytorch(name, kw, opt):
    ours, o_s, theirs, t_s = _pair_of_schedules(name, kw, opt)
    for _ in range(30):
        assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-9, abs=1e-15)
        _assert_groups_match(ours, theirs)
        for o in (ours, theirs, o_s, t_s):
            o.step()
    assert o_s.last_epoch == t_s.last_epoch == 30


@pytest.mark.parametrize("name, kw", [SCHEDULES[0], SCHEDULES[5], SCHEDULES[9], SCHEDULES[10]])
def test_state_dict_round_trip_continues_the_schedule(name, kw):
    ours, o_s, theirs, t_s = _pair_of_schedules(name, kw, OPTIMIZERS[0])
    for _ in range(12):
        for o in (ours, theirs, o_s, t_s):
            o.step()
    opt_state, sched_state = ours.state_dict(), o_s.state_dict()
    fresh, _ = _opts("SGD", groups=2, momentum=0.9)
    fresh.load_state_dict(opt_state)
    restored = getattr(S, name)(fresh, **kw)
    restored.load_state_dict(sched_state)
    assert restored.last_epoch == 12 and restored.get_last_lr() == o_s.get_last_lr()
    for _ in range(15):
        restored.step()
        t_s.step()
        _assert_groups_match(fresh, theirs)


def test_lambda_lr_per_group_functions_are_not_in_the_state_dict():
    ours, o_s, theirs, t_s = _pair_of_schedules(
        "LambdaLR", dict(lr_lambda=[lambda e: 0.95 ** e, lambda e: 1.0 / (e + 1)]), OPTIMIZERS[0])
    for _ in range(5):
        o_s.step()
        t_s.step()
    assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr())
    state = o_s.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 5
    with pytest.raises(ValueError, match="LambdaLR: expected 2 lr_lambdas"):
        S.LambdaLR(ours, [lambda e: 1.0])


def test_resuming_with_last_epoch_needs_initial_lr():
    ours, _ = _opts()
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(ours, step_size=2, last_epoch=4)
    ours.param_groups[0]["initial_lr"] = 0.2
    s = S.StepLR(ours, step_size=2, gamma=0.5, last_epoch=4)
    assert s.last_epoch == 5 and s.get_last_lr() == pytest.approx([0.2 * 0.5 ** 2])


PLATEAU = [dict(patience=2, factor=0.5), dict(patience=1, cooldown=2, min_lr=0.02),
           dict(mode="max", patience=1, threshold_mode="abs", threshold=0.05),
           dict(mode="max", patience=0, threshold=0.1, min_lr=[0.0, 0.05]),
           dict(patience=0, factor=0.5, eps=0.02)]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_on_plateau_matches_pytorch(kw):
    metrics = [1.0, 0.9, 0.91, 0.92, 0.93, 0.89, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.6, 0.7,
               0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 0.1, 0.1, 0.1]
    ours, theirs = _opts(groups=2)
    o_s = S.ReduceLROnPlateau(ours, **kw)
    t_s = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kw)
    for k, m in enumerate(metrics):
        o_s.step(gn.tensor(m) if k % 2 else m)        # a 0-d tensor works too
        t_s.step(m)
        _assert_groups_match(ours, theirs)
        assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr())
        assert (o_s.num_bad_epochs, o_s.cooldown_counter) == (t_s.num_bad_epochs,
                                                             t_s.cooldown_counter)
        if k == 9:                                     # resume half way from a state dict
            fresh, _ = _opts(groups=2)
            fresh.load_state_dict(ours.state_dict())
            state, ours = o_s.state_dict(), fresh
            o_s = S.ReduceLROnPlateau(ours, **kw)
            o_s.load_state_dict(state)


def test_scheduler_errors():
    ours, _ = _opts(momentum=0.9)
    s = S.OneCycleLR(ours, max_lr=1.0, total_steps=3)
    for _ in range(3):          # PyTorch too allows last_epoch == total_steps
        s.step()
    with pytest.raises(ValueError, match="more than total_steps"):
        s.step()
    with pytest.raises(ValueError, match="give total_steps, or epochs and steps_per_epoch"):
        S.OneCycleLR(ours, max_lr=1.0)
    with pytest.raises(ValueError, match="expected 1 max_lr values"):
        S.OneCycleLR(ours, max_lr=[1.0, 2.0], total_steps=5)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        S.OneCycleLR(ours, max_lr=1.0, total_steps=5, anneal_strategy="step")
    plain, _ = _opts("Adagrad")
    with pytest.raises(ValueError, match="Adagrad has no momentum or betas to cycle"):
        S.OneCycleLR(plain, max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        S.ReduceLROnPlateau(ours, factor=1.5)
    with pytest.raises(ValueError, match="expected 1 min_lr values"):
        S.ReduceLROnPlateau(ours, min_lr=[0.1, 0.2])
