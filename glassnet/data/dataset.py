"""Datasets, with PyTorch's names and rules: Dataset (map-style), IterableDataset,
TensorDataset, Subset, ConcatDataset, ChainDataset, random_split; and ImageDataset,
glassnet's images-in-memory base."""
import bisect
import itertools
import math
import operator
from typing import Generic, TypeVar

import numpy as np

from ..random import resolve_generator
from ..tensor import Tensor, as_array

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: subclass and define `__getitem__(i)` -> a sample and `__len__`.

    A dataset that can also build a whole batch at once defines `get_batch(indices)` (an
    int64 array) -> the batch as default_collate would build it from `[self[i] for i in
    indices]`, with NumPy arrays in place of tensors (e.g. a tuple of stacked arrays). The
    DataLoader then gathers each batch with one call instead of one Python call per sample.
    `get_batch` may return None, meaning "not with the current settings" (e.g. a per-sample
    transform): the DataLoader then collates the samples one by one.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: a Dataset must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A dataset read as a stream: subclass and define `__iter__`.

    With `num_workers=k` each of the DataLoader's k workers iterates its own copy of the
    dataset, so every sample comes k times unless `__iter__` takes its share by
    `get_worker_info()` (its `id`, `num_workers` and `dataset`, this worker's copy), as in
    PyTorch.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: an IterableDataset must define "
                                  f"__iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


def _wrap(array):
    return Tensor._make(np.asarray(array), False, None)


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
    """Samples are rows of the given tensors/arrays (all with the same first dimension):
    `dataset[i]` is a tuple of Tensors sharing memory with them."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        arrays = [as_array(t) for t in tensors]
        sizes = {a.shape[0] if a.ndim else None for a in arrays}
        if len(sizes) != 1 or None in sizes:
            raise ValueError(f"TensorDataset: every tensor needs the same first dimension, got "
                             f"shapes {[a.shape for a in arrays]}")
        self.arrays = arrays

    @property
    def tensors(self):
        return tuple(_wrap(a) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(_wrap(a[index]) for a in self.arrays)

    def get_batch(self, indices):
        return tuple(a[indices] for a in self.arrays)


def _checked_index(index, n, who):
    """`index` as a non-negative int below n (negative ones count from the end)."""
    try:
        i = operator.index(index)
    except TypeError:
        raise TypeError(f"{who}: an index must be an integer, got {type(index).__name__}") \
            from None
    if not -n <= i < n:
        raise IndexError(f"{who}: index {i} is out of range for {n} samples")
    return i + n if i < 0 else i


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (`.dataset`, `.indices`, the
    latter kept as an int64 array)."""

    def __init__(self, dataset, indices):
        indices = np.asarray(getattr(indices, "_array", indices))
        if indices.size == 0:
            indices = indices.astype(np.int64).reshape(0)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be a 1-D sequence of integers, got dtype "
                            f"{indices.dtype} and shape {indices.shape}")
        n = len(dataset) if hasattr(type(dataset), "__len__") else None
        if n is not None and indices.size and not (-n <= indices.min() and indices.max() < n):
            bad = indices[(indices < -n) | (indices >= n)][0]
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples")
        self.dataset, self.indices = dataset, indices.astype(np.int64, copy=False)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[int(self.indices[_checked_index(i, len(self), "Subset")])
                                 for i in index]]
        return self.dataset[int(self.indices[_checked_index(index, len(self), "Subset")])]

    def get_batch(self, indices):
        gather = getattr(self.dataset, "get_batch", None)
        return None if gather is None else gather(self.indices[indices])



