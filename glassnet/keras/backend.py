"""What every part of the façade shares: Keras's automatic names and the two layouts.

Names: Keras names an unnamed layer after its class in snake case, numbered from the
second one on (`dense`, `dense_1`, ...), counting per name for the whole session until
`clear_session()`.

Layouts: Keras tensors are channels-last, (N, H, W, C) or (N, L, C). glassnet's
convolutions and pooling work channels-first, (N, C, H, W). A model does not transpose
around every convolution: each value travels with a flag saying which layout it is in,
and is transposed only when the next layer needs the other one (so the notes' CNN is
transposed twice per step: at its input and at its Flatten). Rank-2 values (N, C) are the
same in both layouts.
"""
import re

import numpy as np

from ..tensor import Tensor

_counts = {}


def snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """`base` the first time, then `base_1`, `base_2`, ... (Keras's numbering)."""
    n = _counts.get(base, 0)
    _counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session():
    """Forget the names given so far: the next Dense is `dense` again."""
    _counts.clear()


def floatx():
    return "float32"


def image_data_format():
    return "channels_last"


# ------------------------------------------------------------------------ layouts
def to_channels_first(t):
    """(N, ..., C) -> (N, C, ...); rank <= 2 unchanged."""
    if t.ndim <= 2:
        return t
    return t.permute(0, t.ndim - 1, *range(1, t.ndim - 1))


def to_channels_last(t):
    """(N, C, ...) -> (N, ..., C); rank <= 2 unchanged."""
    if t.ndim <= 2:
        return t
    return t.permute(0, *range(2, t.ndim), 1)


def in_layout(value, channels_first):
    """A (tensor, channels_first) value as a tensor in the asked layout (None: as it is)."""
    t, cf = value
    if channels_first is None or cf == channels_first or t.ndim <= 2:
        return t
    return to_channels_first(t) if channels_first else to_channels_last(t)


def as_tensor(x, what="input"):
    """Keras accepts arrays, lists and tensors and gives its layers float32 (its floatx):
    uint8 images and integer ids alike (an Embedding turns ids back into integers)."""
    if isinstance(x, Tensor):
        return x if x.dtype == np.float32 else Tensor(x._array.astype(np.float32))
    array = np.asarray(x)
    if array.dtype.kind not in "fbiu":
        raise TypeError(f"{what}: expected numbers, got an array of dtype {array.dtype}")
    return Tensor(array.astype(np.float32, copy=False))
