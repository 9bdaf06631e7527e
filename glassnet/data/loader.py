"""DataLoader: batches of a dataset as Tensors, optionally shuffled and prefetched."""
import queue
import threading

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .dataset import _batch


class DataLoader:
    """Iterate over `dataset` in batches.

    shuffle draws a new order every epoch from `generator` (default: glassnet's
    seeded generator, so `gn.manual_seed` fixes the order). Datasets with
    `get_batch` are gathered with one indexing call per batch; each field of a
    batch becomes a Tensor keeping its array's dtype. With `prefetch=k`, a
    background thread prepares up to k batches ahead.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 collate_fn=None, prefetch=0):
        if int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.generator = shuffle, drop_last, generator
        self.collate_fn, self.prefetch = collate_fn, int(prefetch)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batches(self):
        n = len(self.dataset)
        order = (self.generator or default_generator()).permutation(n) if self.shuffle \
            else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.collate_fn is not None:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])
            else:
                yield tuple(Tensor._make(np.asarray(a), False, None)
                            for a in _batch(self.dataset, indices))

    def __iter__(self):
        if self.prefetch <= 0:
            return self._batches()
        return _prefetched(self._batches(), self.prefetch)


_DONE = object()


def _prefetched(batches, depth):
    """Run the batch generator in a thread, `depth` batches ahead of the consumer."""
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        """Wait for room in the queue, unless the consumer has gone away."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for b in batches:
                if not put(b):
                    return
            put(_DONE)
        except BaseException as e:      # hand the error to the consumer
            put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
