"""The data-set registry: names, shapes and tasks, and what is present locally."""
import numpy as np
import pytest
from PIL import Image

from glassnet import models
from glassnet.data import (CIFAR10, MNIST, Blobs, ImageFolder, Sine, available_datasets,
                           dataset_names, default_transform, get_dataset, transforms)

from .test_cifar import _cifar_dir
from .test_data import _mnist_dir


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr("glassnet.data.FashionMNIST.extra_dirs", ())


def _image_folder(root, classes=("ant", "bee"), per_class=2):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(np.full((6, 4, 3), 40 * i, np.uint8)).save(root / c / f"{i}.png")


def test_names():
    assert dataset_names() == ["mnist", "fashion-mnist", "cifar10", "blobs", "sine",
                               "imagefolder"]
    with pytest.raises(KeyError, match="no data set named 'svhn'; available: mnist, "):
        get_dataset("svhn")


def test_every_model_default_dataset_is_registered_with_matching_shape():
    for name in models.names():
        entry = models.entry(name)
        assert entry.dataset in dataset_names(), name
    assert get_dataset("blobs").input_shape == models.entry("perceptron").input_size
    assert get_dataset("sine").input_shape == models.entry("rnn-regression").input_size
    assert CIFAR10.input_shape == models.entry("cnn-cifar").input_size
    assert MNIST.input_shape == models.entry("cnn-mnist").input_size


def test_generated_sets():
    blobs, sine = get_dataset("blobs", train=False), get_dataset("sine", seq_len=30)
    assert isinstance(blobs, Blobs) and not blobs.train
    assert (blobs.task, blobs.num_classes, blobs.input_shape) == ("classification", 2, (2,))
    assert isinstance(sine, Sine) and sine.input_shape == (30, 1)
    assert (sine.task, sine.num_classes) == ("regression", None)
    assert default_transform(blobs) is None and default_transform(sine) is None


def test_file_sets_and_their_default_transform(tmp_path):
    _mnist_dir(tmp_path)
    _cifar_dir(tmp_path)
    mnist = get_dataset("mnist", tmp_path, train=False)
    assert isinstance(mnist, MNIST) and (mnist.num_classes, mnist.input_shape) == (10, (1, 28, 28))
    x, _ = get_dataset("mnist", tmp_path, transform=default_transform(mnist)).get_batch(
        np.arange(3))
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x, (mnist.images[:3, None] / 255 - 0.1307) / 0.3081, atol=1e-5)
    cifar = get_dataset("cifar10", str(tmp_path))
    assert len(cifar) == 30 and cifar.input_shape == (3, 32, 32)
    x, _ = cifar.get_batch(np.arange(2))
    y = default_transform(cifar)(x)
    assert y.shape == (2, 3, 32, 32)
    np.testing.assert_allclose(y[:, 2], (x[..., 2] / 255 - 0.4465) / 0.2616, atol=1e-5)


def test_imagefolder_needs_root_and_finds_splits(tmp_path):
    with pytest.raises(ValueError, match="give root="):
        get_dataset("imagefolder")
    _image_folder(tmp_path / "flat")
    flat = get_dataset("imagefolder", tmp_path / "flat", size=(3, 3))
    assert isinstance(flat, ImageFolder) and len(flat) == 4 and flat.input_shape == (3, 3, 3)
    assert flat.num_classes == 2 and flat.task == "classification"
    assert isinstance(default_transform(flat), transforms.ToTensor)
    _image_folder(tmp_path / "split" / "train", per_class=3)
    _image_folder(tmp_path / "split" / "test", per_class=1)
    assert len(get_dataset("imagefolder", tmp_path / "split")) == 6
    assert len(get_dataset("imagefolder", tmp_path / "split", train=False)) == 2


def test_available_datasets(tmp_path):
    found = available_datasets()
    assert found["mnist"]["present"] is False and found["cifar10"]["present"] is False
    assert found["mnist"]["looked_in"] == [str(tmp_path / "cache" / "mnist")]
    assert "MNIST: t10k-images-idx3-ubyte(.gz) not found" in found["mnist"]["error"]
    assert found["imagefolder"] == {"present": False, "looked_in": [],
                                    "error": "needs a folder of class folders (give a data dir)"}
    assert found["blobs"] == {"present": True, "where": "generated", "test_samples": 200,
                              "task": "classification", "input_shape": [2], "num_classes": 2}
    assert found["sine"]["present"] and found["sine"]["num_classes"] is None

    (tmp_path / "cache" / "cifar10").mkdir(parents=True)
    _cifar_dir(tmp_path / "cache" / "cifar10")
    _image_folder(tmp_path / "data" / "pictures")
    _mnist_dir(tmp_path / "data")
    found = available_datasets(tmp_path / "data")
    assert found["mnist"] == {"present": True, "where": str(tmp_path / "data"),
                              "test_samples": 12, "task": "classification",
                              "input_shape": [1, 28, 28], "num_classes": 10}
    assert found["cifar10"]["where"] == str(tmp_path / "cache" / "cifar10" /
                                            "cifar-10-batches-py")
    assert found["cifar10"]["test_samples"] == 6
    assert found["imagefolder"]["present"] and found["imagefolder"]["num_classes"] == 1
