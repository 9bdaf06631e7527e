"""Sequential's in-place ReLU without a graph: same values, and hooks see no change."""
import numpy as np

import glassnet as gn


def test_sequential_without_a_graph_rectifies_in_place_with_the_same_values():
    gn.manual_seed(0)
    model = gn.nn.Sequential(gn.nn.Linear(6, 5), gn.nn.ReLU(), gn.nn.Linear(5, 8), gn.nn.ReLU(),
                             gn.nn.Unflatten(1, (1, 8)), gn.nn.Conv1d(1, 2, 3, padding=1),
                             gn.nn.ReLU())
    x = gn.randn(3, 6)
    with_graph = model(x).detach().numpy()
    with gn.no_grad():
        without = model(x).numpy()
    np.testing.assert_array_equal(with_graph, without)
    assert (without >= 0).all() and (without == 0).any()


def test_sequential_in_place_relu_never_changes_what_a_hook_saw():
    gn.manual_seed(0)
    linear = gn.nn.Linear(6, 5)
    model = gn.nn.Sequential(linear, gn.nn.ReLU())
    seen = []
    linear.register_forward_hook(lambda module, args, out: seen.append(out))
    with gn.no_grad():
        y = model(gn.randn(4, 6))
    assert (y.numpy() >= 0).all()
    assert (seen[0].numpy() < 0).any()            # the hooked output was left as it was


def test_fused_linear_and_relu_keep_nan_and_work_without_bias():
    gn.manual_seed(0)
    for bias in (True, False):
        model = gn.nn.Sequential(gn.nn.Linear(4, 300, bias=bias), gn.nn.ReLU())
        x = gn.randn(50, 4)
        x._array[3, 1] = np.nan
        with gn.no_grad():
            fused = model(x).numpy()
        plain = model[1](model[0](x)).detach().numpy()
        np.testing.assert_array_equal(fused, plain)          # NaN rows compare equal too
        assert np.isnan(fused[3]).all() and (fused[~np.isnan(fused)] >= 0).all()
