"""`Parameter`: a tensor that a Module learns. Assigning one to a module attribute
registers it, so that `module.parameters()` finds it for the optimizer."""
from ..tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = []
        super().__init__(data._array if isinstance(data, Tensor) else data,
                         dtype=data.dtype if isinstance(data, Tensor) else None,
                         requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
