"""Gradient clipping and the L1 penalty against PyTorch."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.nn import utils


def _pairs(seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (3,), (2, 2, 2)]]
    grads = [scale * rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
    ours = [gn.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = gn.tensor(g), torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0),
                                                 (2.0, float("inf")), (1.0, 3.0)])
def test_clip_grad_norm_matches_pytorch(max_norm, norm_type):
    ours, theirs = _pairs()
    n_ours = utils.clip_grad_norm_(ours, max_norm, norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-5)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad._array, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_nonfinite():
    ours, _ = _pairs()
    ours[0].grad._array[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_pytorch():
    ours, theirs = _pairs()
    utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad._array, t.grad.numpy())


def test_l1_penalty_value_and_gradient():
    ours, theirs = _pairs()
    for p in ours:
        p.grad = None
    penalty = utils.l1_penalty(ours)
    expected = sum(t.detach().abs().sum().item() for t in theirs)
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-6)
    penalty.backward()
    for p in ours:
        np.testing.assert_array_equal(p.grad._array, np.sign(p._array))
