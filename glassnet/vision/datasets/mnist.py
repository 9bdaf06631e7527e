"""MNIST and Fashion-MNIST as torchvision has them, read by glassnet's IDX reader.

    from glassnet.vision.datasets import mnist
    train_set = mnist.MNIST("./data", train=True, transform=data_tf, download=True)

The files (gzip or raw) are looked for in `root`, `root/mnist` (`root/fashion-mnist`),
torchvision's `root/MNIST/raw` (`root/FashionMNIST/raw`) and glassnet's cache; reading,
validation and download are `glassnet.data.mnist`'s, so there is one reader of the format.
"""
import warnings

import numpy as np

from ...data import mnist as _idx
from ...tensor import Tensor
from .vision import ImageArrayDataset, split_repr


class MNIST(ImageArrayDataset):
    """The MNIST digits: `ds[i]` is (28x28 PIL image of mode 'L', int label), each put
    through `transform` / `target_transform` when given.

    Attributes as torchvision's: `data` (uint8 Tensor (N, 28, 28)), `targets` (int64
    Tensor (N,)), `classes`, `class_to_idx`, `train`, `root`; also `folder`, where the
    files were found. `data` and `targets` are what samples are read from, so replacing
    them (`ds.data, ds.targets = ds.data[:100], ds.targets[:100]`) subsets the set.
    download=True fetches missing files into `root/mnist` and checks their MD5 sums.
    """
    source = _idx.MNIST      # glassnet's reader: where to look, how to read, what to fetch
    mode = "L"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images, labels, self.folder = self.source.read_split(self.root, train, download)
        # a writable copy of the file's bytes, as torchvision's (np.frombuffer is read-only)
        self.data = Tensor._make(np.array(images), False, None)
        self.targets = Tensor._make(labels, False, None)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def raw_folder(self):
        """The folder the IDX files were read from (torchvision: root/MNIST/raw)."""
        return self.folder

    def extra_repr(self):
        return split_repr(self.train)

    # torchvision's old names, still used by old tutorials
    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (same format and attributes as MNIST); also looked for where
    Debian's dataset-fashion-mnist package puts it."""
    source = _idx.FashionMNIST
    classes = list(_idx.FashionMNIST.classes)
