"""default_collate and default_convert: PyTorch's rules for turning samples into a batch.

default_collate(samples), by the type of the first sample:

    Tensor                      -> the samples stacked (one shape required)
    NumPy array                 -> stacked into a Tensor, dtype kept
    NumPy scalar                -> a 1-D Tensor of its dtype
    float                       -> float64 Tensor (torch's choice, not the default float32)
    int / bool                  -> int64 / bool Tensor
    str, bytes                  -> left as they are (a list of them)
    dict                        -> dict of the collated values, key by key
    namedtuple                  -> the same namedtuple of collated fields
    tuple / list                -> a list of collated fields, position by position

default_convert(sample) is what a DataLoader with `batch_size=None` applies to each sample:
arrays and NumPy scalars become Tensors (sharing memory), containers are walked the same
way, everything else is left alone.
"""
import collections.abc as abc
import copy
import re

import numpy as np

from ..ops import stack
from ..tensor import Tensor

_STRING_OR_OBJECT = re.compile("[SaUO]")        # dtypes that have no tensor equivalent


def _wrap(array):
    return Tensor._make(array, False, None)


def default_collate(batch):
    """Samples (a list of one structure) -> one batch of that structure; see the module."""
    if len(batch) == 0:
        raise IndexError("default_collate: the batch is empty; it needs at least one sample")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if all(isinstance(t, Tensor) for t in batch):     # else stack names the odd one
            _same_shapes([t.shape for t in batch])
        return stack(list(batch))
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_unsupported(f"arrays of dtype {elem.dtype}"))
        _same_shapes([np.shape(a) for a in batch])
        return _wrap(np.stack(batch))
    if isinstance(elem, (np.bool_, np.number)):
        return _wrap(np.asarray(batch))
    if isinstance(elem, float):
        return _wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _wrap(_python_numbers(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        return rebuild(elem, {key: default_collate([s[key] for s in batch]) for key in elem})
    if isinstance(elem, abc.Sequence):
        sizes = [len(s) for s in batch]
        if any(size != sizes[0] for size in sizes):
            raise RuntimeError(f"default_collate: every sample needs the same number of "
                               f"fields, got {sorted(set(sizes))} ({type(elem).__name__}s "
                               f"of different lengths)")
        return rebuild(elem, [default_collate(field) for field in zip(*batch)])
    if type(elem).__module__.split(".")[0] == "PIL":
        raise TypeError(f"default_collate: the samples are PIL images ({type(elem).__name__}), "
                        "which do not stack into a batch; add transforms.ToTensor() to the "
                        "dataset's transform")
    raise TypeError(_unsupported(type(elem).__name__))


def default_convert(data):
    """One sample as a DataLoader without batching gives it: see the module."""
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else _wrap(data)
    if isinstance(data, (np.bool_, np.number)):
        return _wrap(np.asarray(data))
    if isinstance(data, abc.Mapping):
        return rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return rebuild(data, [default_convert(d) for d in data])
    return data


def batch_as_tensors(batch):
    """A dataset's `get_batch` result as default_collate would have built it from the same
    samples: arrays become Tensors (no copy), a tuple of fields a list, dicts stay dicts."""
    if isinstance(batch, np.ndarray):
        return _wrap(batch)
    if isinstance(batch, abc.Mapping):
        return rebuild(batch, {key: batch_as_tensors(batch[key]) for key in batch})
    if isinstance(batch, (tuple, list)):
        return rebuild(batch, [batch_as_tensors(field) for field in batch])
    return batch


def rebuild(like, items):
    """A container of `like`'s kind holding `items` (a dict for mappings, a list for
    sequences), by torch's rules: a namedtuple stays one, a plain tuple becomes a list, a
    mutable container is copied and refilled (keeping its class), anything that cannot be
    rebuilt becomes a plain dict or list."""
    if isinstance(like, tuple):
        return type(like)(*items) if hasattr(like, "_fields") else items
    try:
        if isinstance(like, (abc.MutableMapping, abc.MutableSequence)):
            clone = copy.copy(like)
            for key, value in (items.items() if isinstance(items, dict) else enumerate(items)):
                clone[key] = value
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _python_numbers(batch):
    """ints (maybe mixed with bools or floats) as torch.tensor reads them: all bools -> bool,
    ints -> int64, any float -> float32."""
    try:
        array = np.asarray(batch)
    except (TypeError, ValueError) as e:
        raise TypeError(f"default_collate: the samples mix numbers with other types ({e})") \
            from None
    kinds = {"b": np.bool_, "i": np.int64, "u": np.int64, "f": np.float32}
    if array.dtype.kind not in kinds:
        raise TypeError(_unsupported(f"a mix of ints and {array.dtype}"))
    return array.astype(kinds[array.dtype.kind], copy=False)


def _same_shapes(shapes):
    for i, shape in enumerate(shapes):
        if tuple(shape) != tuple(shapes[0]):
            raise RuntimeError(f"default_collate: sample {i} has shape {tuple(shape)} but "
                               f"sample 0 has {tuple(shapes[0])}; samples must have one shape "
                               f"to stack into a batch (resize them in the dataset's "
                               f"transform, or pass a collate_fn)")


def _unsupported(what):
    return (f"default_collate: cannot batch {what}; it batches tensors, NumPy arrays, numbers, "
            f"strings, and dicts, lists or tuples of them (pass collate_fn= for anything else)")
