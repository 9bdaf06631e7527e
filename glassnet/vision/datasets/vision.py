"""VisionDataset: what torchvision's data sets share (root, transforms, repr), and the
batched path that lets a DataLoader skip the per-sample Python work.

A torchvision data set hands out one sample at a time: a PIL image, put through
`transform`, and an int label, put through `target_transform`. That is kept exactly. The
DataLoader (with its default collation) may instead ask `get_batch(indices)` for a whole
batch: when the transform declares itself `batchable` (glassnet.vision.transforms'
`ToTensor`, `Normalize`, and a `Compose` of such), the uint8 images of the batch are
transformed in one vectorised call, `transform.apply_batch(images[indices])`, which gives
the same values as transforming each image and stacking the results. Anything else
(no transform: the samples are PIL images; a transform that is not batchable; a
target_transform) makes `get_batch` return None, and the loader goes sample by sample.
"""
import os

import numpy as np
from PIL import Image

from ...data.dataset import Dataset
from ...tensor import Tensor, as_array


class StandardTransform:
    """`transform` for the input and `target_transform` for the target, as one callable
    (torchvision's `dataset.transforms`)."""

    def __init__(self, transform=None, target_transform=None):
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self):
        body = [type(self).__name__]
        for head, transform in (("Transform: ", self.transform),
                                ("Target transform: ", self.target_transform)):
            if transform is not None:
                body += _indent_after_head(repr(transform), head)
        return "\n".join(body)


def _indent_after_head(text, head):
    """`text`'s lines, the first after `head`, the others indented under it."""
    lines = text.splitlines() or [""]
    return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


class VisionDataset(Dataset):
    """The base of the torchvision-shaped data sets: `root` (`~` expanded), `transform`,
    `target_transform` (or one joint `transforms(input, target)`), and torchvision's repr:

        Dataset MNIST
            Number of datapoints: 60000
            Root location: data
            Split: Train
    """
    _repr_indent = 4

    def __init__(self, root, transforms=None, transform=None, target_transform=None):
        if isinstance(root, (str, os.PathLike)):
            root = os.path.expanduser(root)
        self.root = root
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError(f"{type(self).__name__}: give either transforms= or "
                             f"transform=/target_transform=, not both")
        self.transform, self.target_transform = transform, target_transform
        self.transforms = StandardTransform(transform, target_transform) if separate \
            else transforms

    def __repr__(self):
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body.append(repr(self.transforms))
        return "\n".join([f"Dataset {type(self).__name__}"] +
                         [" " * self._repr_indent + line for line in body])

    def extra_repr(self):
        """More lines for the repr (the split, for data sets that have one)."""
        return ""

    def _apply(self, sample, target):
        """(transform(sample), target_transform(target)), each only when given (read at
        call time, so a transform assigned after construction is used)."""
        return StandardTransform(self.transform, self.target_transform)(sample, target)

    def batch_transform(self):
        """`transform.apply_batch` when a whole batch can be transformed at once (the
        transform says it is `batchable` and there is no target_transform), else None."""
        if self.target_transform is not None or self.transform is None:
            return None
        if not getattr(self.transform, "batchable", False):
            return None
        return self.transform.apply_batch


class ImageArrayDataset(VisionDataset):
    """A data set held in memory: `data`, uint8 images (N, H, W) or (N, H, W, C) as a
    Tensor or ndarray, and `targets`, their labels (Tensor, ndarray or list). A sample is
    (PIL image of `mode`, label). Samples are read from the two attributes each time, so
    a user who replaces them (`ds.data = ds.data[:100]`) gets what torchvision gives."""
    mode = None         # the PIL mode of a sample ('L', 'RGB')

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image = Image.fromarray(as_array(self.data)[index], mode=self.mode)
        if isinstance(self.targets, Tensor):        # torchvision: int(self.targets[index])
            target = int(self.targets._array[index])
        else:
            target = self.targets[index]
        return self._apply(image, target)

    def get_batch(self, indices):
        """(transformed images, int64 labels) of the samples at `indices` in one call,
        equal to making each sample and stacking; None when the samples must be made one
        by one (see `batch_transform`)."""
        apply = self.batch_transform()
        if apply is None:
            return None
        return as_array(apply(as_array(self.data)[indices])), take_targets(self.targets, indices)


def take_targets(targets, indices):
    """targets[indices] as int64, for targets held as a Tensor, an array or a list (a list
    is read item by item: converting all of it would cost O(dataset) per batch)."""
    if isinstance(targets, (Tensor, np.ndarray)):
        return as_array(targets)[indices].astype(np.int64, copy=False)
    return np.fromiter((targets[int(i)] for i in indices), np.int64, len(indices))


def split_repr(train):
    return f"Split: {'Train' if train is True else 'Test'}"
