"""Datasets, the DataLoader and the IDX readers, on small files built here."""
import gzip
import os
import struct

import numpy as np
import pytest

import glassnet as gn
from glassnet.data import (MNIST, DataFormatError, DataLoader, Dataset, FashionMNIST,
                           TensorDataset, random_split)


def _idx(path, magic, array, compress=True, cut=0):
    raw = struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()
    raw = raw[:len(raw) - cut] if cut else raw
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)


def _mnist_dir(tmp_path, n=12, compress=True, labels=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28))
    labels = rng.integers(0, 10, n) if labels is None else labels
    for prefix in ("train", "t10k"):
        _idx(tmp_path / f"{prefix}-images-idx3-ubyte", 2051, images, compress)
        _idx(tmp_path / f"{prefix}-labels-idx1-ubyte", 2049, labels, compress)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_reads_idx_files(tmp_path, compress):
    images, labels = _mnist_dir(tmp_path, compress=compress)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 12 and ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images, images)
    image, label = ds[3]
    assert image.shape == (28, 28) and label == labels[3]
    scaled = MNIST(tmp_path, transform=lambda x: x.astype(np.float32) / 255)
    assert scaled[0][0].dtype == np.float32 and scaled.get_batch(np.arange(4))[0].shape == (4, 28, 28)


def test_corrupt_files_are_named(tmp_path):
    _mnist_dir(tmp_path)
    _idx(tmp_path / "t10k-images-idx3-ubyte", 2051, np.zeros((12, 28, 28)), cut=100)
    with pytest.raises(DataFormatError, match="t10k-images-idx3-ubyte.gz: 9308 data bytes, but "
                                              "the header promises"):
        MNIST(tmp_path, train=False)
    _idx(tmp_path / "t10k-images-idx3-ubyte", 2049, np.zeros((12, 28, 28)))
    with pytest.raises(DataFormatError, match="magic number 2049, expected 2051"):
        MNIST(tmp_path, train=False)
    _mnist_dir(tmp_path, labels=np.full(12, 10))
    with pytest.raises(DataFormatError, match="label 10 is out of range for 10 classes"):
        MNIST(tmp_path)
    _idx(tmp_path / "train-labels-idx1-ubyte", 2049, np.zeros(5))
    with pytest.raises(DataFormatError, match="5 labels for 12 images"):
        MNIST(tmp_path)


def test_missing_files_say_where_they_were_looked_for(tmp_path, monkeypatch):
    assert FashionMNIST.extra_dirs == ("/usr/share/datasets/fashion-mnist",)  # Debian's place
    monkeypatch.setattr(FashionMNIST, "extra_dirs", (str(tmp_path / "debian"),))
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match=r"FashionMNIST: train-images-idx3-ubyte\(.gz\) "
                                                r"not found; looked in .*cache/fashion-mnist, "
                                                r".*debian"):
        FashionMNIST(tmp_path / "nowhere")


def test_glassnet_data_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    _mnist_dir(tmp_path / "mnist")
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    assert len(MNIST()) == 12


def test_tensor_dataset_and_random_split():
    x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    ds = TensorDataset(gn.tensor(x), y)
    assert len(ds) == 10 and ds[3][1] == 3
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(x, y[:5])
    gn.manual_seed(0)
    a, b = random_split(ds, [0.7, 0.3])
    assert (len(a), len(b)) == (7, 3)
    assert sorted(np.concatenate([a.indices, b.indices]).tolist()) == list(range(10))
    assert a[0][1] == a.indices[0]
    with pytest.raises(ValueError, match="sum to 9, but the dataset has 10"):
        random_split(ds, [4, 5])


class _Squares(Dataset):       # no get_batch: samples are collated one by one
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.float32(i * i), i


@pytest.mark.parametrize("prefetch", [0, 2])
def test_loader_batches_shuffle_and_drop_last(prefetch):
    ds = TensorDataset(np.arange(10, dtype=np.float32), np.arange(10))
    batches = list(DataLoader(ds, batch_size=4, prefetch=prefetch))
    assert [b[0].shape for b in batches] == [(4,), (4,), (2,)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert len(list(DataLoader(ds, batch_size=4, drop_last=True, prefetch=prefetch))) == 2
    gn.manual_seed(5)
    first = np.concatenate([b[1].numpy() for b in DataLoader(ds, 3, shuffle=True,
                                                             prefetch=prefetch)])
    gn.manual_seed(5)
    again = np.concatenate([b[1].numpy() for b in DataLoader(ds, 3, shuffle=True)])
    assert sorted(first.tolist()) == list(range(10)) and first.tolist() == again.tolist()
    assert first.tolist() != list(range(10))
    squares = list(DataLoader(_Squares(), batch_size=3, prefetch=prefetch))
    assert squares[1][0].tolist() == [9.0, 16.0, 25.0] and squares[2][1].tolist() == [6]


def test_prefetch_passes_errors_on_and_stops_early():
    class Broken(_Squares):
        def __getitem__(self, i):
            if i == 4:
                raise KeyError("sample 4 is broken")
            return super().__getitem__(i)
    with pytest.raises(KeyError, match="sample 4 is broken"):
        list(DataLoader(Broken(), batch_size=2, prefetch=1))
    loader = iter(DataLoader(_Squares(), batch_size=1, prefetch=1))
    next(loader)
    loader.close()      # the worker thread notices and ends


def test_collate_fn_and_errors():
    loader = DataLoader(_Squares(), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 2, 1]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(_Squares(), batch_size=0)


def test_search_dirs_and_download_parameter(tmp_path, monkeypatch):
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    home_cache = os.path.join(os.path.expanduser("~"), ".cache", "glassnet", "mnist")
    assert MNIST.search_dirs(tmp_path) == [str(tmp_path), str(tmp_path / "mnist"),
                                           str(tmp_path / "MNIST" / "raw"), home_cache]
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    assert FashionMNIST.search_dirs(None)[0] == str(tmp_path / "cache" / "fashion-mnist")
    _mnist_dir(tmp_path)
    ds = MNIST(tmp_path, train=False, download=True)      # present: nothing is fetched
    assert len(ds) == 12 and ds.folder == str(tmp_path)
    assert (MNIST.task, MNIST.num_classes, MNIST.input_shape) == ("classification", 10, (1, 28, 28))


def test_a_folder_named_after_mnist_is_not_taken_for_fashion_mnist(tmp_path, monkeypatch):
    from glassnet.data import FashionMNIST
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    mnist = tmp_path / "mnist"
    assert str(mnist) not in FashionMNIST.search_dirs(mnist)
    assert str(mnist) in MNIST.search_dirs(mnist)
    assert str(tmp_path / "fashion") in FashionMNIST.search_dirs(tmp_path / "fashion")
