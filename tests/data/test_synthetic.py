"""The generated data sets: separable blobs and sine -> cosine sequences."""
import numpy as np
import pytest

from glassnet.data import Blobs, DataLoader, Sine


def _separable(x, y, a, b):
    """Do the points of classes a and b fall on opposite sides of their centres' bisector?"""
    ca, cb = x[y == a].mean(0), x[y == b].mean(0)
    w, c = cb - ca, (ca + cb) / 2
    side = (x - c) @ w
    return (side[y == a] < 0).all() and (side[y == b] > 0).all()


def test_blobs_defaults_are_two_separable_classes():
    ds = Blobs()
    assert len(ds) == 200 and ds.input_shape == (2,) and ds.num_classes == 2
    x, y = ds.get_batch(np.arange(len(ds)))
    assert x.dtype == np.float32 and y.dtype == np.int64 and np.bincount(y).tolist() == [100, 100]
    assert _separable(x, y, 0, 1)
    point, label = ds[0]
    assert point.shape == (2,) and label in (0, 1)
    # the perceptron rule converges on separable data: a few epochs reach zero errors
    w, b = np.zeros(2), 0.0
    for _ in range(20):
        errors = 0
        for xi, yi in zip(x, 2 * y - 1):
            if yi * (xi @ w + b) <= 0:
                w, b, errors = w + yi * xi, b + yi, errors + 1
        if errors == 0:
            break
    assert errors == 0


def test_blobs_splits_are_reproducible_and_disjoint():
    train, again, test = Blobs(seed=3), Blobs(seed=3), Blobs(seed=3, train=False, n=50)
    np.testing.assert_array_equal(train.inputs, again.inputs)
    np.testing.assert_array_equal(train.centers, test.centers)        # same problem
    assert not np.isin(test.inputs, train.inputs).any()               # different points
    assert _separable(np.concatenate([train.inputs, test.inputs]),
                      np.concatenate([train.targets, test.targets]), 0, 1)
    assert not np.array_equal(Blobs(seed=4).inputs, train.inputs)


@pytest.mark.parametrize("centers,dim", [(3, 2), (4, 5), (3, 1)])
def test_more_centres_and_dimensions_stay_pairwise_separable(centers, dim):
    ds = Blobs(n=300, centers=centers, dim=dim, spread=1.0, seed=1)
    assert ds.inputs.shape == (300, dim) and ds.num_classes == centers
    for a in range(centers):
        for b in range(a + 1, centers):
            assert _separable(ds.inputs, ds.targets, a, b)


def test_blobs_argument_errors():
    with pytest.raises(ValueError, match="centers >= 2"):
        Blobs(centers=1)
    with pytest.raises(ValueError, match="spread and separation must be > 0"):
        Blobs(spread=0)
    with pytest.raises(ValueError, match="spread 50 is too large"):
        Blobs(spread=50, dim=20)


def test_sine_pairs_sin_with_cos():
    ds = Sine()
    x, y = ds[0]
    assert x.shape == y.shape == (50, 1) and x.dtype == y.dtype == np.float32
    assert ds.input_shape == (50, 1) and ds.num_classes is None and ds.task == "regression"
    t = ds.phases[0] + 0.1 * np.arange(50)
    np.testing.assert_allclose(x[:, 0], np.sin(t), atol=1e-6)
    np.testing.assert_allclose(y[:, 0], np.cos(t), atol=1e-6)
    np.testing.assert_allclose(x ** 2 + y ** 2, 1, atol=1e-5)
    batch = next(iter(DataLoader(ds, batch_size=32)))
    assert batch[0].shape == (32, 50, 1) and batch[1].shape == (32, 50, 1)


def test_sine_splits_and_options():
    train, test = Sine(64, 20, seed=2), Sine(64, 20, train=False, seed=2)
    assert not np.isin(test.phases, train.phases).any()
    np.testing.assert_array_equal(Sine(64, 20, seed=2).inputs, train.inputs)
    assert 0 <= train.phases.min() and train.phases.max() < 2 * np.pi
    fine = Sine(4, 10, step=0.01)
    assert np.abs(np.diff(fine.inputs[:, :, 0], axis=1)).max() <= 0.01
    with pytest.raises(ValueError, match="seq_len >= 1"):
        Sine(seq_len=0)
