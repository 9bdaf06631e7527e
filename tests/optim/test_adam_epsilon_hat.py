"""Adam(epsilon_hat=True): TensorFlow 1's AdamOptimizer update, eps added to sqrt(v)
before the bias correction, on the compiled path (float32) and the NumPy one (float64)."""
import numpy as np
import pytest

import glassnet as gn


def _tf1_adam(w, grads, lr, b1, b2, eps):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - lr_t * m / (np.sqrt(v) + eps)
    return w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_epsilon_hat_is_tf1s_rule(dtype):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 3))
    grads = [rng.standard_normal((5, 3)) * 1e-3 for _ in range(4)]
    eps = 1e-3        # large, so that where it is added matters
    p = gn.nn.Parameter(gn.from_numpy(w0.astype(dtype)))
    opt = gn.optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=eps, epsilon_hat=True)
    for g in grads:
        p.grad = gn.from_numpy(g.astype(dtype))
        opt.step()
    expected = _tf1_adam(w0, grads, 0.1, 0.8, 0.9, eps)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=2e-5 if dtype == np.float32
                               else 1e-12)
    # and it differs from the default (PyTorch's) rule at this eps
    q = gn.nn.Parameter(gn.from_numpy(w0.astype(dtype)))
    opt = gn.optim.Adam([q], lr=0.1, betas=(0.8, 0.9), eps=eps)
    for g in grads:
        q.grad = gn.from_numpy(g.astype(dtype))
        opt.step()
    assert np.abs(q.detach().numpy() - expected).max() > 1e-4
