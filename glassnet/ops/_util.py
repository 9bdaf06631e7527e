"""Small helpers the ops share: lifting Python numbers to tensors, dtype
promotion as PyTorch does it, dimension arguments, and undoing broadcasting."""
import numpy as np

from ..tensor import Tensor
from .. import dtypes


def normalize_dim(dim, ndim, op):
    """A dim in [-ndim, ndim) as a non-negative index, or a ValueError naming `op`."""
    n = max(ndim, 1)
    try:
        d = int(dim)
    except TypeError:
        raise TypeError(f"{op}: dim must be an integer, got {dim!r}") from None
    if not -n <= d < n:
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims "
                         f"(expected a dim in [{-n}, {n - 1}])")
    return d % n


def normalize_dims(dim, ndim, op):
    """None -> all dims; an int or a sequence -> a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
        if len(set(dims)) != len(dims):
            raise ValueError(f"{op}: dim {tuple(dim)} names a dimension twice")
        return dims
    return (normalize_dim(dim, ndim, op),)


def result_dtype(a, b):
    """PyTorch's promotion for two tensors: a float beats an int; else NumPy's rules."""
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return np.result_type(a, b)


def _scalar_dtype(value, tensor_dtype):
    """The dtype of `tensor (op) number`: the tensor's, unless a float meets an int tensor."""
    if isinstance(value, (bool, np.bool_)):
        return tensor_dtype
    if isinstance(value, (float, np.floating)) and tensor_dtype.kind != "f":
        return dtypes.DEFAULT_FLOAT
    if isinstance(value, (int, np.integer)) and tensor_dtype.kind == "b":
        return dtypes.DEFAULT_INT
    return tensor_dtype


def lift(value, like_dtype):
    """A constant tensor for a Python number or array appearing in an op."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value, dtype=value.dtype if value.dtype.kind != "f" else None)
    return Tensor._make(np.asarray(value, dtype=_scalar_dtype(value, like_dtype)), False, None)


def binary_operands(a, b, op):
    """Two tensors of one dtype for an elementwise op (numbers are lifted, dtypes promoted)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one tensor, got {type(a).__name__} "
                        f"and {type(b).__name__}")
    if not isinstance(a, Tensor):
        a = lift(a, b._array.dtype)
    if not isinstance(b, Tensor):
        b = lift(b, a._array.dtype)
    da, db = a._array.dtype, b._array.dtype
    if da != db:
        from .elementwise import cast
        target = result_dtype(da, db)
        if da != target:
            a = cast(a, target)
        if db != target:
            b = cast(b, target)
    return a, b


def choose(condition, a, b):
    """a where condition holds, else b: exact for finite a and b, and much faster than
    np.where on a mask without long runs (NumPy's where branches per element)."""
    return condition * a + ~condition * b


def check_broadcast(op, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                         "cannot be broadcast together") from None


def unbroadcast(grad, shape):
    """Sum a gradient over the dimensions that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)

