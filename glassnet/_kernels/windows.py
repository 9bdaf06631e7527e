"""Sliding-window kernels: im2col / col2im for convolution and the window
offsets that pooling walks.

Layout. These routines see an image batch as an array whose LAST two axes are
the spatial ones (height, width), with any leading axes carried along. For
convolution the batch is laid out (C, N, H, W): the patch matrix then comes out
as (C*kh*kw, N*Ho*Wo), ready for one GEMM with the (O, C*kh*kw) weight matrix,
and the GEMM's (O, N, Ho, Wo) result reaches NCHW by swapping two outer axes, a
copy of whole Ho*Wo planes. (Measured against the (C, H, W, N) layout, whose
window slices are longer contiguous runs: its im2col/col2im are faster, but the
transposes it needs on the way in and out cost as much again, and on the MNIST
CNN's first layer more than the whole PyTorch step.) A channels-last front end
moves its channel axis first and its batch axis second.

Geometry. One spatial dim of size `size`, padded by `lo` and `hi`, read by a
kernel of `k` taps `dilation` apart every `stride` elements, gives
`(size + lo + hi - dilation*(k-1) - 1) // stride + 1` outputs; output i, tap p
reads padded position i*stride + p*dilation.

Threads. These copies and adds are memory-bound and NumPy runs each on one core,
while the GEMMs around them use every core; so im2col and col2im split their
image into a few parts per core along its first leading axis of size > 1 and
copy the parts on a small thread pool (NumPy releases the GIL inside a copy or
an add), each thread taking the next part when it is free. On the MNIST CNN that
nearly halves them. Small arrays stay on one thread. The compiled loops
(native.py) use the same pool.
"""
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["conv_out_size", "pool_out_size", "tap_slice", "offsets", "pad_spatial",
           "im2col", "col2im", "in_parts"]

_CORES = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                    else (os.cpu_count() or 1)))
# Below ~1 MiB of traffic a part costs more to hand over than to process: handing a part
# to the pool's thread (a wake-up, the data moving to the other core's cache) costs tens of
# microseconds on these VMs. Training steps, in-process A/B against 256 KiB: the notes'
# CIFAR CNN at batch 32 +6 to +14%, resnet20 at batch 128 +1 to +12%, the MNIST CNN at
# batch 64 +1 to +10%; 4 MiB lost 15% on the MNIST CNN.
_MIN_PART_BYTES = 1 << 20
_pool = None


_PARTS_PER_CORE = 4  # parts are handed out as the threads come free (see in_parts)


