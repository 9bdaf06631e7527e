"""Samplers: the order in which a DataLoader visits a map-style dataset, with PyTorch's names
and rules (torch.utils.data.Sampler and its subclasses).

A sampler yields dataset indices (Python ints); a batch sampler yields lists of them. The
random samplers draw from their `generator` (a `glassnet.Generator` or a NumPy Generator)
or, without one, from glassnet's global generator, at the start of each pass: the same
`gn.manual_seed` or generator seed gives the same order every run. The orders are
glassnet's own, not the ones torch would draw (another random algorithm); what torch
defines — lengths, index multisets, batch sizes — is the same.
"""
import itertools
from typing import Generic, TypeVar

import numpy as np

from ..random import check_generator, resolve_generator

T_co = TypeVar("T_co", covariant=True)


def positive_int(value, who, name):
    """`value` as an int if it is a positive integer (not a bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Sampler(Generic[T_co]):
    """Base class: define `__iter__` (the indices of one pass) and, if known, `__len__`."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: a Sampler must define __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random order of the dataset. Without replacement: whole permutations, as many as
    `num_samples` needs (the last one cut short); with replacement: `num_samples` independent
    uniform draws. `num_samples` defaults to the dataset's length."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be True or False, got "
                            f"{replacement!r}")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, \
            num_samples
        self.generator = check_generator(generator, "RandomSampler")
        positive_int(self.num_samples, "RandomSampler", "num_samples")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self):
        return self.num_samples

    def __iter__(self):
        n, wanted = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError("RandomSampler: the dataset is empty; there is nothing to draw")
        rng = resolve_generator(self.generator, "RandomSampler")
        if self.replacement:
            yield from rng.integers(n, size=wanted).tolist()
            return
        whole, rest = divmod(wanted, n)
        for _ in range(whole):
            yield from rng.permutation(n).tolist()
        if rest:
            yield from rng.permutation(n)[:rest].tolist()


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order every pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = check_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        rng = resolve_generator(self.generator, "SubsetRandomSampler")
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """`num_samples` indices 0..len(weights)-1, index i drawn with probability proportional
    to weights[i] (with replacement by default; without, every index at most once).

    Bad weights are refused when the sampler is built (torch refuses them when it is
    first iterated)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        who = "WeightedRandomSampler"
        self.num_samples = positive_int(num_samples, who, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"{who}: replacement must be True or False, got {replacement!r}")
        weights = np.asarray(getattr(weights, "_array", weights), dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"{who}: weights must be a non-empty 1-D sequence, got shape "
                             f"{weights.shape}")
        if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.sum() <= 0:
            raise ValueError(f"{who}: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(f"{who}: cannot draw {num_samples} distinct indices without "
                             f"replacement from {np.count_nonzero(weights)} non-zero weights")
        self.weights, self.replacement = weights, replacement
        self.generator = check_generator(generator, who)

    def __iter__(self):
        rng = resolve_generator(self.generator, "WeightedRandomSampler")
        drawn = rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                           p=self.weights / self.weights.sum())
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of `sampler` (any iterable of indices) into lists of
    `batch_size`; the last, shorter list is kept unless `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = positive_int(batch_size, "BatchSampler", "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last must be True or False, got "
                             f"{drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class InfiniteConstantSampler(Sampler[None]):
    """None forever: the DataLoader's placeholder sampler for an IterableDataset, whose
    batches are cut from the dataset's own stream (the batch's length is all that counts)."""

    def __iter__(self):
        return itertools.repeat(None)
