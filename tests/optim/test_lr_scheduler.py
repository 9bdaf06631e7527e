"""Learning-rate schedules against torch.optim.lr_scheduler, step by step."""
import warnings

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.optim as optim
from glassnet.optim import lr_scheduler as S


def _opts(name="SGD", **kw):
    ours = getattr(optim, name)([gn.ones(2, requires_grad=True)], **kw)
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kw)
    return ours, theirs


SCHEDULES = [
    ("StepLR", dict(step_size=4, gamma=0.5)), ("MultiStepLR", dict(milestones=[3, 7, 8], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=10, anneal_strategy="linear",
                        pct_start=0.4)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30, three_phase=True)),
]


@pytest.mark.parametrize("name, kw", SCHEDULES)
@pytest.mark.parametrize("opt", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1))])
def test_schedule_matches_pytorch(name, kw, opt):
    ours, theirs = _opts(opt[0], **opt[1])
    o_s, t_s = getattr(S, name)(ours, **kw), getattr(torch.optim.lr_scheduler, name)(theirs, **kw)
    steps = 29 if name == "OneCycleLR" else 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns about scheduler.step() before optimizer.step()
        for _ in range(steps):
            assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-9, abs=1e-12)
            og, tg = ours.param_groups[0], theirs.param_groups[0]
            if "momentum" in tg:
                assert og["momentum"] == pytest.approx(tg["momentum"], rel=1e-9)
            if "betas" in tg:
                assert og["betas"] == pytest.approx(tg["betas"], rel=1e-9)
            ours.step()
            theirs.step()
            o_s.step()
            t_s.step()


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_lambda_lr_and_state_round_trip():
    ours, theirs = _opts(lr=0.2)
    o_s = S.LambdaLR(ours, lambda e: 0.95 ** e)
    t_s = torch.optim.lr_scheduler.LambdaLR(theirs, lambda e: 0.95 ** e)
    for _ in range(5):
        o_s.step()
        t_s.step()
    assert o_s.get_last_lr() == pytest.approx(t_s.get_last_lr())
    state = o_s.state_dict()
    fresh_opt, _ = _opts(lr=0.2)
    fresh_opt.param_groups[0]["initial_lr"] = 0.2
    restored = S.StepLR(fresh_opt, step_size=2, gamma=0.5)
    restored.load_state_dict(S.StepLR(ours, step_size=2, gamma=0.5, last_epoch=4).state_dict())
    restored.step()
    assert restored.last_epoch == 6 and restored.get_last_lr() == pytest.approx([0.2 * 0.5 ** 3])
    assert "lr_lambdas" not in state and state["last_epoch"] == 5


def test_reduce_on_plateau_matches_pytorch():
    metrics = [1.0, 0.9, 0.91, 0.92, 0.93, 0.89, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.6, 0.7,
               0.8, 0.9, 1.0, 1.1]
    for kw in [dict(patience=2, factor=0.5), dict(patience=1, cooldown=2, min_lr=0.02),
               dict(mode="max", patience=1, threshold_mode="abs", threshold=0.05)]:
        ours, theirs = _opts(lr=0.1)
        o_s = S.ReduceLROnPlateau(ours, **kw)
        t_s = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kw)
        for m in metrics:
            o_s.step(m)
            t_s.step(m)
            assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"])


def test_one_cycle_refuses_extra_steps():
    ours, _ = _opts(lr=0.1, momentum=0.9)
    s = S.OneCycleLR(ours, max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="more than total_steps"):
        s.step()
