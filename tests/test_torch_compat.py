"""PyTorch's conventions that tutorials rely on: `.data` as a Tensor, `Variable`, devices.
Each behaviour is checked side by side with torch."""
import warnings

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.autograd import Variable


# ------------------------------------------------------------------------------ .data

def test_data_is_a_tensor_sharing_memory_without_history():
    for lib in (gn, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        d = y.data
        assert isinstance(d, lib.Tensor) and not d.requires_grad and d.grad_fn is None
        d.mul_(5)                                    # changes y, as in PyTorch
        assert y.detach().numpy().tolist() == [10.0, 10.0, 10.0]


def test_data_of_a_parameter_updates_in_place_with_grad_mode_on():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    theirs.weight.data.copy_(torch.from_numpy(ours.weight.detach().numpy()))
    for m in (ours, theirs):
        m.weight.data.mul_(0.5)
        m.weight.data -= 0.25
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


def test_assigning_data_replaces_values_and_may_change_shape():
    for lib, param in ((gn, nn.Parameter), (torch, torch.nn.Parameter)):
        p = param(lib.ones(3))
        new = lib.zeros(2, 5)
        p.data = new
        assert tuple(p.shape) == (2, 5) and p.requires_grad and p.is_leaf
        new[0, 0] = 7.0                              # p shares new's memory
        assert float(p.detach()[0, 0]) == 7.0


def test_assigning_a_non_tensor_to_data_is_refused():
    p = nn.Parameter(gn.ones(3))
    with pytest.raises(TypeError, match="assign a Tensor to .data"):
        p.data = np.zeros(3)
    assert p.shape == (3,)


def test_numpy_refuses_grad_and_shares_memory_otherwise():
    x = gn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    a = x.data.numpy()
    a[0] = 4.0
    assert float(x.detach()[0]) == 4.0


def test_hidden_state_carried_as_data_feeds_the_rnn_again():
    rnn = nn.RNN(1, 4, batch_first=True)
    h = None
    for _ in range(2):
        out, h = rnn(gn.randn(2, 5, 1), h)
        h = h.data                                   # the notes' idiom: cut the history
        assert not h.requires_grad and h.shape == (1, 2, 4)
    out.sum().backward()


# ----------------------------------------------------------------------------- Variable

def test_variable_returns_a_detached_alias_like_torch():
    for lib, var in ((gn, Variable), (torch, torch.autograd.Variable)):
        x = lib.ones(2, requires_grad=True)
        y = x * 3
        v = var(y)
        assert v is not y and not v.requires_grad and v.grad_fn is None
        assert isinstance(y, var) and isinstance(v, lib.Tensor)
        w = var(y, requires_grad=True)
        assert w.requires_grad and w.is_leaf
        v.add_(1)
        assert y.detach().numpy().tolist() == [4.0, 4.0]


def test_variable_refuses_non_tensors_and_warns_on_volatile():
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Variable(gn.ones(1), volatile=True)
    assert any("volatile" in str(w.message) for w in caught)


# ------------------------------------------------------------------------------ devices

def test_device_objects_print_and_compare_like_torch():
    for spec in ("cpu", "cuda", "cuda:1", "mps"):
        ours, theirs = gn.device(spec), torch.device(spec)
        assert (str(ours), repr(ours)) == (str(theirs), repr(theirs))
        assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert gn.device("cuda", 0) == gn.device("cuda:0") != gn.device("cuda")
    assert gn.device(gn.device("cpu")) == gn.device("cpu")
    assert len({gn.device("cpu"), gn.device("cpu")}) == 1


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:-1"])
def test_unknown_device_strings_are_refused(bad):
    with pytest.raises(ValueError, match="device"):
        gn.device(bad)


def test_the_usual_device_idiom_runs_on_the_cpu():
    device = gn.device("cuda" if gn.cuda.is_available() else "cpu")
    assert device == gn.device("cpu") and gn.cuda.device_count() == 0
    model = nn.Linear(4, 2)
    assert model.to(device) is model and model.cpu() is model
    x = gn.randn(3, 4)
    assert x.to(device) is x and x.cpu() is x and x.device == device and not x.is_cuda
    assert model(x.to(device)).shape == (3, 2)


def test_to_accepts_pytorchs_forms():
    x = gn.ones(2, 3)
    assert x.to(gn.float64).dtype == np.float64
    assert x.to("cpu", gn.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=gn.int64).dtype == np.int64
    assert x.to(gn.zeros(1, dtype=gn.float64)).dtype == np.float64
    assert x.to(gn.float32) is x
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy())
    m = nn.Linear(2, 2).to(gn.float64)
    assert m.weight.dtype == np.float64 and m(gn.ones(1, 2, dtype=gn.float64)).dtype == np.float64


@pytest.mark.parametrize("move", [
    lambda: gn.ones(2).cuda(),
    lambda: gn.ones(2).to("cuda"),
    lambda: gn.ones(2).to(gn.device("cuda", 0)),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda:0"),
    lambda: gn.zeros(3, device="cuda"),
    lambda: gn.tensor([1.0], device="mps"),
])
def test_sending_anything_to_cuda_raises_one_clear_error(move):
    with pytest.raises(gn.DeviceError, match="glassnet computes on the CPU"):
        move()


def test_factories_take_a_cpu_device():
    assert gn.zeros(2, device="cpu").shape == (2,)
    assert gn.randn(2, 2, device=gn.device("cpu")).shape == (2, 2)
    assert gn.arange(3, device="cpu").tolist() == [0, 1, 2]
    assert gn.tensor([1, 2], device="cpu").dtype == np.int64


# ------------------------------------------------------------------ legacy tensor types

@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "ByteTensor", "BoolTensor", "ShortTensor", "CharTensor"])
def test_typed_tensor_names_build_and_cast_like_torch(name):
    ours, theirs = getattr(gn, name), getattr(torch, name)
    values = [[1, 0], [3, 2]]
    a, b = ours(values), theirs(values)
    assert a.dtype == b.numpy().dtype and a.tolist() == b.tolist()
    assert ours(2, 3).shape == tuple(theirs(2, 3).shape)
    x = gn.tensor([[1.5, 0.0]])
    assert x.type(ours).dtype == torch.tensor([[1.5, 0.0]]).type(theirs).numpy().dtype
    assert isinstance(a, ours) and not isinstance(a.type(gn.float16), ours)
    assert a.type() == f"glassnet.{name}" and b.type() == f"torch.{name}"