class ClassSubset(Subset):
    """The samples of an image-classification dataset whose labels are among `classes`
    (names from `dataset.classes`, or label numbers), relabelled 0..k-1 in the order given;
    with `per_class=n`, only the first n of each class in `generator`'s random order (all of
    them, in the dataset's order, without a generator). `.classes` are the chosen names, and
    the batched `get_batch` path is kept. Transfer learning's data: "the four vehicle
    classes, 100 images each"."""

    def __init__(self, dataset, classes, per_class=0, generator=None):
        names = list(getattr(dataset, "classes", None) or [])
        ids = [self._class_id(c, names) for c in classes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"ClassSubset: a class is named twice in {list(classes)}")
        labels = np.asarray(self._labels(dataset))
        order = np.arange(len(labels)) if generator is None else \
            resolve_generator(generator, "ClassSubset").permutation(len(labels))
        chosen = [order[labels[order] == i] for i in ids]
        if per_class:
            short = [names[i] if names else i for i, c in zip(ids, chosen) if len(c) < per_class]
            if short:
                raise ValueError(f"ClassSubset: fewer than {per_class} samples of class(es) "
                                 f"{short}")
            chosen = [c[:per_class] for c in chosen]
        super().__init__(dataset, np.sort(np.concatenate(chosen)) if generator is None
                         else np.concatenate(chosen))
        self.lookup = np.full(max(int(labels.max(initial=0)), max(ids)) + 1, -1, np.int64)
        self.lookup[ids] = np.arange(len(ids))
        self.classes = [names[i] for i in ids] if names else [str(i) for i in ids]
        self.num_classes = len(ids)
        for attribute in ("input_shape", "mean", "std", "task", "name"):
            if hasattr(dataset, attribute):
                setattr(self, attribute, getattr(dataset, attribute))

    @staticmethod
    def _class_id(name, names):
        if isinstance(name, str) and name in names:
            return names.index(name)
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool) and \
                0 <= name and (not names or name < len(names)):
            return int(name)
        known = ", ".join(names) if names else "label numbers"
        raise KeyError(f"unknown class {name!r}; the data set's classes are {known}")

    @staticmethod
    def _labels(dataset):
        for attribute in ("labels", "targets"):
            values = getattr(dataset, attribute, None)
            if values is not None:
                return as_array(values)
        raise TypeError(f"ClassSubset: {type(dataset).__name__} has no .labels or .targets to "
                        f"select classes by")

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x, int(self.lookup[int(y)])

    def get_batch(self, indices):
        batch = super().get_batch(indices)
        if batch is None:
            return None
        x, y = batch
        return x, self.lookup[np.asarray(y)]


class AlternatingFlips(Dataset):
    """Horizontal flips without the randomness of each epoch (Jordan, 2024, airbench's
    "alternating flip"): image i is mirrored in epoch e exactly when e + bit[i] is odd,
    with bit[i] drawn once from `generator`. Over any two consecutive epochs every image is
    seen both ways round, where random flips show a quarter of them the same way twice.
    Wraps a dataset whose samples are (image array (..., H, W), label); the training loop
    sets `epoch` (the run does it at the start of each epoch)."""

    def __init__(self, dataset, generator=None):
        self.dataset, self.epoch = dataset, 1
        self.bits = resolve_generator(generator, "AlternatingFlips").integers(
            0, 2, len(dataset)).astype(bool)
        for attribute in ("classes", "num_classes", "input_shape", "mean", "std", "task",
                          "name", "labels", "targets"):
            if hasattr(dataset, attribute):
                setattr(self, attribute, getattr(dataset, attribute))

    def __len__(self):
        return len(self.dataset)

    def _flipped(self, indices):
        return self.bits[indices] ^ (self.epoch % 2 == 1)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        x = as_array(x)
        return (np.ascontiguousarray(x[..., ::-1]) if self._flipped(index) else x), y

    def get_batch(self, indices):
        batch = getattr(self.dataset, "get_batch", lambda i: None)(indices)
        if batch is None:
            return None
        x, y = batch
        flip = self._flipped(np.asarray(indices))
        x = np.array(x, copy=True)
        x[flip] = x[flip][..., ::-1]
        return x, y

class ConcatDataset(Dataset):
    """Map-style datasets one after the other; `cumulative_sizes[k]` is the number of
    samples in datasets 0..k."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: give at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: {type(d).__name__} is an IterableDataset, "
                                f"which has no indices; ChainDataset chains those")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        i = _checked_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, i)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][i - start]


class ChainDataset(IterableDataset):
    """IterableDatasets read one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _parts(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: {type(d).__name__} is not an IterableDataset; "
                                f"ConcatDataset joins map-style datasets")
            yield d

    def __iter__(self):
        for d in self._parts():
            yield from d

    def __len__(self):
        return sum(len(d) for d in self._parts())


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
    order = resolve_generator(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
