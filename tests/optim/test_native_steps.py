"""Adam's and RMSprop's compiled steps (native_loops.h) give the same bits as their NumPy
passes, for every option, both float types, and arrays big enough to be split over
threads."""
import numpy as np
import pytest

import glassnet as gn
from glassnet._kernels import native

needs_lib = pytest.mark.skipif(native.LIB is None, reason="compiled loops not built")


def _steps(monkeypatch, lib, cls, dtype, size, **options):
    monkeypatch.setattr(native, "LIB", lib)
    w = gn.tensor(np.random.default_rng(1).standard_normal(size).astype(dtype),
                  requires_grad=True)
    opt = cls([w], lr=0.01, **options)
    rng = np.random.default_rng(2)
    for _ in range(4):
        w.grad = gn.tensor(rng.standard_normal(size).astype(dtype))
        w.grad._array[:3] = [0, np.inf, np.nan] if size > 3 else w.grad._array[:3]
        opt.step()
    return w.detach().numpy().copy(), opt.state_dict()


@needs_lib
@pytest.mark.filterwarnings("ignore:invalid value")     # NumPy's note on the inf/NaN grads
@pytest.mark.parametrize("cls", [gn.optim.Adam, gn.optim.AdamW])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, dict(amsgrad=True), dict(weight_decay=0.1),
                                     dict(maximize=True, weight_decay=0.01)])
@pytest.mark.parametrize("size", [7, 300_000])
def test_compiled_adam_step_matches_numpy_bit_for_bit(monkeypatch, cls, dtype, options, size):
    lib = native.LIB
    w_c, state_c = _steps(monkeypatch, lib, cls, dtype, size, **options)
    w_np, state_np = _steps(monkeypatch, None, cls, dtype, size, **options)
    np.testing.assert_array_equal(w_c, w_np)
    for key, value in state_np["state"][0].items():
        np.testing.assert_array_equal(state_c["state"][0][key], value)


@needs_lib
@pytest.mark.filterwarnings("ignore:invalid value")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, dict(momentum=0.9), dict(eps_inside=True, eps=1e-7),
                                     dict(eps_inside=True, momentum=0.5, weight_decay=0.1),
                                     dict(maximize=True, alpha=0.9),
                                     dict(centered=True, momentum=0.9)])   # NumPy both ways
@pytest.mark.parametrize("size", [7, 300_000])
def test_compiled_rmsprop_step_matches_numpy_bit_for_bit(monkeypatch, dtype, options, size):
    lib = native.LIB
    w_c, state_c = _steps(monkeypatch, lib, gn.optim.RMSprop, dtype, size, **options)
    w_np, state_np = _steps(monkeypatch, None, gn.optim.RMSprop, dtype, size, **options)
    np.testing.assert_array_equal(w_c, w_np)
    for key, value in state_np["state"][0].items():
        np.testing.assert_array_equal(state_c["state"][0][key], value)


@needs_lib
def test_compiled_rmsprop_step_is_taken(monkeypatch):
    """The fused loop really runs for a plain float32 weight (else the test above compares
    NumPy with itself)."""
    calls = []
    monkeypatch.setattr(native, "rmsprop", lambda *a: calls.append(a))
    w = gn.tensor(np.ones(5, np.float32), requires_grad=True)
    w.grad = gn.tensor(np.ones(5, np.float32))
    gn.optim.RMSprop([w]).step()
    assert len(calls) == 1
