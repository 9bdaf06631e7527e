"""glassnet.utils.data against torch.utils.data: the DataLoader's options, lengths and
batches, the fast batched path, and the datasets (Subset, ConcatDataset, ChainDataset,
random_split)."""
import gzip
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.utils.data as tdata  # noqa: E402

import glassnet as gn  # noqa: E402
import glassnet.data  # noqa: E402
import glassnet.utils.data as data  # noqa: E402

from ._compare import assert_same, plain, torch_version  # noqa: E402


class Pairs(data.Dataset):
    """(uint8 image, int label) samples, read one by one (no get_batch)."""

    def __init__(self, n=10):
        self.images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], int(i) * 10


class TorchPairs(tdata.Dataset):
    def __init__(self, n=10):
        self.inner = Pairs(n)

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]


class Stream(data.IterableDataset):
    def __init__(self, n):
        self.start, self.end = 0, n

    def __iter__(self):
        return iter(range(self.start, self.end))


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_the_names_are_glassnet_datas():
    from glassnet.utils import data as imported
    assert imported is data
    for name in data.__all__:
        assert getattr(data, name) is getattr(glassnet.data, name), name
        assert hasattr(tdata, name), name         # every name is one of torch's

    class Typed(data.Dataset[int]):               # torch code subscripts the base classes
        pass
    assert issubclass(Typed, data.Dataset) and data.Sampler[int] is not None


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (10, 5, True), (10, 1, False),
                                                      (10, 20, False), (10, 20, True)])
def test_batches_and_len_match_torch(n, batch_size, drop_last):
    ours = data.DataLoader(Pairs(n), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(TorchPairs(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same(list(ours), list(theirs))


def test_unbatched_loading_matches_torch():
    ours = data.DataLoader(Pairs(4), batch_size=None)
    theirs = tdata.DataLoader(TorchPairs(4), batch_size=None)
    assert len(ours) == len(theirs) == 4
    assert_same(list(ours), list(theirs))


def test_samplers_and_batch_samplers_choose_the_indices():
    order = [7, 2, 2, 9]
    for kwargs in ({"sampler": order, "batch_size": 3}, {"batch_sampler": [[1, 0], [5]]},
                   {"sampler": data.SequentialSampler(range(3)), "batch_size": None}):
        theirs = dict(kwargs)
        if isinstance(kwargs.get("sampler"), data.Sampler):
            theirs["sampler"] = tdata.SequentialSampler(range(3))
        assert_same(list(data.DataLoader(Pairs(), **kwargs)),
                    list(tdata.DataLoader(TorchPairs(), **theirs)))
    loader = data.DataLoader(Pairs(), batch_sampler=data.BatchSampler(order, 3, True))
    assert len(loader) == 1 and next(iter(loader))[1].tolist() == [70, 20, 20]


@pytest.mark.parametrize("kwargs", [
    {"shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "shuffle": True},
    {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_sampler": [[0]], "batch_size": None},
    {"batch_size": None, "drop_last": True},
    {"batch_size": 0}, {"batch_size": -2}, {"batch_size": 1.5},
    {"num_workers": -1}, {"prefetch_factor": 2}, {"persistent_workers": True},
    {"timeout": -1}, {"num_workers": 1, "prefetch_factor": -1},
])
def test_options_that_exclude_each_other_raise_like_torch(kwargs):
    with pytest.raises(ValueError, match="DataLoader: "):
        data.DataLoader(Pairs(), **kwargs)
    with pytest.raises(ValueError):
        tdata.DataLoader(TorchPairs(), **kwargs)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]},
                                    {"batch_sampler": [[0]]}])
def test_iterable_datasets_refuse_an_order_like_torch(kwargs):
    with pytest.raises(ValueError, match="an IterableDataset sets its own order"):
        data.DataLoader(Stream(4), **kwargs)
    with pytest.raises(ValueError):
        tdata.DataLoader(TorchStream(4), **kwargs)


def test_error_messages_name_the_option():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.DataLoader(Pairs(), batch_size=0)
    with pytest.raises(ValueError, match="sampler and shuffle exclude each other"):
        data.DataLoader(Pairs(), sampler=[0], shuffle=True)
    with pytest.raises(TypeError, match="DataLoader: generator must be"):
        data.DataLoader(Pairs(), generator=3)
    with pytest.raises(ValueError, match="prefetch=, not both"):
        data.DataLoader(Pairs(), num_workers=1, prefetch=2)
    loader = data.DataLoader(Pairs())
    for name in ("batch_size", "sampler", "dataset", "drop_last"):
        with pytest.raises(ValueError, match=f"{name} cannot be changed"):
            setattr(loader, name, 2)
        with pytest.raises(ValueError):
            setattr(tdata.DataLoader(TorchPairs()), name, 2)


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_batches_and_len_match_torch(batch_size, drop_last):
    ours = data.DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last)
    assert_same(list(ours), list(theirs))

    class Sized(Stream):
        def __len__(self):
            return self.end

    class TorchSized(TorchStream):
        def __len__(self):
            return self.n
    assert len(data.DataLoader(Sized(10), batch_size=batch_size, drop_last=drop_last)) == \
        len(tdata.DataLoader(TorchSized(10), batch_size=batch_size, drop_last=drop_last))
    with pytest.raises(TypeError):
        len(data.DataLoader(Stream(10)))


