"""Graphs are freed: thousands of training steps do not grow the process's memory."""
import gc
import sys
import weakref

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _make_step(seed=0):
    rng = np.random.default_rng(seed)
    params = [gn.tensor(rng.normal(0, 0.3, s), requires_grad=True)
              for s in [(4, 1, 3, 3), (4,), (10, 144), (10,)]]
    x = gn.tensor(rng.normal(size=(8, 1, 12, 12)))
    y = gn.tensor(rng.integers(0, 10, 8))

    def step():
        w1, b1, w2, b2 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.dropout(h, 0.1)
        loss = F.cross_entropy(F.linear(h.flatten(1), w2, b2), y)
        loss.backward()
        with gn.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
        return loss
    return step


def test_a_step_leaves_no_graph_behind():
    step = _make_step()
    loss = step()
    node = weakref.ref(loss.grad_fn)
    del loss
    gc.collect()
    assert node() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_two_thousand_steps_do_not_grow_memory():
    step = _make_step()
    for _ in range(200):  # warm up NumPy's and the allocator's caches
        step()
    gc.collect()
    before = _rss_bytes()
    for _ in range(2000):
        loss = step()
    gc.collect()
    grown = _rss_bytes() - before
    assert np.isfinite(loss.item())
    assert grown < 8 * 2**20, f"memory grew by {grown / 2**20:.1f} MiB over 2000 steps"


def test_allocator_tuning_respects_the_user(monkeypatch):
    from glassnet._kernels import allocator
    monkeypatch.setenv("GLASSNET_MALLOC", "0")
    assert allocator.tune_malloc() is False
    monkeypatch.delenv("GLASSNET_MALLOC")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert allocator.tune_malloc() is False
