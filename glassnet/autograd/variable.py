"""`Variable`, for tutorials written before PyTorch 0.4 merged it into Tensor.

`Variable(t)` returns a tensor over the same memory as `t`, cut from its history,
with `requires_grad` as given; every tensor counts as a Variable for isinstance,
which is PyTorch's behaviour today. Old code such as `img = Variable(img)` runs
unchanged and costs nothing (no copy).
"""
import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from ..tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data, requires_grad=False, volatile=False):
        from ..tensor import Tensor
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("Variable: volatile was removed and now has no effect; use "
                          "`with gn.no_grad():` instead", UserWarning, stacklevel=2)
        return Tensor._make(data._array, False, None).requires_grad_(requires_grad)