def _parts(lead, nbytes):
    """Index tuples that split the leading axes `lead` into up to _PARTS_PER_CORE*_CORES
    blocks along the first axis with more than one entry ((slice(None),) alone when not
    worth splitting)."""
    n = min(_PARTS_PER_CORE * _CORES, max(1, nbytes // _MIN_PART_BYTES))
    axis = next((i for i, size in enumerate(lead) if size > 1), None)
    if _CORES < 2 or n < 2 or axis is None:
        return [()]
    size = lead[axis]
    n = min(n, size)
    bounds = [size * i // n for i in range(n + 1)]
    return [(slice(None),) * axis + (slice(a, b),) for a, b in zip(bounds, bounds[1:])]


def in_parts(fn, parts):
    """fn(part) for every part, the parts shared out among this thread and the pool's as
    each comes free. Not a fixed half each: when another process (or OpenBLAS's idle
    thread, spinning) holds the second core, this thread goes on taking parts and waits
    only for the parts a helper has actually started, so a split never takes longer
    than a few parts beyond doing all the work on this thread."""
    global _pool
    if len(parts) == 1:
        fn(parts[0])
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(_CORES - 1, thread_name_prefix="glassnet-kernels")
    left = itertools.count()
    total, state = len(parts), {"done": 0, "error": None}
    lock, finished = threading.Lock(), threading.Event()

    def work():
        while (i := next(left)) < total:
            try:
                fn(parts[i])
            except BaseException as error:     # reported by the calling thread
                state["error"] = error
            with lock:
                state["done"] += 1
                if state["done"] == total:
                    finished.set()

    for _ in range(min(_CORES - 1, total - 1)):
        _pool.submit(work)
    work()
    finished.wait()
    if state["error"] is not None:
        raise state["error"]


def conv_out_size(size, k, stride, dilation, lo, hi):
    """Number of outputs along one dim (may be <= 0 when the kernel does not fit)."""
    return (size + lo + hi - dilation * (k - 1) - 1) // stride + 1


def pool_out_size(size, k, stride, pad, dilation, ceil_mode):
    """PyTorch's pooling output size, including its ceil_mode rule that the last
    window must start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (k - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def tap_slice(p, n_out, stride, dilation):
    """The slice of a padded axis that tap p of every output window reads."""
    start = p * dilation
    return slice(start, start + stride * (n_out - 1) + 1, stride)


def offsets(kernel, out_hw, stride, dilation):
    """Yield (p, q, (row slice, col slice)) for every kernel tap, row-major: the
    order PyTorch scans a window in, which decides max-pooling ties."""
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    for p in range(kh):
        rows = tap_slice(p, ho, sh, dh)
        for q in range(kw):
            yield p, q, (rows, tap_slice(q, wo, sw, dw))


def pad_spatial(x, pads, value=0, workspace=None):
    """x padded on its last two axes by pads = (top, bottom, left, right).

    Only the border strips are filled; the interior is one copy (which also
    turns a transposed view into the contiguous layout the window slices want).
    """
    top, bottom, left, right = pads
    *lead, h, w = x.shape
    shape = (*lead, h + top + bottom, w + left + right)
    xp = workspace.take(shape, x.dtype) if workspace else np.empty(shape, x.dtype)
    xp[..., top:top + h, left:left + w] = x
    if top:
        xp[..., :top, :] = value
    if bottom:
        xp[..., top + h:, :] = value
    if left:
        xp[..., top:top + h, :left] = value
    if right:
        xp[..., top:top + h, left + w:] = value
    return xp


def im2col(xp, kernel, out_hw, stride=(1, 1), dilation=(1, 1), workspace=None):
    """Patches of xp (C, *mid, Hp, Wp) as cols (C, kh, kw, *mid, Ho, Wo).

    cols[c, p, q, ..., i, j] = xp[c, ..., i*sh + p*dh, j*sw + q*dw]. Reshaped to
    (C*kh*kw, -1) it is the GEMM operand. Copied one kernel column at a time:
    first the column's strided slice of xp into a contiguous (.., Hp, Wo)
    buffer, then each row tap as one slice of it, which (for stride 1 in height)
    is a run of Ho*Wo contiguous values instead of Ho runs of Wo; with small
    images that cuts numpy's per-run overhead roughly in half.
    """
    ws = workspace
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    c, mid = xp.shape[0], xp.shape[1:-2]
    shape = (c, kh, kw, *mid, ho, wo)
    cols = ws.take(shape, xp.dtype) if ws else np.empty(shape, xp.dtype)
    column = None
    if kh > 1:
        shape = (*xp.shape[:-1], wo)
        column = ws.take(shape, xp.dtype) if ws else np.empty(shape, xp.dtype)

    def copy_part(part):          # part indexes xp's leading axes (C, *mid)
        x, out = xp[part], cols[part[:1] + (slice(None),) * 2 + part[1:]]
        buffer = None if column is None else column[part]
        for q in range(kw):
            src = x[..., tap_slice(q, wo, sw, dw)]
            if buffer is not None:
                np.copyto(buffer, src)
                src = buffer
            for p in range(kh):
                out[:, p, q] = src[..., tap_slice(p, ho, sh, dh), :]

    in_parts(copy_part, _parts(xp.shape[:-2], cols.nbytes))
    if ws and column is not None:
        ws.give(column)
    return cols


def col2im(columns, padded_shape, kernel, out_hw, stride=(1, 1), dilation=(1, 1),
           dtype=np.float32, workspace=None, out=None):
    """The adjoint of im2col: add every tap's values back onto a zero image of
    `padded_shape` (..., Hp, Wp), overlapping windows accumulating.

    `columns` yields, for kernel column q = 0, 1, ..., kw-1, that column's slab
    (kh, ..., Ho, Wo) (so the caller may compute them a few at a time). Like
    im2col, the row taps of a column are first summed into a (..., Hp, Wo)
    buffer with long contiguous runs, which is then added once, strided, onto
    the image. The first tap of each stage writes rather than adds, which saves
    clearing the buffers. The image is `out` when given (C-contiguous, `padded_shape`),
    else a workspace array.
    """
    ws = workspace
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    if out is None:
        out = ws.take(padded_shape, dtype) if ws else np.empty(padded_shape, dtype)
    direct = kh == 1 and ho == padded_shape[-2]          # the slab already spans every row
    shape = (*padded_shape[:-1], wo)
    column = None if direct else ws.take(shape, dtype) if ws else np.empty(shape, dtype)
    parts = _parts(padded_shape[:-2], out.nbytes * kw)
    for q, slab in enumerate(columns):      # run to the end: a generator may clean up

        def add_part(part, q=q, slab=slab):   # part indexes the image's leading axes
            if direct:
                values = slab[(0,) + part]
            else:
                values = column[part]
                for p in range(kh):
                    _place(values, slab[(p,) + part], tap_slice(p, ho, sh, dh), first=p == 0)
            _place(out[part].swapaxes(-1, -2), values.swapaxes(-1, -2),
                   tap_slice(q, wo, sw, dw), first=q == 0)

        in_parts(add_part, parts)
    if ws and column is not None:
        ws.give(column)
    return out


def _place(target, values, rows, first):
    """target[..., rows, :] += values; the first placement writes instead, and zeroes
    the rows it does not reach."""
    if not first:
        target[..., rows, :] += values
    elif rows.start == 0 and rows.step == 1:
        n = values.shape[-2]
        target[..., :n, :] = values
        target[..., n:, :] = 0
    else:
        target[...] = 0
        target[..., rows, :] = values
