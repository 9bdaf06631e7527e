"""glassnet.vision.datasets: torchvision's MNIST, FashionMNIST, CIFAR10 and ImageFolder on
small files written here in each supported layout; the batched path against the per-sample
one. (torchvision itself is not importable here: its behaviour is taken from its docs.)"""
import os

import numpy as np
import pytest
from PIL import Image

import glassnet as gn
import glassnet.vision as torchvision
from glassnet.data import DataFormatError
from glassnet.data import mnist as idx_reader
from glassnet.vision import datasets
from glassnet.vision.datasets import mnist

from data.test_cifar import NAMES, _cifar_dir      # CIFAR batches in the original format
from data.test_data import _idx                    # IDX files, gzip or raw
from data.test_folder import _rgb, _save           # image files written with Pillow


@pytest.fixture(autouse=True)
def no_cache(tmp_path, monkeypatch):
    """Only the folders a test writes: an empty download cache, no Debian folder."""
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(idx_reader.FashionMNIST, "extra_dirs", ())


def _write_mnist(folder, n=10, compress=True, seed=0):
    """train and t10k IDX files in `folder`; returns (images, labels) (the same for both)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    for prefix in ("train", "t10k"):
        _idx(folder / f"{prefix}-images-idx3-ubyte", 2051, images, compress)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", 2049, labels, compress)
    return images, labels


class Doubled:
    """A stand-in batchable transform (glassnet.vision.transforms' contract): one image ->
    float array; a uint8 batch -> the same values stacked, in one call (recorded)."""
    batchable = True

    def __init__(self):
        self.batches = []

    def __call__(self, image):
        return np.asarray(image, np.float32) * 2

    def apply_batch(self, images):
        self.batches.append(images)
        return images.astype(np.float32) * 2

    def __repr__(self):
        return "Doubled()"


def _per_sample(ds, indices):
    """What the loader's fallback builds: each sample made alone, then stacked."""
    samples = [ds[int(i)] for i in indices]
    images = [s[0].numpy() if isinstance(s[0], gn.Tensor) else np.asarray(s[0])
              for s in samples]
    return np.stack(images), np.array([s[1] for s in samples], dtype=np.int64)


# ------------------------------------------------------------------------ MNIST-format sets
def test_import_paths_of_torchvision_code():
    assert torchvision.datasets.MNIST is datasets.MNIST is mnist.MNIST
    assert datasets.mnist.FashionMNIST is datasets.FashionMNIST
    assert datasets.cifar.CIFAR10 is datasets.CIFAR10
    assert datasets.folder.ImageFolder is datasets.ImageFolder


@pytest.mark.parametrize("layout", ["", "mnist", "MNIST/raw"])
@pytest.mark.parametrize("compress", [True, False])
def test_mnist_in_each_layout(tmp_path, layout, compress):
    folder = tmp_path / layout if layout else tmp_path
    images, labels = _write_mnist(folder, compress=compress)
    ds = mnist.MNIST(tmp_path, train=False)
    assert len(ds) == 10 and ds.folder == str(folder) and ds.raw_folder == str(folder)
    assert isinstance(ds.data, gn.Tensor) and ds.data.dtype == np.uint8
    assert ds.data.shape == (10, 28, 28) and ds.data.requires_grad is False
    assert isinstance(ds.targets, gn.Tensor) and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    image, label = ds[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert type(label) is int and label == labels[3]
    np.testing.assert_array_equal(np.asarray(image), images[3])


def test_fashion_mnist_in_torchvision_layout(tmp_path):
    images, labels = _write_mnist(tmp_path / "FashionMNIST" / "raw", n=4, compress=False)
    ds = datasets.FashionMNIST(str(tmp_path))
    assert len(ds) == 4 and ds.classes[9] == "Ankle boot" and ds.class_to_idx["Bag"] == 8
    np.testing.assert_array_equal(np.asarray(ds[1][0]), images[1])
    with pytest.raises(FileNotFoundError, match="MNIST"):
        datasets.MNIST(tmp_path)      # Fashion-MNIST's folder is not MNIST's


def test_attributes_and_subsetting_as_in_torchvision(tmp_path):
    images, labels = _write_mnist(tmp_path, n=8)
    ds = datasets.MNIST(tmp_path)
    assert ds.train is True and ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    with pytest.warns(UserWarning, match="train_data has been renamed data"):
        assert ds.train_data is ds.data
    with pytest.warns(UserWarning, match="test_labels has been renamed targets"):
        assert ds.test_labels is ds.targets
    ds.data[0] = 7                                       # writable, as torchvision's
    assert np.asarray(ds[0][0]).max() == 7
    ds.data, ds.targets = ds.data[2:5], ds.targets[2:5]  # the usual way to take a subset
    assert len(ds) == 3 and ds[0][1] == labels[2]
    np.testing.assert_array_equal(np.asarray(ds[2][0]), images[4])


class Plus:
    def __init__(self, k):
        self.k = k

    def __call__(self, y):
        return y + self.k

    def __repr__(self):
        return f"Plus({self.k})"


def test_transforms_and_repr(tmp_path):
    images, labels = _write_mnist(tmp_path, n=5)
    ds = datasets.MNIST(tmp_path, train=False, transform=Doubled(), target_transform=Plus(100))
    image, label = ds[2]
    np.testing.assert_array_equal(image, images[2].astype(np.float32) * 2)
    assert label == labels[2] + 100
    # torchvision's layout, its unindented transform lines included
    assert repr(ds).splitlines() == [
        "Dataset MNIST", "    Number of datapoints: 5", f"    Root location: {tmp_path}",
        "    Split: Test", "    StandardTransform", "Transform: Doubled()",
        "Target transform: Plus(100)"]
    assert repr(datasets.MNIST(tmp_path)).splitlines() == [
        "Dataset MNIST", "    Number of datapoints: 5", f"    Root location: {tmp_path}",
        "    Split: Train"]


def test_root_with_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _write_mnist(tmp_path / "data" / "MNIST" / "raw", n=3)
    ds = datasets.MNIST("~/data")
    assert ds.root == str(tmp_path / "data") and len(ds) == 3


def test_batched_path_equals_the_per_sample_path(tmp_path):
    _write_mnist(tmp_path, n=10)
    transform = Doubled()
    ds = datasets.MNIST(tmp_path, transform=transform)
    indices = np.array([7, 0, 3, 3, 9], dtype=np.int64)
    images, labels = ds.get_batch(indices)
    assert len(transform.batches) == 1 and transform.batches[0].dtype == np.uint8
    assert isinstance(images, np.ndarray) and labels.dtype == np.int64
    want_images, want_labels = _per_sample(ds, indices)
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)


def test_no_batched_path_for_pil_samples_or_per_sample_transforms(tmp_path):
    _write_mnist(tmp_path, n=4)
    indices = np.arange(2)
    assert datasets.MNIST(tmp_path).get_batch(indices) is None               # PIL images
    assert datasets.MNIST(tmp_path, transform=np.asarray).get_batch(indices) is None
    assert datasets.MNIST(tmp_path, transform=Doubled(),
                          target_transform=str).get_batch(indices) is None


def test_a_folder_in_neither_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    root = tmp_path / "empty"
    with pytest.raises(FileNotFoundError, match=(
            rf"MNIST: train-images-idx3-ubyte\(.gz\) not found; looked in {root}, {root}/mnist, "
            rf"{root}/MNIST/raw, {tmp_path}/cache/mnist \(download=True")):
        datasets.MNIST(root)
    with pytest.raises(FileNotFoundError, match=(
            rf"CIFAR10: data_batch_1, .*, data_batch_5 \(or data_batch_1..4 beside test_batch: "
            rf"a dev split\) not found; looked in {root}/cifar-10-batches-py, .*{root}, ")):
        datasets.CIFAR10(root)


def test_corrupt_files_are_named(tmp_path):
    _write_mnist(tmp_path / "MNIST" / "raw", n=4)
    _idx(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte", 2051,
         np.zeros((4, 28, 28), np.uint8), cut=10)
    with pytest.raises(DataFormatError, match=r"MNIST/raw/t10k-images-idx3-ubyte.gz: 3126 data "
                                              r"bytes, but the header promises"):
        datasets.MNIST(tmp_path, train=False)
    _cifar_dir(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:3000])
    with pytest.raises(DataFormatError, match="test_batch: not a readable CIFAR pickle"):
        datasets.CIFAR10(tmp_path, train=False)


