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

How much to keep: a step's scratch grows with the batch. cifar-fast at batch 512 has
two 231 MB patch matrices alive at once (1 GB of scratch in all); with the old fixed
limit of 256 MiB one of them came fresh from the kernel every step, and filling it
(im2col) took 446 ms per step instead of 100 (the step: 4.49 -> 4.24 s). So the limit
is an eighth of the machine's memory (at least 256 MiB), and when a new array does not
fit, the arrays of the shapes least recently given back make room for it: a loop that
changes shapes (training, then evaluating at another batch size) does not pin the old
ones for good.
"""
import os
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["Workspace", "WORKSPACE", "default_max_bytes"]


def default_max_bytes():
    """An eighth of physical memory, at least 256 MiB (256 MiB where it cannot be read)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = 0
    return max(256 << 20, total // 8)


class Workspace:
    """Free arrays kept by (shape, dtype), up to `max_bytes` in all; the shapes least
    recently given back are dropped first to make room."""

    def __init__(self, max_bytes=None):
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes
        self._free = OrderedDict()       # (shape, dtype) -> [arrays], least recent first
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
                        or a.nbytes > self.max_bytes):
                    continue
                key = (a.shape, a.dtype)
                kept = self._free.setdefault(key, [])
                self._free.move_to_end(key)
                if any(b is a for b in kept):          # given twice would be taken twice
                    continue
                self._make_room(a.nbytes, key)
                if self._bytes + a.nbytes <= self.max_bytes:
                    kept.append(a)
                    self._bytes += a.nbytes

    def _make_room(self, nbytes, keep):
        """Drop arrays of the least recently given shapes (never `keep`'s) until nbytes fit."""
        for key in list(self._free):
            if self._bytes + nbytes <= self.max_bytes:
                return
            if key == keep:
                continue
            for a in self._free.pop(key):
                self._bytes -= a.nbytes

    def clear(self):
        with self._lock:
            self._free.clear()
            self._bytes = 0

    @property
    def nbytes(self):
        return self._bytes


WORKSPACE = Workspace()
