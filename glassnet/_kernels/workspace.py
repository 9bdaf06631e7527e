"""Scratch arrays reused from one call to the next.

A training step allocates the same big temporaries every time (the patch matrix
of each convolution, its padded input, ...). Freed and allocated again, such an
array often comes back as fresh pages from the operating system, and every
fresh 4 KiB page costs a page fault: measured here at 1-3 us each, that is
several milliseconds per step for the MNIST CNN's second convolution, as much
as one of its GEMMs. So the ops hand their private scratch arrays back to a
workspace when they are done with them, and take them from it next time.

Only arrays that nothing else can see may be given back: an op's own
temporaries, never an input, an output or a gradient it returns.
"""
import threading

import numpy as np

__all__ = ["Workspace", "WORKSPACE"]


class Workspace:
    """Free arrays kept by (shape, dtype), up to `max_bytes` in all."""

    def __init__(self, max_bytes=256 << 20):
        self.max_bytes = max_bytes
        self._free = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.misses = 0            # takes that had to allocate: flat in a steady training loop

    def take(self, shape, dtype):
        """An uninitialised C-contiguous array: a kept one if there is one, else new."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            kept = self._free.get(key)
            if kept:
                array = kept.pop()
                self._bytes -= array.nbytes
                return array
            self.misses += 1
        return np.empty(shape, dtype)

    def give(self, *arrays):
        """Keep these arrays for a later `take` (the caller must hold no other reference)."""
        with self._lock:
            for a in arrays:
                if (a is None or not a.flags.owndata or not a.flags.c_contiguous
                        or self._bytes + a.nbytes > self.max_bytes):
                    continue
                kept = self._free.setdefault((a.shape, a.dtype), [])
                if not any(b is a for b in kept):      # given twice would be taken twice
                    kept.append(a)
                    self._bytes += a.nbytes

    def clear(self):
        with self._lock:
            self._free.clear()
            self._bytes = 0

    @property
    def nbytes(self):
        return self._bytes


WORKSPACE = Workspace()
