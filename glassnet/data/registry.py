"""The data sets by name, for the command line: `get_dataset('cifar10', train=False)`.

Every data set returned carries what a trainer needs to know about it:
`input_shape` (one sample as a model sees it: channels first for images, i.e. after
`transforms.ToTensor`), `num_classes` (None for regression) and `task`
('classification' or 'regression'). `available_datasets()` says which are on disk
and where, for `glassnet datasets`.
"""
import os
from dataclasses import dataclass

from .cifar import CIFAR10
from .folder import ImageFolder
from .mnist import FashionMNIST, MNIST, DataFormatError
from .synthetic import Blobs, Sine
from .transforms import Compose, Normalize, ToTensor


@dataclass(frozen=True)
class Entry:
    """What the registry knows about one data set."""
    cls: type
    description: str
    kind: str = "files"      # 'files' (read from disk), 'generated', or 'folder' (needs root)


_REGISTRY = {
    "mnist": Entry(MNIST, "MNIST handwritten digits, 28x28 gray, 10 classes"),
    "fashion-mnist": Entry(FashionMNIST, "Zalando's Fashion-MNIST, 28x28 gray, 10 clothing "
                           "classes"),
    "cifar10": Entry(CIFAR10, "CIFAR-10, 32x32 colour, 10 classes"),
    "blobs": Entry(Blobs, "separable Gaussian blobs, 2-D points, 2 classes (generated)",
                   "generated"),
    "sine": Entry(Sine, "sin(t) -> cos(t) sequences, 50 steps (generated)", "generated"),
    "imagefolder": Entry(ImageFolder, "your images, one sub-folder per class "
                         "(root/<class>/*.png; or root/train/<class>, root/test/<class>)",
                         "folder"),
}


def _image_folder(root, train, **options):
    if not root:
        raise ValueError("get_dataset('imagefolder'): give root=, the folder of class folders")
    return ImageFolder(root, train=train, **options)     # root/train, root/test or root


def dataset_names():
    return list(_REGISTRY)


def describe(name):
    """The one-line description of data set `name`."""
    return _entry(name).description


def _entry(name):
    if name not in _REGISTRY:
        raise KeyError(f"get_dataset: no data set named {name!r}; available: "
                       f"{', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def get_dataset(name, root=None, train=True, download=False, transform=None, **options):
    """The named data set's training (or test) split.

    root: where to look first (required for 'imagefolder'); download: fetch mnist,
    fashion-mnist or cifar10 when not found locally; transform: a batch transform
    (see `default_transform`); options: passed to the class (e.g. `n=` for blobs,
    `seq_len=` for sine, `size=` for imagefolder).
    """
    entry = _entry(name)
    root = os.fspath(root) if root else None
    if transform is not None:
        options["transform"] = transform
    if entry.kind == "files":
        return entry.cls(root, train=train, download=download, **options)
    if entry.kind == "generated":
        return entry.cls(train=train, **options)
    return _image_folder(root, train, **options)


def default_transform(dataset):
    """ToTensor then per-channel normalisation with the data set's own mean and std, for
    image data sets that publish them (mnist, fashion-mnist, cifar10); ToTensor alone for
    other image sets; None for generated ones."""
    if len(getattr(dataset, "input_shape", ())) != 3:      # not (C, H, W) images
        return None
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    if mean is None:
        return ToTensor()
    return Compose([ToTensor(), Normalize(mean, std)])


def available_datasets(root=None):
    """For each data set name, whether it can be used now and where it is.

    Each value is a dict: present (bool), where (the folder read, or 'generated'),
    task, input_shape, num_classes, and test_samples (the size of the test split)
    when present; looked_in (the folders searched) and error (why it is not usable)
    when not. File-based sets are opened (and so validated) to find out.
    """
    found = {}
    for name, entry in _REGISTRY.items():
        try:
            if entry.kind == "folder" and not root:
                raise FileNotFoundError("needs a folder of class folders (give a data dir)")
            ds = get_dataset(name, root, train=False)
        except (FileNotFoundError, DataFormatError, ValueError) as e:
            looked_in = entry.cls.search_dirs(root) if entry.kind == "files" else \
                [os.fspath(root)] if root else []
            found[name] = {"present": False, "looked_in": looked_in,
                           "error": str(e)}
            continue
        where = getattr(ds, "folder", None) or getattr(ds, "root", None) or "generated"
        found[name] = {"present": True, "where": where, "test_samples": len(ds),
                       "task": ds.task, "input_shape": list(ds.input_shape),
                       "num_classes": ds.num_classes}
    return found

