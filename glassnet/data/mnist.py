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

from .dataset import ImageDataset
from .download import cache_dir, fetch

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


class MNIST(ImageDataset):
    """The MNIST digits: samples (28x28 uint8 image, int label), or `transform(images)`.

    Looks for the four standard files (gzip or raw) in `root`, `root/<name>`,
    torchvision's `root/MNIST/raw` (`root/FashionMNIST/raw`), the download cache
    (`$GLASSNET_DATA/<name>`, else `~/.cache/glassnet/<name>`) and the places listed in
    `extra_dirs`. With `download=True`, files found nowhere are fetched from the
    canonical URL into `root/<name>` (or the cache when no root is given) and checked
    against the published checksums.
    """
    name = "mnist"
    torchvision_folder = "MNIST"        # torchvision keeps the files in root/MNIST/raw
    classes = [str(d) for d in range(10)]
    extra_dirs = ()
    task, num_classes, input_shape = "classification", 10, (1, 28, 28)
    mean, std = (0.1307,), (0.3081,)      # of the training pixels in [0, 1]

    def __init__(self, root=None, train=True, transform=None, download=False):
        self.train, self.transform = train, transform
        self.images, self.labels, self.folder = self.read_split(root, train, download)

    @classmethod
    def read_split(cls, root=None, train=True, download=False):
        """One split's (uint8 images (N, 28, 28), int64 labels (N,), folder of the images),
        found in the search folders (fetched first when `download` and missing) and
        validated. The one reader of the files: `glassnet.vision.datasets` uses it too."""
        prefix = "train" if train else "t10k"
        stems = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        if download and not all(cls._locate(root, stem) for stem in stems):
            fetch(cls.name, root, looked_in=cls.search_dirs(root))
        images_path, labels_path = (cls._find(root, stem) for stem in stems)
        images = read_idx(images_path, IMAGES, 3)
        labels = read_idx(labels_path, LABELS, 1)
        if len(labels) != len(images):
            raise DataFormatError(f"{labels_path}: {len(labels)} labels for "
                                  f"{len(images)} images in {images_path}")
        if labels.size and labels.max() >= len(cls.classes):
            raise DataFormatError(f"{labels_path}: label {labels.max()} is out of range for "
                                  f"{len(cls.classes)} classes")
        return images, labels.astype(np.int64), os.path.dirname(images_path)

    @classmethod
    def search_dirs(cls, root):
        """root itself, root/<name>, torchvision's root/<MNIST|FashionMNIST>/raw (so a
        folder a PyTorch user already has works), the cache, then the system folders.
        MNIST and Fashion-MNIST files have the same names, so a root folder named after
        the other data set ('.../mnist' when looking for fashion-mnist) is not searched
        itself: the wrong images would otherwise pass every format check."""
        dirs = []
        if root:
            root = os.fspath(root)
            others = {c.name for c in _IDX_SETS} - {cls.name}
            if os.path.basename(os.path.normpath(root)).lower() not in others:
                dirs.append(root)
            dirs.append(os.path.join(root, cls.name))
            dirs.append(os.path.join(root, cls.torchvision_folder, "raw"))
        dirs.append(cache_dir(cls.name))
        return dirs + list(cls.extra_dirs)

    @classmethod
    def _locate(cls, root, stem):
        """The first `stem.gz` or `stem` in the search folders, or None."""
        for folder in cls.search_dirs(root):
            for name in (stem + ".gz", stem):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
        return None

    @classmethod
    def _find(cls, root, stem):
        path = cls._locate(root, stem)
        if path is None:
            raise FileNotFoundError(f"{cls.__name__}: {stem}(.gz) not found; looked in "
                                    f"{', '.join(cls.search_dirs(root))} (download=True, or "
                                    f"--download on the command line, fetches it)")
        return path


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (same format); Debian's dataset-fashion-mnist package is
    looked in by default."""
    name = "fashion-mnist"
    torchvision_folder = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    extra_dirs = ("/usr/share/datasets/fashion-mnist",)
    mean, std = (0.2860,), (0.3530,)


_IDX_SETS = (MNIST, FashionMNIST)
