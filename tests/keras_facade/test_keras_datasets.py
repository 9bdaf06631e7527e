"""keras.datasets' load_data on small files built here in the real formats (IDX, CIFAR
pickles, Keras's mnist.npz), and on the real MNIST / CIFAR-10 dev split when present."""
import pathlib
import subprocess

import numpy as np
import pytest

from data.test_cifar import _cifar_dir          # CIFAR batches in the original format
from data.test_data import _idx                 # IDX files, gzip or raw
from glassnet.data import DataFormatError, FashionMNIST
from glassnet.data import mnist as core_mnist
from glassnet.keras.datasets import cifar10, fashion_mnist, mnist

SHARED = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
DEBIAN_FASHION = FashionMNIST.extra_dirs[0] if FashionMNIST.extra_dirs else "/nonexistent"


@pytest.fixture(autouse=True)
def _nowhere_else(tmp_path, monkeypatch):
    """Only the folders a test builds: an empty glassnet cache and Keras home, no Debian
    Fashion-MNIST, and a download that fails if anything asks for one."""
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(FashionMNIST, "extra_dirs", ())

    def no_download(*args, **kwargs):
        raise AssertionError("load_data downloaded without download=True")
    monkeypatch.setattr(core_mnist, "fetch", no_download)


def _idx_set(folder, n_train=7, n_test=4, seed=0):
    """The four IDX files of an MNIST-format set in `folder`; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    made = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        _idx(folder / f"{prefix}-images-idx3-ubyte", 2051, x)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", 2049, y)
        made[prefix] = (x, y)
    return made


def _check_idx(result, made):
    (x_train, y_train), (x_test, y_test) = result
    for (x, y), prefix in (((x_train, y_train), "train"), ((x_test, y_test), "t10k")):
        assert x.dtype == np.uint8 and y.dtype == np.uint8
        assert x.shape == made[prefix][0].shape and y.shape == (len(x),)
        np.testing.assert_array_equal(x, made[prefix][0])
        np.testing.assert_array_equal(y, made[prefix][1])
        assert x.flags.writeable


@pytest.mark.parametrize("module, name", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist")])
def test_idx_sets_from_glassnet_data(tmp_path, module, name):
    made = _idx_set(tmp_path / "cache" / name)
    _check_idx(module.load_data(), made)


def test_mnist_path_as_folder_file_or_keras_npz(tmp_path):
    made = _idx_set(tmp_path / "mine")
    _check_idx(mnist.load_data(path=tmp_path / "mine"), made)
    _check_idx(mnist.load_data(path=str(tmp_path / "mine" / "t10k-images-idx3-ubyte.gz")), made)
    # Keras's own download, in Keras's folder: found by its default relative path, or given
    home = tmp_path / "keras-home" / "datasets"
    home.mkdir(parents=True)
    arrays = {"x_train": made["train"][0], "y_train": made["train"][1],
              "x_test": made["t10k"][0], "y_test": made["t10k"][1]}
    np.savez_compressed(home / "mnist.npz", **arrays)
    _check_idx(mnist.load_data(path="mnist.npz"), made)
    _check_idx(mnist.load_data(), made)         # the IDX files are nowhere else: the .npz
    np.savez(tmp_path / "bad.npz", x_train=made["train"][0].astype(np.float32),
             y_train=made["train"][1], x_test=made["t10k"][0], y_test=made["t10k"][1])
    with pytest.raises(DataFormatError, match="x_train should be uint8"):
        mnist.load_data(path=tmp_path / "bad.npz")


def test_fashion_path_and_keras_download_folder(tmp_path):
    made = _idx_set(tmp_path / "mine" / "fashion-mnist", seed=1)
    _check_idx(fashion_mnist.load_data(path=tmp_path / "mine"), made)
    # Keras keeps its Fashion-MNIST download in ~/.keras/datasets/fashion-mnist
    made = _idx_set(tmp_path / "keras-home" / "datasets" / "fashion-mnist", seed=2)
    _check_idx(fashion_mnist.load_data(), made)


def _expected_cifar(made, names):
    x = np.concatenate([made[b][0] for b in names]).transpose(0, 2, 3, 1)
    y = np.concatenate([made[b][1] for b in names]).astype(np.uint8).reshape(-1, 1)
    return x, y


def _check_cifar(result, made, train_batches):
    (x_train, y_train), (x_test, y_test) = result
    for (x, y), names in (((x_train, y_train), train_batches),
                          ((x_test, y_test), ["test_batch"])):
        want_x, want_y = _expected_cifar(made, names)
        assert x.dtype == np.uint8 and y.dtype == np.uint8
        assert x.shape == want_x.shape and x.shape[1:] == (32, 32, 3)
        assert y.shape == (len(x), 1)
        np.testing.assert_array_equal(x, want_x)
        np.testing.assert_array_equal(y, want_y)


def test_cifar10_from_glassnet_data_and_path(tmp_path):
    (tmp_path / "cache" / "cifar10").mkdir(parents=True)
    made = _cifar_dir(tmp_path / "cache" / "cifar10", n=3)
    train = [f"data_batch_{k}" for k in range(1, 6)]
    _check_cifar(cifar10.load_data(), made, train)
    (tmp_path / "mine").mkdir()
    made = _cifar_dir(tmp_path / "mine", n=2)
    _check_cifar(cifar10.load_data(path=tmp_path / "mine"), made, train)
    _check_cifar(cifar10.load_data(path=tmp_path / "mine" / "cifar-10-batches-py" /
                                   "test_batch"), made, train)


def test_cifar10_dev_split_trains_on_four_batches(tmp_path):
    made = _cifar_dir(tmp_path, n=2)
    (tmp_path / "cifar-10-batches-py" / "data_batch_5").unlink()
    result = cifar10.load_data(path=tmp_path)
    _check_cifar(result, made, [f"data_batch_{k}" for k in range(1, 5)])
    assert len(result[0][0]) == 8


@pytest.mark.parametrize("module, name", [(mnist, "MNIST"), (fashion_mnist, "FashionMNIST"),
                                          (cifar10, "CIFAR10")])
def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path, module, name):
    with pytest.raises(FileNotFoundError) as caught:
        module.load_data(path="no-such-folder")
    message = str(caught.value)
    assert f"{module.__name__.rsplit('.', 1)[1]}.load_data: data set not found" in message
    assert name in message
    assert str(tmp_path / "cache") in message                       # $GLASSNET_DATA
    assert str(tmp_path / "keras-home" / "datasets") in message     # Keras's folder
    assert "'no-such-folder' exists neither as given" in message
    assert "download=True" in message and "$GLASSNET_DATA" in message


def test_download_only_when_asked(tmp_path, monkeypatch):
    calls = []

    def fake_fetch(name, root, looked_in=()):
        calls.append((name, root))
        _idx_set(tmp_path / "cache" / name)
    monkeypatch.setattr(core_mnist, "fetch", fake_fetch)
    (x_train, _), _ = mnist.load_data(download=True)
    assert calls == [("mnist", None)] and x_train.shape == (7, 28, 28)


def test_a_corrupt_file_is_an_error_not_a_miss(tmp_path):
    folder = tmp_path / "cache" / "mnist"
    _idx_set(folder)
    _idx(folder / "t10k-labels-idx1-ubyte", 2051, np.zeros(4, np.uint8))  # images' magic
    _idx_set(tmp_path / "keras-home" / "datasets")       # a good copy further down the list
    with pytest.raises(DataFormatError, match="magic number"):
        mnist.load_data()


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="the real MNIST is not here")
def test_real_mnist(monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(SHARED))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]      # the canonical counts
    assert abs(x_train.mean() - 33.3184) < 1e-3                  # the shared README's mean


@pytest.mark.skipif(not pathlib.Path(DEBIAN_FASHION).is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_debian_package(monkeypatch):
    monkeypatch.setattr(FashionMNIST, "extra_dirs", (DEBIAN_FASHION,))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10 and y_test.dtype == np.uint8


@pytest.mark.skipif(not (SHARED / "cifar10" / "make-dev-split").is_file(),
                    reason="the real CIFAR-10 is not here")
def test_real_cifar10_dev_split(tmp_path):
    subprocess.run([str(SHARED / "cifar10" / "make-dev-split"), str(tmp_path / "dev")],
                   check=True, capture_output=True)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path / "dev")
    assert x_train.shape == (40000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    assert y_train.shape == (40000, 1) and y_test.dtype == np.uint8
    assert np.bincount(y_test.ravel()).sum() == 10000 and y_test.max() == 9
