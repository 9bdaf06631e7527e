"""PyTorch's legacy typed-tensor names, which older tutorials still use:
`gn.FloatTensor([1, 2])`, `gn.LongTensor(3, 4)` (uninitialised), `x.type(gn.FloatTensor)`,
`isinstance(x, gn.LongTensor)`. Each name is a dtype; the tensors are ordinary Tensors."""
import numpy as np

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _TypedTensorMeta(type):
    def __instancecheck__(cls, other):
        from .tensor import Tensor
        return isinstance(other, Tensor) and other.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'glassnet.{cls.__name__}'>"


class _TypedTensor(metaclass=_TypedTensorMeta):
    dtype = None

    def __new__(cls, *args):
        """T(data) copies data (a list, array or tensor) as T's dtype; T(*sizes) is an
        uninitialised tensor of that size, as in PyTorch."""
        from .creation import empty, tensor
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return tensor(args[0], dtype=cls.dtype)
        return empty(*args, dtype=cls.dtype)


def _typed(name, dtype):
    return _TypedTensorMeta(name, (_TypedTensor,), {"dtype": np.dtype(dtype),
                                                     "__module__": "glassnet"})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)
BoolTensor = _typed("BoolTensor", np.bool_)

_BY_DTYPE = {t.dtype: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                  ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def type_name(dtype):
    """x.type() with no argument: 'glassnet.FloatTensor' for a float32 tensor."""
    typed = _BY_DTYPE.get(np.dtype(dtype))
    return f"glassnet.{typed.__name__}" if typed else f"glassnet.Tensor[{np.dtype(dtype)}]"


def as_dtype(dtype):
    """A typed-tensor name (gn.FloatTensor) as its dtype; anything else unchanged."""
    return dtype.dtype if isinstance(dtype, _TypedTensorMeta) else dtype