def test_download_fetches_only_what_is_missing(tmp_path, monkeypatch):
    calls = []

    def fake_fetch(name, root=None, looked_in=(), quiet=False):
        calls.append((name, root))
        _write_mnist(tmp_path / name, n=2)

    monkeypatch.setattr(idx_reader, "fetch", fake_fetch)
    ds = datasets.FashionMNIST(tmp_path, download=True)
    assert calls == [("fashion-mnist", str(tmp_path))] and len(ds) == 2
    datasets.FashionMNIST(tmp_path, download=True)                 # present: no fetch
    assert len(calls) == 1


# ------------------------------------------------------------------------------- CIFAR-10
@pytest.mark.parametrize("layout", ["", "cifar10"])
def test_cifar10_samples_and_attributes(tmp_path, layout):
    root = tmp_path / layout if layout else tmp_path
    root.mkdir(exist_ok=True)
    made = _cifar_dir(root, n=3)
    ds = datasets.CIFAR10(str(tmp_path))
    assert len(ds) == 15 and ds.folder == str(root / "cifar-10-batches-py")
    assert isinstance(ds.data, np.ndarray) and ds.data.dtype == np.uint8
    assert ds.data.shape == (15, 32, 32, 3)
    assert type(ds.targets) is list and all(type(t) is int for t in ds.targets)
    assert ds.classes == [n.decode() for n in NAMES] and ds.class_to_idx["truck"] == 9
    chw, y = made["data_batch_2"]
    image, label = ds[4]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(image), chw[1].transpose(1, 2, 0))
    assert label == y[1] and type(label) is int
    test = datasets.CIFAR10(tmp_path, train=False, target_transform=lambda t: -t)
    assert len(test) == 3 and test[0][1] == -made["test_batch"][1][0]
    assert repr(test).splitlines()[3] == "    Split: Test"