def test_shuffle_is_repeatable_by_generator_and_by_global_seed():
    ds = data.TensorDataset(np.arange(40))

    def order(**kwargs):
        return np.concatenate([b[0].numpy() for b in data.DataLoader(ds, 8, shuffle=True,
                                                                     **kwargs)]).tolist()
    first = order(generator=gn.Generator().manual_seed(1))
    assert sorted(first) == list(range(40)) and first != list(range(40))
    assert order(generator=gn.Generator().manual_seed(1)) == first
    assert order(generator=gn.Generator().manual_seed(2)) != first
    assert order(generator=np.random.default_rng(1)) == first    # same stream as the seed
    for workers in ({"num_workers": 2}, {"prefetch": 2}):        # workers never change it
        assert order(generator=gn.Generator().manual_seed(1), **workers) == first
    gn.manual_seed(3)
    by_seed = order()
    gn.manual_seed(3)
    assert order() == by_seed
    loader = data.DataLoader(ds, 8, shuffle=True, generator=gn.Generator().manual_seed(1))
    epochs = [np.concatenate([b[0].numpy() for b in loader]).tolist() for _ in range(2)]
    assert epochs[0] == first and epochs[1] != first               # a new order each epoch


class Counted(data.Dataset):
    """TensorDataset-like samples with a get_batch that can decline; counts the calls."""

    def __init__(self, batchable=True):
        self.x = np.arange(12, dtype=np.float32).reshape(6, 2)
        self.batchable, self.calls = batchable, {"item": 0, "batch": 0}

    def __len__(self):
        return 6

    def __getitem__(self, i):
        self.calls["item"] += 1
        return {"x": self.x[i], "y": int(i), "name": f"s{i}"}

    def get_batch(self, indices):
        self.calls["batch"] += 1
        if not self.batchable:
            return None
        return {"x": self.x[indices], "y": indices, "name": [f"s{i}" for i in indices]}


@pytest.mark.parametrize("batchable", [True, False])
def test_get_batch_is_used_or_declined(batchable):
    ds = Counted(batchable)
    batches = list(data.DataLoader(ds, batch_size=4))
    expected = [data.default_collate([ds[i] for i in idx]) for idx in ([0, 1, 2, 3], [4, 5])]
    for got, want in zip(batches, expected):     # names: a list from get_batch, but the same
        assert list(got.pop("name")) == list(want.pop("name"))
    assert_same(batches, expected)
    assert ds.calls["batch"] == 2 and ds.calls["item"] == (6 if batchable else 12)
    custom = list(data.DataLoader(Counted(), batch_size=4, collate_fn=lambda s: len(s)))
    assert custom == [4, 2]        # a collate_fn of one's own always sees the samples


def test_the_fast_path_wraps_the_arrays_without_copying():
    class Fixed(data.Dataset):
        array = np.ones((2, 3), np.float32)

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return self.array[i], 1

        def get_batch(self, indices):
            return self.array, np.array([1, 1])
    images, labels = next(iter(data.DataLoader(Fixed(), batch_size=2)))
    assert images._array is Fixed.array and labels.dtype == np.int64


def test_tensor_dataset_batches_equal_per_sample_collation_and_torch():
    x = np.random.default_rng(0).standard_normal((9, 3)).astype(np.float32)
    y = np.arange(9)
    ds = data.TensorDataset(gn.tensor(x), y)
    assert_same(ds[4], tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))[4])
    assert [type(t) for t in ds.tensors] == [gn.Tensor, gn.Tensor]
    fast = list(data.DataLoader(ds, batch_size=4))
    slow = [data.default_collate([ds[i] for i in range(a, min(a + 4, 9))]) for a in (0, 4, 8)]
    assert_same(fast, slow)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), 4)
    assert_same(fast, list(theirs))


def _idx_file(path, magic, array):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes())


@pytest.mark.parametrize("transform", [None, "scale"])
def test_mnist_batches_equal_per_sample_collation(tmp_path, transform):
    rng = np.random.default_rng(1)
    _idx_file(tmp_path / "train-images-idx3-ubyte.gz", 2051,
              rng.integers(0, 256, (11, 28, 28)).astype(np.uint8))
    _idx_file(tmp_path / "train-labels-idx1-ubyte.gz", 2049,
              rng.integers(0, 10, 11).astype(np.uint8))
    transform = glassnet.data.transforms.Compose([
        glassnet.data.transforms.ToTensor(),
        glassnet.data.transforms.Normalize((0.1307,), (0.3081,))]) if transform else None
    ds = glassnet.data.MNIST(tmp_path, transform=transform)
    order = [3, 0, 10, 7, 7, 1, 5, 2, 9]
    fast = list(data.DataLoader(ds, batch_size=4, sampler=order))
    slow = [data.default_collate([ds[i] for i in order[a:a + 4]]) for a in (0, 4, 8)]
    assert_same(fast, slow)
    assert plain(fast[0][0])[1] == (np.float32 if transform else np.uint8)


