"""Training resumes exactly from a checkpoint of model, optimizer, scheduler and RNG."""
import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F


def _setup():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
                          nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    opt = gn.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    sched = gn.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return model, opt, sched


def _train(model, opt, sched, steps, data):
    losses = []
    for x, y in data[:steps]:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(1)
    data = [(gn.tensor(rng.standard_normal((8, 1, 8, 8))), gn.tensor(rng.integers(0, 3, 8)))
            for _ in range(10)]
    straight = _train(*_setup(), 10, data)

    model, opt, sched = _setup()
    first = _train(model, opt, sched, 5, data)
    gn.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "rng": gn.get_rng_state()}, tmp_path / "run.gn")

    gn.manual_seed(123)           # a different process would start elsewhere
    model, opt, sched = _setup()
    ckpt = gn.load(tmp_path / "run.gn")
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    gn.set_rng_state(ckpt["rng"])
    second = _train(model, opt, sched, 10, data[5:])
    assert first + second == straight
