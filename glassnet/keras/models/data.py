"""What `fit`, `evaluate` and `predict` accept, as batches glassnet's loop can iterate.

- arrays (or lists of arrays for several inputs): cut into batches of `batch_size`,
  shuffled each epoch when asked;
- a `Sequence` (anything with __len__ and __getitem__ giving batches): its batches, in a
  shuffled order when asked, `on_epoch_end()` after each pass;
- a generator or iterator of batches (e.g. ImageDataGenerator.flow): `steps` batches per
  epoch, drawn on from where the last epoch stopped.
A batch is (x, y) or (x, y, sample_weight); inputs become float32 tensors (integer ids stay
integers), targets keep their kind.
"""
import math

import numpy as np

from ... import random as _random
from ..backend import as_tensor


def _arrays(x):
    return [np.asarray(a) for a in x] if isinstance(x, (list, tuple)) else np.asarray(x)


def _length(x, what):
    if isinstance(x, list):
        lengths = {len(a) for a in x}
        if len(lengths) != 1:
            raise ValueError(f"{what}: the inputs have different numbers of samples "
                             f"({', '.join(str(len(a)) for a in x)})")
        return lengths.pop()
    return len(x)


def _take(x, index):
    return [a[index] for a in x] if isinstance(x, list) else x[index]


def inputs_tensor(x):
    return [as_tensor(a) for a in x] if isinstance(x, (list, tuple)) else as_tensor(x)


def targets_tensor(y):
    from ..losses import _tensor
    return _tensor(y)


def is_array_like(x):
    return isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__array__")


class ArrayBatches:
    """Batches of (x, y[, weights]) cut from arrays."""

    def __init__(self, x, y, batch_size, shuffle, sample_weight=None, what="fit"):
        self.x = _arrays(x)
        self.y = None if y is None else _arrays(y)
        n = _length(self.x, what)
        if self.y is not None and _length(self.y, what) != n:
            raise ValueError(f"{what}: x and y have different numbers of samples: "
                             f"{n} inputs and {_length(self.y, what)} targets")
        if sample_weight is not None and len(sample_weight) != n:
            raise ValueError(f"{what}: sample_weight has {len(sample_weight)} entries for "
                             f"{n} samples")
        if n == 0:
            raise ValueError(f"{what}: the data has no samples")
        self.n, self.batch_size, self.shuffle = n, int(batch_size), shuffle
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight,
                                                                           np.float32)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def peek(self):
        """The first batch's data (for shapes), without starting an epoch."""
        index = slice(0, self.batch_size)
        x = inputs_tensor(_take(self.x, index))
        return (x,) if self.y is None else (x, targets_tensor(_take(self.y, index)))

    def split(self, fraction):
        """(the first 1 - fraction, the last fraction): Keras's validation_split."""
        cut = int(self.n * (1 - fraction))
        if cut == 0 or cut == self.n:
            raise ValueError(f"fit: validation_split={fraction} leaves no training or no "
                             f"validation samples out of {self.n}")
        head = slice(0, cut)
        tail = slice(cut, self.n)
        sw = self.sample_weight
        first = ArrayBatches(_take(self.x, head), _take(self.y, head), self.batch_size,
                             self.shuffle, None if sw is None else sw[head])
        second = ArrayBatches(_take(self.x, tail), _take(self.y, tail), self.batch_size, False,
                              None if sw is None else sw[tail])
        return first, second

    def __iter__(self):
        order = _random.default_generator().permutation(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            index = slice(start, start + self.batch_size) if order is None else \
                np.sort(order[start:start + self.batch_size])
            x = inputs_tensor(_take(self.x, index))
            if self.y is None:
                yield x
                continue
            batch = (x, targets_tensor(_take(self.y, index)))
            if self.sample_weight is not None:
                batch += (self.sample_weight[index],)
            yield batch


class SequenceBatches:
    """The batches of a Sequence, `on_epoch_end()` after each pass."""

    def __init__(self, sequence, shuffle, steps=None):
        self.sequence, self.shuffle = sequence, shuffle
        self.steps = len(sequence) if steps is None else min(int(steps), len(sequence))

    def __len__(self):
        return self.steps

    def peek(self):
        batch = _convert(self.sequence[0])
        return batch if isinstance(batch, tuple) else (batch,)

    def __iter__(self):
        order = _random.default_generator().permutation(len(self.sequence)) if self.shuffle \
            else range(len(self.sequence))
        for i in list(order)[:self.steps]:
            yield _convert(self.sequence[int(i)])
        if hasattr(self.sequence, "on_epoch_end"):
            self.sequence.on_epoch_end()


class GeneratorBatches:
    """`steps` batches per pass from a (usually endless) generator."""

    def __init__(self, generator, steps, what="fit"):
        if steps is None:
            raise ValueError(f"{what}: a generator needs steps_per_epoch (or steps): how many "
                             "batches make one epoch")
        self.iterator, self.steps = iter(generator), int(steps)
        self._held = []         # a batch drawn by peek(), given out first

    def __len__(self):
        return self.steps

    def peek(self):
        if not self._held:
            self._held.append(_convert(next(self.iterator)))
        batch = self._held[0]
        return batch if isinstance(batch, tuple) else (batch,)

    def __iter__(self):
        for _ in range(self.steps):
            if self._held:
                yield self._held.pop()
                continue
            try:
                batch = next(self.iterator)
            except StopIteration:
                return
            yield _convert(batch)


def _convert(batch):
    if isinstance(batch, tuple) and len(batch) in (2, 3):
        x, y = inputs_tensor(batch[0]), targets_tensor(batch[1])
        if len(batch) == 3 and batch[2] is not None:
            return x, y, np.asarray(batch[2], np.float32)
        return x, y
    if isinstance(batch, tuple) and len(batch) == 1:
        return inputs_tensor(batch[0])
    return inputs_tensor(batch)


def adapt(x, y=None, batch_size=None, shuffle=False, steps=None, sample_weight=None,
          what="fit"):
    """Batches from whatever Keras's fit/evaluate/predict accept as `x` (and `y`)."""
    if x is None:
        raise ValueError(f"{what}: no data given (x is None)")
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not is_array_like(x):
        return SequenceBatches(x, shuffle, steps)
    if hasattr(x, "__next__") or (hasattr(x, "__iter__") and not is_array_like(x)):
        return GeneratorBatches(x, steps if steps is not None else
                                (len(x) if hasattr(x, "__len__") else None), what)
    return ArrayBatches(x, y, batch_size or 32, shuffle, sample_weight, what)
