"""Compare what glassnet and torch return: containers by kind, tensors by dtype and value."""
import collections.abc as abc

import numpy as np
import torch

import glassnet as gn


def plain(x):
    """A structure both frameworks' results reduce to: tensors as ("tensor", dtype, values),
    containers as (kind, items), strings and numbers as themselves."""
    if isinstance(x, torch.Tensor):
        array = x.detach().numpy()
        return ("tensor", array.dtype, array.shape, array.tolist())
    if isinstance(x, gn.Tensor):
        return ("tensor", x._array.dtype, x._array.shape, x._array.tolist())
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype, x.tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, abc.Mapping):
        return (type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def assert_same(ours, theirs):
    assert plain(ours) == plain(theirs)


def torch_version(x):
    """glassnet Tensors inside `x` as torch tensors (same values and dtype)."""
    if isinstance(x, gn.Tensor):
        return torch.from_numpy(np.array(x._array))
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(torch_version(v) for v in x))
    if isinstance(x, dict):
        return type(x)((k, torch_version(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return type(x)(torch_version(v) for v in x)
    return x
