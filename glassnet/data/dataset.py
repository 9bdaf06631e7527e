"""Datasets: anything with __len__ and __getitem__; ImageDataset, TensorDataset, Subset,
random_split."""
import math

import numpy as np

from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """Subclass and define __len__ and __getitem__(i) -> a sample (tuple of arrays/numbers).

    A dataset that can also return a whole batch at once defines `get_batch(indices)`
    (an int64 array) -> tuple of stacked arrays; the DataLoader then builds each batch
    with one fancy-indexing call instead of one Python call per sample.
    """

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class ImageDataset(Dataset):
    """Images and integer labels held in memory (`self.images`, `self.labels`): samples are
    (image, label), and `transform` maps a whole batch of images (a one-image batch for
    `dataset[i]`), as the transforms in `glassnet.data.transforms` do."""
    transform = None

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


class TensorDataset(Dataset):
    """Samples are rows of the given tensors/arrays (all with the same first dimension)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        arrays = [t._array if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        sizes = {a.shape[0] if a.ndim else None for a in arrays}
        if len(sizes) != 1 or None in sizes:
            raise ValueError(f"TensorDataset: every tensor needs the same first dimension, got "
                             f"shapes {[a.shape for a in arrays]}")
        self.arrays = arrays

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices):
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        return _batch(self.dataset, self.indices[indices])


def _batch(dataset, indices):
    """A batch as a tuple of stacked arrays, in one call where the dataset allows."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    samples = [dataset[int(i)] for i in indices]
    first = samples[0]
    if not isinstance(first, (tuple, list)):
        return (np.stack([np.asarray(s) for s in samples]),)
    return tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(first)))


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of the given lengths (ints, or fractions summing to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1) \
            and sum(lengths) != n:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):      # the remainder, round robin, as PyTorch
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    order = (generator or default_generator()).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
