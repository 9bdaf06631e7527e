"""The Tensor itself and the factories: dtypes, conversion, metadata, seeding."""
import numpy as np
import pytest
import torch

import glassnet as gn


def test_default_dtypes_follow_pytorch():
    assert gn.tensor([1.0, 2.0]).dtype == gn.float32
    assert gn.tensor(np.zeros(3)).dtype == gn.float32  # float64 data defaults to float32
    assert gn.tensor([1, 2]).dtype == gn.int64
    assert gn.tensor([True, False]).dtype == gn.bool
    assert gn.tensor([1, 2], dtype=gn.float64).dtype == gn.float64
    assert gn.from_numpy(np.zeros(3)).dtype == gn.float64


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3, np.float32)
    t, s = gn.tensor(a), gn.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 0 and s[0].item() == 5


def test_metadata_and_conversion():
    x = gn.arange(6).reshape(2, 3)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(-1) == 3
    assert x.numel() == 6 and len(x) == 2 and x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x.T.shape == (3, 2) and gn.tensor(3.5).item() == 3.5 and float(gn.tensor([2.0])) == 2.0
    with pytest.raises(ValueError, match="item: only a one-element tensor"):
        x.item()
    with pytest.raises(ValueError, match="size: dim 2 is out of range"):
        x.size(2)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        gn.ones(2, requires_grad=True).numpy()


def test_repr_shows_grad_state():
    assert "requires_grad=True" in repr(gn.ones(2, requires_grad=True))
    assert "grad_fn=<Mul>" in repr(gn.ones(2, requires_grad=True) * 2)
    assert "dtype=float64" in repr(gn.ones(2, dtype=gn.float64))


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(2, 3), lambda m: m.zeros((2, 3)), lambda m: m.ones(4), lambda m: m.full((2, 2), 7.0),
    lambda m: m.full((2,), 3), lambda m: m.arange(5), lambda m: m.arange(1, 4, 0.5),
    lambda m: m.arange(10, 0, -3), lambda m: m.linspace(0, 1, 5), lambda m: m.eye(3),
    lambda m: m.eye(2, 4), lambda m: m.zeros_like(m.ones(2, 2)), lambda m: m.ones_like(m.zeros(3)),
    lambda m: m.full_like(m.zeros(2), 4.0), lambda m: m.empty(2, 3).shape,
])
def test_factories_match_pytorch(make):
    ours, theirs = make(gn), make(torch)
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs)
        return
    expected = theirs.numpy()
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6)


def test_random_factories_are_seeded_and_shaped():
    gn.manual_seed(7)
    a = (gn.rand(3, 4), gn.randn(3, 4), gn.randint(0, 10, (5,)), gn.randperm(6))
    gn.manual_seed(7)
    b = (gn.rand(3, 4), gn.randn(3, 4), gn.randint(0, 10, (5,)), gn.randperm(6))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert a[0].dtype == gn.float32 and a[2].dtype == gn.int64
    assert 0 <= a[0].numpy().min() and a[0].numpy().max() < 1
    assert gn.randint(5, size=(100,)).numpy().max() < 5
    big = gn.randn(100000).numpy()
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02
    assert gn.rand(2, 2, requires_grad=True).requires_grad


def test_setitem_on_plain_tensor():
    x = gn.zeros(3, 4)
    x[1] = 5
    x[:, 0] = gn.tensor([1.0, 2.0, 3.0])
    assert x.tolist()[1] == [2, 5, 5, 5] and x.tolist()[2][0] == 3


def test_casts():
    x = gn.tensor([1.7, -2.2], requires_grad=True)
    assert x.long().tolist() == [1, -2] and x.double().dtype == gn.float64
    y = x.double() * 2
    y.sum().backward()
    assert x.grad.dtype == gn.float32 and x.grad.tolist() == [2.0, 2.0]
