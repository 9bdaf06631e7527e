"""batch_norm, layer_norm, local_response_norm and embedding against PyTorch, and finite
differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
import glassnet.nn.functional as F
from parity import check_op, gradcheck_op

# every test here runs with the compiled loops (batch_norm) and with NumPy's
pytestmark = pytest.mark.usefixtures("kernels")


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 5, 6), (2, 6, 1, 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    c = shape[1]
    rng = np.random.default_rng(1)
    rm, rv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    t_rm, t_rv, g_rm, g_rv = torch.tensor(rm), torch.tensor(rv), gn.tensor(rm), gn.tensor(rv)
    shapes = [shape] + ([(c,), (c,)] if affine else [])
    check_op(shapes, lambda x, *wb: TF.batch_norm(x, t_rm, t_rv, *wb, training=True, momentum=0.2),
             lambda x, *wb: F.batch_norm(x, g_rm, g_rv, *wb, training=True, momentum=0.2),
             atol=1e-4, grad_atol=1e-4)
    np.testing.assert_allclose(g_rm._array, t_rm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_rv._array, t_rv.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 6)])
def test_batch_norm_eval_uses_running_statistics(shape):
    c = shape[1]
    rm = np.linspace(-1, 1, c).astype(np.float32)
    rv = np.linspace(0.5, 2, c).astype(np.float32)
    check_op([shape, (c,), (c,)],
             lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b),
             lambda x, w, b: F.batch_norm(x, gn.tensor(rm), gn.tensor(rv), w, b))


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)),
                                               ((3, 5), (3, 5)), ((2, 3, 1), (3, 1))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, normalized, affine):
    shapes = [shape] + ([normalized, normalized] if affine else [])
    check_op(shapes, lambda x, *wb: TF.layer_norm(x, normalized, *wb),
             lambda x, *wb: F.layer_norm(x, normalized, *wb), atol=1e-4, grad_atol=1e-4)


def test_gradchecks():
    rm, rv = gn.zeros(3, dtype=gn.float64), gn.ones(3, dtype=gn.float64)
    gradcheck_op([(5, 3, 2), (3,), (3,)], lambda x, w, b: F.batch_norm(x, None, None, w, b, True))
    gradcheck_op([(5, 3), (3,), (3,)], lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False))
    gradcheck_op([(2, 3, 4), (3, 4), (3, 4)], lambda x, w, b: F.layer_norm(x, (3, 4), w, b))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_with_repeated_indices(padding_idx):
    idx = np.array([[0, 2, 2], [4, 0, 2]])
    check_op([(5, 3)], lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=padding_idx),
             lambda w: F.embedding(gn.tensor(idx), w, padding_idx=padding_idx))
    if padding_idx is None:  # the padding row's gradient is zero by definition, not by calculus
        gradcheck_op([(5, 3)], lambda w: F.embedding(gn.tensor(idx), w))


def test_errors():
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel"):
        F.batch_norm(gn.ones(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) does not match"):
        F.layer_norm(gn.ones(2, 3), (4,))
    with pytest.raises(IndexError, match="embedding: index 7 is out of range for 5"):
        F.embedding(gn.tensor([1, 7]), gn.ones(5, 2))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 9])
@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 7, 3, 4), (1, 4, 2, 3, 2)])
def test_local_response_norm(shape, size):
    check_op([shape], lambda x: TF.local_response_norm(x, size, alpha=0.5, beta=0.75, k=2.0),
             lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=2.0),
             rtol=1e-4, atol=1e-5, grad_atol=1e-5)


def test_local_response_norm_module_with_alexnets_settings():
    x = np.random.default_rng(3).uniform(-3, 3, (2, 96, 5, 5)).astype(np.float32)
    ours = gn.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)
    theirs = torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)
    np.testing.assert_allclose(ours(gn.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("size", [2, 3])
def test_local_response_norm_gradcheck(size):
    gradcheck_op([(2, 5, 3)], lambda x: F.local_response_norm(x, size, alpha=0.9, beta=0.6, k=1.5))


def test_local_response_norm_needs_channels():
    with pytest.raises(ValueError, match=r"local_response_norm: expected an input of at least "
                                         r"3 dims \(N, C, \.\.\.\), got shape \(4, 5\)"):
        F.local_response_norm(gn.ones(4, 5), 3)
