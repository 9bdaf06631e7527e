"""MNIST and Fashion-MNIST from their IDX files (gzip or raw), validated by format.

IDX: a big-endian header — magic number (2051 for images, 2049 for labels), then
one uint32 per dimension — followed by the uint8 data. Files a user supplies are
checked by their format (magic, dimensions, byte count, label range, matching
counts); nothing is trusted by name alone.
"""
import gzip
import os
import struct

import numpy as np

from .dataset import Dataset

IMAGES, LABELS = 2051, 2049


class DataFormatError(ValueError):
    """A data file that is truncated, corrupt or not what its name says."""


def read_idx(path, magic, ndim):
    """An IDX file as a uint8 array of `ndim` dims, its header and length checked."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataFormatError(f"{path}: cannot be read ({e})") from None
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataFormatError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        raise DataFormatError(f"{path}: magic number {found}, expected {magic} "
                              f"({'images' if magic == IMAGES else 'labels'})")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataFormatError(f"{path}: {len(raw) - header} data bytes, but the header "
                              f"promises {dims} = {expected} (truncated or corrupt)")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


class MNIST(Dataset):
    """The MNIST digits: samples (28x28 uint8 image, int label), or `transform(images)`.

    Looks for the four standard files (gzip or raw) in `root`, `root/<name>`,
    `$GLASSNET_DATA/<name>` and the places listed in `extra_dirs`.
    """
    name = "mnist"
    classes = [str(d) for d in range(10)]
    extra_dirs = ()

    def __init__(self, root=None, train=True, transform=None):
        self.train, self.transform = train, transform
        prefix = "train" if train else "t10k"
        images_path = self._find(root, f"{prefix}-images-idx3-ubyte")
        labels_path = self._find(root, f"{prefix}-labels-idx1-ubyte")
        self.images = read_idx(images_path, IMAGES, 3)
        labels = read_idx(labels_path, LABELS, 1)
        if len(labels) != len(self.images):
            raise DataFormatError(f"{labels_path}: {len(labels)} labels for "
                                  f"{len(self.images)} images in {images_path}")
        if labels.size and labels.max() >= len(self.classes):
            raise DataFormatError(f"{labels_path}: label {labels.max()} is out of range for "
                                  f"{len(self.classes)} classes")
        self.labels = labels.astype(np.int64)

    @classmethod
    def search_dirs(cls, root):
        dirs = []
        if root:
            root = os.fspath(root)
            dirs += [root, os.path.join(root, cls.name)]
        if os.environ.get("GLASSNET_DATA"):
            dirs.append(os.path.join(os.environ["GLASSNET_DATA"], cls.name))
        return dirs + list(cls.extra_dirs)

    @classmethod
    def _find(cls, root, stem):
        dirs = cls.search_dirs(root)
        for folder in dirs:
            for name in (stem + ".gz", stem):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
        raise FileNotFoundError(f"{cls.__name__}: {stem}(.gz) not found; looked in "
                                f"{', '.join(dirs) or '(nowhere: give root=)'}")

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image[None])[0]
        return image, int(self.labels[index])

    def get_batch(self, indices):
        images = self.images[indices]
        if self.transform is not None:
            images = self.transform(images)
        return images, self.labels[indices]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (same format); Debian's dataset-fashion-mnist package is
    looked in by default."""
    name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    extra_dirs = ("/usr/share/datasets/fashion-mnist",)
