"""NumpyArrayIterator: the batches `ImageDataGenerator.flow(x, y)` gives, as a Sequence.

Each batch is gathered from the arrays, augmented as one batch by the generator, and
standardized; the order is reshuffled after every pass, as Keras's iterator does.
"""
import math
import threading

import numpy as np

from ... import random as _random
from ..utils import Sequence


def _split(arrays, fraction, subset, ignore_class_split):
    """Keras's validation_split: the first int(N * fraction) samples are 'validation', the
    rest 'training'; both must hold the same classes unless ignore_class_split."""
    if subset not in ("training", "validation"):
        raise ValueError(f"flow: subset must be 'training' or 'validation', got {subset!r}")
    x, y, weights = arrays
    cut = int(len(x) * fraction)
    if y is not None and not ignore_class_split and \
            not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:])):
        raise ValueError(f"flow: the training and validation subsets (split at sample {cut}) "
                         f"hold different classes; shuffle x and y first if they are sorted "
                         f"by label, or pass ignore_class_split=True")
    part = slice(None, cut) if subset == "validation" else slice(cut, None)
    return tuple(None if a is None else a[part] for a in arrays)


class NumpyArrayIterator(Sequence):
    """What `ImageDataGenerator.flow` returns: batch i is `it[i]`, `len(it)` batches per
    epoch (the last one partial), `on_epoch_end()` reshuffles; `next(it)` (or `it.next()`)
    walks the batches forever, reshuffling at each new epoch, as Keras's iterator does.

    Batches are x float (the generator's dtype), or (x, y), or (x, y, sample_weight).
    `x` is kept as given (uint8 stays uint8) and converted a batch at a time. With `seed`
    the iterator draws from a generator of its own, so its batches repeat run after run.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, ignore_class_split=False, subset=None):
        super().__init__()
        if isinstance(x, (tuple, list)):
            raise NotImplementedError("flow: x as (images, other inputs) is not supported by "
                                      "glassnet.keras; pass the images as one array")
        x = np.asarray(x)
        gen = image_data_generator
        if x.ndim != 4:
            raise ValueError(f"flow: x should be a batch of images of rank 4, got shape "
                             f"{x.shape}")
        for name, other in (("y", y), ("sample_weight", sample_weight)):
            if other is not None and len(other) != len(x):
                raise ValueError(f"flow: x and {name} should have the same length, got "
                                 f"{len(x)} and {len(other)}")
        arrays = (x, None if y is None else np.asarray(y),
                  None if sample_weight is None else np.asarray(sample_weight))
        if subset is not None:
            arrays = _split(arrays, gen._validation_split, subset, ignore_class_split)
        self.x, self.y, self.sample_weight = arrays
        gen._warn_channels(self.x.shape, "flow")
        if int(batch_size) < 1:
            raise ValueError(f"flow: batch_size must be a positive int, got {batch_size!r}")
        self.image_data_generator, self.dtype = gen, gen.dtype
        self.n, self.batch_size, self.shuffle, self.seed = len(self.x), int(batch_size), \
            shuffle, seed
        self.batch_index = self.total_batches_seen = 0
        self.index_array = None
        self.lock = threading.Lock()
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _generator(self):
        return _random.resolve_generator(self._rng, "flow")

    def _set_index_array(self):
        self.index_array = self._generator().permutation(self.n) if self.shuffle else \
            np.arange(self.n)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx):
        if not -len(self) <= idx < len(self):
            raise ValueError(f"NumpyArrayIterator: asked for batch {idx}, but an epoch has "
                             f"{len(self)} batches")
        idx %= len(self)
        with self.lock:
            if self.index_array is None:
                self._set_index_array()
            self.total_batches_seen += 1
            chosen = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(chosen)

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        """Start `next()` over at the beginning of a (freshly shuffled) epoch."""
        self.batch_index = 0

    def _next_indices(self):
        with self.lock:
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % self.n if self.n else 0
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            return self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        # the indices under the lock; the images are transformed outside it
        return self._get_batches_of_transformed_samples(self._next_indices())

    next = __next__

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch = np.asarray(self.x[index_array], dtype=self.dtype)
        batch = gen._augment(batch, self._generator())
        batch = gen._standardize(batch, per_image=True)
        if self.y is None:
            return batch
        out = (batch, self.y[index_array])
        return out if self.sample_weight is None else out + (self.sample_weight[index_array],)
