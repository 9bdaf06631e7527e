"""The parity harness: run one expression in glassnet and in PyTorch on the same
data and compare the forward value and the gradient of every input.

    check_op([(4, 5), (5,)], lambda x, y: x * y)                 # same code in both
    check_op([(2, 3, 8, 8), (4, 3, 3, 3)],
             lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
             lambda x, w: F.conv2d(x, w, padding=1))            # each framework's spelling

Inputs are drawn uniformly from [low, high) with a seeded generator (or given
as arrays in `values`). The output's gradient is a random array, not ones, so
that a backward that mixes up positions cannot pass by symmetry.
"""
import numpy as np
import torch

import glassnet as gn

torch.set_num_threads(2)


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t._array


def make_inputs(shapes, values=None, low=-2.0, high=2.0, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    if values is not None:
        return [np.asarray(v) for v in values]
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def check_op(shapes, torch_fn, gn_fn=None, *, values=None, low=-2.0, high=2.0, seed=0,
             rtol=1e-4, atol=1e-5, grad_rtol=None, grad_atol=None, forward_only=False,
             requires_grad=None):
    """Assert that glassnet and PyTorch agree on the value and every input gradient."""
    gn_fn = gn_fn or torch_fn
    arrays = make_inputs(shapes, values, low, high, seed)
    if requires_grad is None:
        requires_grad = [a.dtype.kind == "f" and not forward_only for a in arrays]
    t_in = [torch.tensor(a, requires_grad=rg) for a, rg in zip(arrays, requires_grad)]
    g_in = [gn.tensor(a, dtype=a.dtype, requires_grad=rg) for a, rg in zip(arrays, requires_grad)]

    t_out, g_out = _as_tuple(torch_fn(*t_in)), _as_tuple(gn_fn(*g_in))
    assert len(t_out) == len(g_out), f"{len(g_out)} outputs, PyTorch gives {len(t_out)}"
    for k, (t, g) in enumerate(zip(t_out, g_out)):
        assert isinstance(g, gn.Tensor), f"output {k} is a {type(g).__name__}, not a Tensor"
        expected = _to_numpy(t)
        assert g.shape == expected.shape, f"output {k}: shape {g.shape}, PyTorch {expected.shape}"
        assert g.dtype == expected.dtype, f"output {k}: dtype {g.dtype}, PyTorch {expected.dtype}"
        np.testing.assert_allclose(g._array, expected, rtol=rtol, atol=atol,
                                   err_msg=f"forward value of output {k}")
    if forward_only or not any(requires_grad):
        return g_out

    rng = np.random.default_rng(seed + 1)
    t_total = g_total = None
    for t, g in zip(t_out, g_out):
        if not (isinstance(t, torch.Tensor) and t.requires_grad):
            continue
        assert g.requires_grad, "glassnet output does not require grad, PyTorch's does"
        w = rng.standard_normal(g.shape).astype(g.dtype)
        t_term, g_term = (t * torch.tensor(w)).sum(), (g * gn.tensor(w, dtype=w.dtype)).sum()
        t_total = t_term if t_total is None else t_total + t_term
        g_total = g_term if g_total is None else g_total + g_term
    if t_total is None:
        return g_out
    t_total.backward()
    g_total.backward()
    for i, (t, g) in enumerate(zip(t_in, g_in)):
        if not requires_grad[i]:
            continue
        expected = np.zeros(t.shape, np.float32) if t.grad is None else t.grad.numpy()
        got = np.zeros(g.shape, np.float32) if g.grad is None else g.grad._array
        assert got.shape == expected.shape, f"grad of input {i}: shape {got.shape}"
        np.testing.assert_allclose(got, expected, rtol=grad_rtol or rtol, atol=grad_atol or atol,
                                   err_msg=f"gradient of input {i}")
    return g_out


def gradcheck_op(shapes, fn, *, values=None, low=-2.0, high=2.0, seed=0, **tolerances):
    """Finite-difference check of `fn` in float64, independent of PyTorch."""
    arrays = make_inputs(shapes, values, low, high, seed, dtype=np.float64)
    inputs = [gn.tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert gn.autograd.gradcheck(fn, inputs, **tolerances)
