"""DataLoader: batches of a dataset as Tensors, with PyTorch's arguments and rules.

How a batch is made. The batch sampler (built from batch_size, shuffle, sampler and
drop_last unless given) yields lists of indices. With the default collate_fn, a dataset
that defines `get_batch(indices)` builds the whole batch in one call (one fancy-indexing
gather instead of a Python call per sample), and its arrays are wrapped as Tensors without
a copy; when it returns None, or has no get_batch, the samples are read one by one and
combined by `collate_fn` (default_collate). Both ways give the same batch.

Workers. `num_workers=k` prepares batches in k background threads (see workers.py for why
threads), `prefetch_factor` batches ahead per worker; glassnet's older `prefetch=k` is one
worker k batches ahead. Shuffling orders come from `generator` (else glassnet's global
generator) and never depend on the number of workers.
"""
import itertools

import numpy as np

from ..random import check_generator, peek_seed, resolve_generator
from .collate import batch_as_tensors, default_collate, default_convert
from .dataset import IterableDataset
from .sampler import (BatchSampler, InfiniteConstantSampler, RandomSampler, SequentialSampler,
                      positive_int)
from .workers import Exhausted, worker_batches

_FIXED = frozenset({"batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                    "persistent_workers"})


class DataLoader:
    """Iterate over `dataset` in batches, as torch.utils.data.DataLoader does.

    Differences from PyTorch: workers are threads, restarted every epoch even with
    `persistent_workers` (accepted); `pin_memory`, `pin_memory_device`,
    `multiprocessing_context` and `in_order` are accepted and have no effect (CPU only,
    batches always in order); random orders are glassnet's own (see sampler.py).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True, prefetch=0):
        self.dataset, self.generator = dataset, check_generator(generator, "DataLoader")
        self._iterable = isinstance(dataset, IterableDataset)
        self._check_workers(num_workers, prefetch_factor, persistent_workers, timeout, prefetch)
        self.num_workers, self.timeout, self.worker_init_fn = num_workers, timeout, worker_init_fn
        self.prefetch_factor = 2 if num_workers and prefetch_factor is None else prefetch_factor
        self.persistent_workers, self.prefetch = persistent_workers, prefetch
        self.pin_memory, self.pin_memory_device, self.in_order = pin_memory, pin_memory_device, \
            in_order
        self.multiprocessing_context = multiprocessing_context
        shuffle = self._check_sampling(batch_size, shuffle, sampler, batch_sampler, drop_last)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        if sampler is None:
            sampler = InfiniteConstantSampler() if self._iterable else \
                RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self._auto_collation = batch_sampler is not None
        self.collate_fn = collate_fn if collate_fn is not None else \
            default_collate if self._auto_collation else default_convert
        self._epochs = itertools.count()
        self._ready = True

    def __setattr__(self, name, value):
        if name in _FIXED and self.__dict__.get("_ready"):
            raise ValueError(f"DataLoader: {name} cannot be changed once the loader is built; "
                             f"build a new DataLoader")
        super().__setattr__(name, value)

    def _check_workers(self, num_workers, prefetch_factor, persistent_workers, timeout,
                       prefetch):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an integer >= 0 (0: load in the "
                             f"main thread), got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be >= 0 seconds, got {timeout!r}")
        if prefetch_factor is not None and num_workers == 0:
            raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (or leave it "
                             "None)")
        if prefetch_factor is not None:
            positive_int(prefetch_factor, "DataLoader", "prefetch_factor")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers needs num_workers > 0")
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an integer >= 0, got {prefetch!r}")
        if prefetch and num_workers:
            raise ValueError("DataLoader: give num_workers (with prefetch_factor) or glassnet's "
                             "prefetch=, not both")

    def _check_sampling(self, batch_size, shuffle, sampler, batch_sampler, drop_last):
        """PyTorch's rules for the options that exclude each other; returns shuffle."""
        if self._iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader: an IterableDataset sets its own order; "
                                     f"leave {name} unset, got {name}={value!r}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle exclude each other (the sampler "
                             "decides the order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler "
                             "and drop_last (it makes the batches itself)")
        if batch_sampler is None and batch_size is not None:
            positive_int(batch_size, "DataLoader", "batch_size")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None turns batching off, so drop_last "
                             "has nothing to drop")
        return shuffle

    def __len__(self):
        """The number of batches (of samples when batching is off)."""
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self):
        tasks = iter(self.batch_sampler if self._auto_collation else self.sampler)
        workers, depth = (self.num_workers, self.prefetch_factor) if self.num_workers else \
            (1, self.prefetch) if self.prefetch else (0, 0)
        epoch = next(self._epochs)
        if workers == 0:
            return _LoaderIter(self._serial(tasks), self)
        # the workers' seeds come from the generator's state without advancing it, so the
        # order of later epochs does not depend on whether workers are used
        seed = peek_seed(resolve_generator(self.generator, "DataLoader"))
        seed = int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)
        return _LoaderIter(worker_batches(
            self.dataset, tasks, self._fetcher, num_workers=workers, depth=depth, seed=seed,
            init_fn=self.worker_init_fn, timeout=self.timeout), self)

    def _serial(self, tasks):
        fetch = self._fetcher(self.dataset)
        for index in tasks:
            try:
                yield fetch(index)
            except Exhausted:
                return

    def _fetcher(self, dataset):
        """The function from one task (a list of indices, or one index without batching) to
        its batch, reading `dataset` (a worker's own copy, or the loader's)."""
        if self._iterable:
            return _StreamFetcher(dataset, self._auto_collation, self.collate_fn,
                                  self.drop_last)
        return _MapFetcher(dataset, self._auto_collation, self.collate_fn)


class _MapFetcher:
    def __init__(self, dataset, batched, collate_fn):
        self.dataset, self.batched, self.collate_fn = dataset, batched, collate_fn
        self.gather = getattr(dataset, "get_batch", None) \
            if batched and collate_fn is default_collate else None

    def __call__(self, index):
        if not self.batched:
            return self.collate_fn(self.dataset[index])
        if self.gather is not None:
            batch = self.gather(np.asarray(index, dtype=np.int64))
            if batch is not None:
                return batch_as_tensors(batch)
        many = getattr(self.dataset, "__getitems__", None)
        samples = many(index) if many is not None else [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class _StreamFetcher:
    """Cuts batches from an IterableDataset's stream, opened on the first call (so inside the
    worker, where __iter__ can see get_worker_info())."""

    def __init__(self, dataset, batched, collate_fn, drop_last):
        self.dataset, self.batched, self.collate_fn = dataset, batched, collate_fn
        self.drop_last, self.stream = drop_last, None

    def __call__(self, index):
        if self.stream is None:
            self.stream = iter(self.dataset)
        if not self.batched:
            sample = next(self.stream, _NOTHING)
            if sample is _NOTHING:
                raise Exhausted
            return self.collate_fn(sample)
        samples = list(itertools.islice(self.stream, len(index)))
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise Exhausted
        return self.collate_fn(samples)


_NOTHING = object()


class _LoaderIter:
    """One pass over a DataLoader: an iterator that also knows its length, as torch's does."""

    def __init__(self, batches, loader):
        self._batches, self._loader = batches, loader

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)

    def close(self):
        """Stop early: background workers finish their current batch and end."""
        self._batches.close()
