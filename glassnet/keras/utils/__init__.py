"""keras.utils: one-hot labels (`to_categorical`), `normalize`, the batch-provider base
class `Sequence` (Keras 3 calls it `PyDataset`) and `set_random_seed`.

    from glassnet.keras.utils import to_categorical, Sequence
    from glassnet.keras.utils import np_utils          # the Keras 2 spelling of the notes
"""
import itertools
import random as _py_random

import numpy as np

from ... import random as _random
from . import np_utils  # noqa: F401  (keras.utils.np_utils.to_categorical)
from .np_utils import normalize, to_categorical

__all__ = ["to_categorical", "normalize", "Sequence", "PyDataset", "set_random_seed",
           "np_utils"]


class Sequence:
    """A data set that hands out whole batches: subclass it, define `__len__` (batches per
    epoch) and `__getitem__(index)` (batch `index`, e.g. `(x_batch, y_batch)`), and pass it
    to `model.fit` instead of arrays. Why a class and not a generator: `fit` can ask for
    any batch by number, knows when an epoch ends (and calls `on_epoch_end`, where a
    subclass reshuffles) and can prefetch batches without reading one twice.

    `workers`, `use_multiprocessing` and `max_queue_size` are Keras 3's (`PyDataset`)
    settings for loading in parallel; they are kept for the trainer to read. Subclasses
    written for Keras 2 do not call `super().__init__()`, so the defaults also live on the
    class. Iterating over a Sequence yields its batches once, in order; one whose
    `__len__` is not defined counts as endless.
    """
    workers = 1
    use_multiprocessing = False
    max_queue_size = 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}.__getitem__(index) must return "
                                  f"batch number index")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}.__len__() must return the number "
                                  f"of batches in an epoch")

    @property
    def num_batches(self):
        """Batches per epoch (Keras 3's name for len), or None for an endless Sequence."""
        try:
            return len(self)
        except NotImplementedError:
            return None

    def on_epoch_begin(self):
        """Called by `fit` before each epoch."""

    def on_epoch_end(self):
        """Called by `fit` after each epoch: the place to reshuffle."""

    def __iter__(self):
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]


PyDataset = Sequence        # Keras 3's name; keras.utils.Sequence is the same class there


def set_random_seed(seed):
    """Seed every source of randomness a Keras program on glassnet draws from: Python's
    `random`, NumPy's global `np.random` and glassnet's generator (weights, dropout,
    shuffling, augmentation), as keras.utils.set_random_seed seeds Python, NumPy and the
    backend."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed: seed must be an int, got {seed!r}")
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2 ** 32)
    _random.manual_seed(int(seed))