def test_cifar10_dev_split_trains_on_four_batches(tmp_path):
    made = _cifar_dir(tmp_path, n=2)
    (tmp_path / "cifar-10-batches-py" / "data_batch_5").unlink()
    train = datasets.CIFAR10(tmp_path)
    assert len(train) == 8
    expected = np.concatenate([made[f"data_batch_{i}"][0] for i in range(1, 5)])
    np.testing.assert_array_equal(train.data, expected.transpose(0, 2, 3, 1))
    assert len(datasets.CIFAR10(tmp_path, train=False)) == 2
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()      # four batches alone
    with pytest.raises(FileNotFoundError, match="data_batch_5"):
        datasets.CIFAR10(tmp_path)


def test_cifar10_batched_path(tmp_path):
    _cifar_dir(tmp_path, n=4)
    ds = datasets.CIFAR10(tmp_path, transform=Doubled())
    indices = np.array([19, 2, 11], dtype=np.int64)
    images, labels = ds.get_batch(indices)
    want_images, want_labels = _per_sample(ds, indices)
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)
    assert labels.dtype == np.int64 and datasets.CIFAR10(tmp_path).get_batch(indices) is None


# ---------------------------------------------------------------------------- ImageFolder
@pytest.fixture
def pictures(tmp_path):
    """cat/ (RGB PNGs 8x6), dog/ (a gray PNG, a nested RGB PNG), and files to skip."""
    made = {"cat/a.png": _save(tmp_path / "cat" / "a.png", _rgb(8, 6, 1)),
            "cat/b.PNG": _save(tmp_path / "cat" / "b.PNG", _rgb(8, 6, 2)),
            "dog/gray.png": _save(tmp_path / "dog" / "gray.png", _rgb(8, 6, 3)[..., 0]),
            "dog/sub/c.png": _save(tmp_path / "dog" / "sub" / "c.png", _rgb(8, 6, 4))}
    _save(tmp_path / "dog" / "skip.gif", _rgb(8, 6, 5))       # not in torchvision's list
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path, made


def test_image_folder_attributes_and_samples(pictures):
    root, made = pictures
    ds = datasets.ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [os.path.relpath(p, root) for p, _ in ds.samples] == [
        "cat/a.png", "cat/b.PNG", "dog/gray.png", "dog/sub/c.png"]
    assert ds.imgs is ds.samples and ds.targets == [0, 0, 1, 1] and len(ds) == 4
    assert ds.find_classes(root) == (ds.classes, ds.class_to_idx)
    image, label = ds[2]                      # a gray file comes out RGB, as torchvision's
    assert isinstance(image, Image.Image) and image.mode == "RGB" and label == 1
    np.testing.assert_array_equal(np.asarray(image),
                                  np.repeat(made["dog/gray.png"][..., None], 3, axis=2))
    np.testing.assert_array_equal(np.asarray(ds[3][0]), made["dog/sub/c.png"])
    assert repr(ds).splitlines() == ["Dataset ImageFolder", "    Number of datapoints: 4",
                                     f"    Root location: {root}"]


def test_image_folder_is_valid_file_loader_and_empty_classes(pictures):
    root, _ = pictures
    gifs = datasets.ImageFolder(root, is_valid_file=lambda p: p.endswith(".gif"),
                                loader=str.upper, allow_empty=True)
    assert gifs.samples == [(str(root / "dog" / "skip.gif"), 1)]
    assert gifs[0] == (str(root / "dog" / "skip.gif").upper(), 1)
    with pytest.raises(FileNotFoundError, match=r"no valid files \(is_valid_file\) in the class "
                                                r"folders cat of"):
        datasets.ImageFolder(root, is_valid_file=lambda p: p.endswith(".gif"))
    with pytest.raises(FileNotFoundError, match=r"no images \(.txt\) in the class folders dog"):
        datasets.DatasetFolder(root, loader=str, extensions=".txt")
    notes = datasets.DatasetFolder(root, loader=str, extensions=".txt", allow_empty=True)
    assert notes.samples == [(str(root / "cat" / "notes.txt"), 0)] and notes.classes[1] == "dog"
    with pytest.raises(ValueError, match="give exactly one of extensions= and is_valid_file="):
        datasets.DatasetFolder(root, loader=str)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        datasets.ImageFolder(root / "missing")