def test_real_mnist_if_present():
    root = "/work/shared/datasets/mnist"
    try:
        ds = glassnet.data.MNIST(root, train=False)
    except FileNotFoundError:
        pytest.skip("the real MNIST is not on this machine")
    order = np.random.default_rng(0).permutation(len(ds))[:200].tolist()
    fast = list(data.DataLoader(ds, batch_size=64, sampler=order))
    slow = [data.default_collate([ds[i] for i in order[a:a + 64]]) for a in range(0, 200, 64)]
    assert_same(fast, slow)


def test_subset():
    base = Pairs(10)
    sub = data.Subset(base, [4, -1, 0])
    assert sub.dataset is base and sub.indices.tolist() == [4, -1, 0] and len(sub) == 3
    assert sub[1][1] == -10 and sub[-1][1] == 0       # the index as given, as torch passes it
    assert data.Subset(data.TensorDataset(np.arange(10)), [4, 2])[[1, 0]][0].tolist() == [2, 4]
    with pytest.raises(IndexError, match="Subset: index 3 is out of range for 3 samples"):
        sub[3]
    with pytest.raises(IndexError, match="Subset: index 10 is out of range for a dataset of "
                                         "10 samples"):
        data.Subset(base, [1, 10])
    with pytest.raises(TypeError, match="Subset: indices must be a 1-D sequence of integers"):
        data.Subset(base, [0.5])
    nested = data.Subset(data.Subset(data.TensorDataset(np.arange(10)), [9, 8, 7]), [2, 0])
    assert next(iter(data.DataLoader(nested, batch_size=2)))[0].tolist() == [7, 9]
    assert nested.get_batch(np.array([1])) is not None and data.Subset(base, [0]).get_batch(
        np.array([0])) is None       # Pairs cannot batch, so neither can its Subset


def test_concat_dataset_matches_torch():
    parts = [Pairs(3), Pairs(0), Pairs(4)]
    ours = data.ConcatDataset(parts)
    theirs = tdata.ConcatDataset([TorchPairs(3), TorchPairs(0), TorchPairs(4)])
    assert ours.cumulative_sizes == theirs.cumulative_sizes and len(ours) == len(theirs) == 7
    for i in range(-7, 7):
        assert_same(ours[i], theirs[i])
    assert isinstance(Pairs(2) + Pairs(3), data.ConcatDataset) and len(Pairs(2) + Pairs(3)) == 5
    for bad in (7, -8):
        with pytest.raises(IndexError, match=f"ConcatDataset: index {bad} is out of range for "
                                             "7 samples"):
            ours[bad]
    with pytest.raises(ValueError, match="at least one dataset"):
        data.ConcatDataset([])
    with pytest.raises(TypeError, match="is an IterableDataset"):
        data.ConcatDataset([Stream(2)])
    assert_same(list(data.DataLoader(ours, batch_size=3)),
                list(tdata.DataLoader(theirs, batch_size=3)))


def test_chain_dataset():
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, data.ChainDataset) and list(chained) == [0, 1, 0, 1, 2]
    assert list(data.ChainDataset([Stream(2), Stream(1)])) == \
        list(tdata.ChainDataset([TorchStream(2), TorchStream(1)]))
    with pytest.raises(TypeError, match="ChainDataset: Pairs is not an IterableDataset"):
        list(data.ChainDataset([Pairs(2)]))


@pytest.mark.parametrize("lengths", [[0.33, 0.33, 0.34], [0.5, 0.5], [3, 7], [0.1] * 10])
def test_random_split_lengths_match_torch(lengths):
    ours = data.random_split(Pairs(10), lengths, generator=gn.Generator().manual_seed(0))
    theirs = tdata.random_split(TorchPairs(10), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    again = data.random_split(Pairs(10), lengths, generator=gn.Generator().manual_seed(0))
    assert [s.indices.tolist() for s in ours] == [s.indices.tolist() for s in again]
    assert sorted(np.concatenate([s.indices for s in ours]).tolist()) == list(range(10))


def test_the_notes_pattern_runs_unchanged():
    """seed 003's use: a map-style (image, label) dataset, shuffled batches of 64."""
    x = np.random.default_rng(0).random((130, 1, 28, 28), dtype=np.float32)
    y = np.random.default_rng(1).integers(0, 10, 130)
    loader = data.DataLoader(data.TensorDataset(gn.from_numpy(x), gn.from_numpy(y)),
                             batch_size=64, shuffle=True)
    seen = [(images.shape, labels.dtype) for images, labels in loader]
    assert len(loader) == 3 and seen[0] == ((64, 1, 28, 28), np.int64) and \
        seen[-1][0] == (2, 1, 28, 28)
    assert torch_version(gn.ones(1)).dtype == torch.float32
