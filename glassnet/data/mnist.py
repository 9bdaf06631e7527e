"""MNIST and Fashion-MNIST from their IDX files (gzip or raw), validated by format.

IDX: a big-endian header — magic number (2051 for images, 2049 for labels), then
one uint32 per dimension — followed by the uint8 data. Files a user supplies are
checked by their format (magic, dimensions, byte count, label range, matching
counts); nothing is trusted by name alone, not even '.gz' (gzip is recognised by its
first two bytes).

The header's dimensions decide how much is read, so they are checked before anything
is allocated: at most `MAX_IDX_BYTES` of data, and no more than the file can hold
(its size for a raw file; 1032 times its size, deflate's largest ratio, for a gzip
file). A gzip file is then decompressed only up to the declared size plus one byte,
so a deflate bomb costs what its header declares, never what it would inflate to, and
the memory reserved for the declared size is touched only as bytes arrive.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

from .dataset import ImageDataset
from .download import cache_dir, fetch

IMAGES, LABELS = 2051, 2049
# 256 MiB: over 5x MNIST's largest file (training images, 47 MB); EMNIST-sized sets
# (548 MB) need read_idx(..., max_bytes=) raised.
MAX_IDX_BYTES = 1 << 28
DEFLATE_MAX_RATIO = 1032        # deflate cannot expand one byte to more than ~1032
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class DataFormatError(ValueError):
    """A data file that is truncated, corrupt or not what its name says."""


# A path that does not exist, is a folder or may not be read is the user's mistake about
# where a file is, not a bad file: the readers let these through with their own types.
PATH_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def _read_into(f, n):
    """(uint8 array of n, how many bytes of f it got): read a chunk at a time into memory
    reserved for n bytes, which is touched only as the bytes arrive, so a header that lies
    costs the bytes the file delivers (n is already checked against what it can hold)."""
    out = np.empty(n, np.uint8)
    view, got = memoryview(out), 0
    while got < n:
        count = f.readinto(view[got:got + _CHUNK])
        if not count:
            break
        got += count
    return out, got


def _idx_dims(path, head, magic, ndim):
    """The dimensions in an IDX header, after checking its length and magic number."""
    if len(head) < 4 * (1 + ndim):
        raise DataFormatError(f"{path}: {len(head)} bytes, too short for an IDX header")
    found, *dims = struct.unpack(f">{1 + ndim}I", head)
    if found != magic:
        raise DataFormatError(f"{path}: magic number {found}, expected {magic} "
                              f"({'images' if magic == IMAGES else 'labels'})")
    return dims


def _check_declared(path, dims, file_size, compressed, max_bytes):
    """Refuse a header that declares more data than allowed or than the file can hold."""
    declared, header = math.prod(dims), 4 * (1 + len(dims))
    if declared > max_bytes:
        raise DataFormatError(f"{path}: the header declares {dims} = {declared:,} bytes, more "
                              f"than the limit of {max_bytes:,} (corrupt, or not an IDX "
                              f"file of a data set glassnet reads)")
    if compressed and declared + header > file_size * DEFLATE_MAX_RATIO:
        raise DataFormatError(f"{path}: the header declares {dims} = {declared:,} bytes, more "
                              f"than a {file_size:,}-byte gzip file can hold (corrupt)")
    if not compressed and file_size - header != declared:
        raise DataFormatError(f"{path}: {file_size - header} data bytes, but the header "
                              f"promises {dims} = {declared} (truncated or corrupt)")


def read_idx(path, magic, ndim, max_bytes=MAX_IDX_BYTES):
    """An IDX file (raw or gzip) as a uint8 array of `ndim` dims, its header and length
    checked. Any failure to read the file is one DataFormatError naming it; a path that
    does not exist (or is a folder, or may not be read) keeps its own OSError."""
    compressed, dims = False, ()
    try:
        with open(path, "rb") as raw:
            file_size = os.fstat(raw.fileno()).st_size
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            dims = _idx_dims(path, f.read(4 * (1 + ndim)), magic, ndim)
            _check_declared(path, dims, file_size, compressed, max_bytes)
            declared = math.prod(dims)
            data, got = _read_into(f, declared)
            more = f.read(1)                    # one byte past the declared size
    except (DataFormatError, *PATH_ERRORS):
        raise
    except MemoryError as e:
        raise DataFormatError(f"{path}: its {math.prod(dims):,} bytes do not fit in the "
                              f"memory available") from e
    except (OSError, EOFError, zlib.error) as e:
        what = "gzip data" if compressed else "file"
        raise DataFormatError(f"{path}: the {what} cannot be read: corrupt or truncated "
                              f"({type(e).__name__}: {e})") from e
    if got < declared:
        raise DataFormatError(f"{path}: {got} data bytes, but the header promises {dims} "
                              f"= {declared} (truncated or corrupt)")
    if more:
        raise DataFormatError(f"{path}: more than the {declared} data bytes the header "
                              f"promises ({dims}): corrupt, or a deflate bomb")
    return data.reshape(dims)


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