def test_image_folder_corrupt_image_is_named(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    ds = datasets.ImageFolder(tmp_path)
    with pytest.raises(DataFormatError,
                       match="broken.png is not a readable image: not an image in a format"):
        ds[0]


class Cropped(Doubled):
    """A batchable stand-in that makes sizes equal: the top-left 6x6, doubled."""

    def __call__(self, image):
        return super().__call__(image)[:6, :6]

    def apply_batch(self, images):
        return super().apply_batch(images)[:, :6, :6]


def test_image_folder_batched_path(pictures):
    root, _ = pictures
    _save(root / "dog" / "wide.png", _rgb(8, 9, 6))
    same, mixed = np.array([4, 0, 1]), np.array([3, 0, 4])      # 3 is wide.png
    for transform, indices in ((Doubled(), same), (Cropped(), same), (Cropped(), mixed)):
        ds = datasets.ImageFolder(root, transform=transform)
        images, labels = ds.get_batch(indices)
        want_images, want_labels = _per_sample(ds, indices)
        np.testing.assert_array_equal(images, want_images)
        np.testing.assert_array_equal(labels, want_labels)
    with pytest.raises(ValueError, match=r"ImageFolder: images of different sizes .* stay "
                                         r"different after the transform"):
        datasets.ImageFolder(root, transform=Doubled()).get_batch(mixed)
    assert datasets.ImageFolder(root, transform=Doubled(), loader=datasets.folder.pil_loader
                                ).get_batch(same) is not None
    assert datasets.ImageFolder(root, transform=Doubled(), loader=Image.open
                                ).get_batch(same) is None               # a loader of its own


# ------------------------------------------------ with glassnet.vision.transforms and loader
def test_to_tensor_normalize_batches_equal_per_sample_batches(tmp_path_factory, pictures):
    from glassnet.utils.data import DataLoader
    from glassnet.vision import transforms as T
    sets = tmp_path_factory.mktemp("sets")      # away from the pictures' class folders
    _write_mnist(sets / "MNIST" / "raw", n=10)
    _cifar_dir(sets, n=2)
    chains = {"MNIST": T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
              "CIFAR10": T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4))]),
              "ImageFolder": T.ToTensor()}
    roots = {"MNIST": sets, "CIFAR10": sets, "ImageFolder": pictures[0]}
    for name, chain in chains.items():
        fast = getattr(datasets, name)(roots[name], transform=chain)
        slow = getattr(datasets, name)(roots[name], transform=T.Lambda(chain))  # not batchable
        indices = np.array([3, 1, 2, 1], dtype=np.int64)
        images, labels = fast.get_batch(indices)
        assert images.dtype == np.float32 and slow.get_batch(indices) is None, name
        np.testing.assert_array_equal(images, _per_sample(fast, indices)[0])
        for (x, y), (u, v) in zip(DataLoader(fast, batch_size=3), DataLoader(slow, batch_size=3)):
            assert x.dtype == u.dtype == np.float32 and y.dtype == v.dtype == np.int64, name
            np.testing.assert_array_equal(x.numpy(), u.numpy())
            np.testing.assert_array_equal(y.numpy(), v.numpy())
    assert x.shape[1:] == (3, 8, 6)


def test_batched_mnist_equals_torchvision_steps_in_torch(tmp_path):
    """torchvision's ToTensor and Normalize on a PIL 'L' image, spelled out in torch."""
    torch = pytest.importorskip("torch")
    from glassnet.vision import transforms as T
    _write_mnist(tmp_path, n=6)
    ds = datasets.MNIST(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))]))
    indices = np.array([5, 0, 2], dtype=np.int64)
    images, _ = ds.get_batch(indices)
    plain = datasets.MNIST(tmp_path)
    mean, std = torch.tensor([0.5]).view(-1, 1, 1), torch.tensor([0.25]).view(-1, 1, 1)
    for image, i in zip(images, indices):
        pic = plain[int(i)][0]
        x = torch.from_numpy(np.array(pic, copy=True)).view(28, 28, 1).permute(2, 0, 1)
        want = x.contiguous().float().div(255).sub_(mean).div_(std)
        np.testing.assert_array_equal(image, want.numpy())
