"""Making tensors: from data, filled with constants, ranges, and random draws.

Sizes are given as PyTorch takes them: `zeros(2, 3)` or `zeros((2, 3))`. Random
factories draw from glassnet's one seeded generator (`gn.manual_seed`).
"""
import numpy as np

from .tensor import Tensor
from . import dtypes
from .devices import check_device
from .random import default_generator

__all__ = ["tensor", "from_numpy", "as_tensor", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like"]


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(n) for n in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: sizes must be integers, got {size!r}") from None
    if any(n < 0 for n in size):
        raise ValueError(f"{op}: sizes must be non-negative, got {size}")
    return size


def _new(array, dtype, requires_grad):
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    t = Tensor._make(array, False, None)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of `data` (floating data defaults to float32)."""
    check_device("tensor", device)
    t = Tensor(np.array(data._array if isinstance(data, Tensor) else data, copy=True),
               dtype=dtype)
    return t.requires_grad_(True) if requires_grad else t


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but returns `data` itself when it already is a tensor of that dtype."""
    check_device("as_tensor", device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with `array`, keeping its dtype (float64 stays float64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    check_device("zeros", device)
    return _new(np.zeros(_size(size, "zeros"), dtype or dtypes.DEFAULT_FLOAT), None, requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    check_device("ones", device)
    return _new(np.ones(_size(size, "ones"), dtype or dtypes.DEFAULT_FLOAT), None, requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    check_device("empty", device)
    return _new(np.empty(_size(size, "empty"), dtype or dtypes.DEFAULT_FLOAT), None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    check_device("full", device)
    if dtype is None:
        dtype = dtypes.infer_dtype(np.asarray(fill_value))
    return _new(np.full(_size((size,), "full"), fill_value, dtype), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    check_device("arange", device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    array = np.arange(start, end, step)
    return _new(array, dtype or dtypes.infer_dtype(array), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    check_device("linspace", device)
    array = np.linspace(start, end, int(steps), dtype=np.float64)
    return _new(array, dtype or dtypes.DEFAULT_FLOAT, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    check_device("eye", device)
    return _new(np.eye(n, m, dtype=dtype or dtypes.DEFAULT_FLOAT), None, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform on [0, 1)."""
    check_device("rand", device)
    rng = generator or default_generator()
    array = rng.random(_size(size, "rand"), dtype=np.float32)
    return _new(array, dtype, requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal."""
    check_device("randn", device)
    rng = generator or default_generator()
    array = rng.standard_normal(_size(size, "randn"), dtype=np.float32)
    return _new(array, dtype, requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None):
    """Integers in [low, high) — or in [0, low) when `high` is omitted, as `randint(high, size)`."""
    check_device("randint", device)
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: size must be given, e.g. randint(0, 10, (3, 4))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: need low < high, got low={low}, high={high}")
    rng = generator or default_generator()
    array = rng.integers(low, high, _size((size,), "randint"), dtype=np.int64)
    return _new(array, dtype, False)


def randperm(n, dtype=None, generator=None, device=None):
    check_device("randperm", device)
    rng = generator or default_generator()
    return _new(rng.permutation(int(n)).astype(np.int64), dtype, False)


def zeros_like(input, dtype=None, requires_grad=False, device=None):
    check_device("zeros_like", device)
    return _new(np.zeros_like(input._array, dtype=dtype), None, requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None):
    check_device("ones_like", device)
    return _new(np.ones_like(input._array, dtype=dtype), None, requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None):
    check_device("empty_like", device)
    return _new(np.empty_like(input._array, dtype=dtype), None, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    check_device("full_like", device)
    return _new(np.full_like(input._array, fill_value, dtype=dtype), None, requires_grad)


def rand_like(input, dtype=None, requires_grad=False, device=None):
    check_device("rand_like", device)
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False, device=None):
    check_device("randn_like", device)
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
