"""`Function`: one differentiable operation, its forward and backward side by side.

A Function subclass implements

    forward(self, *arrays, **params) -> ndarray
        computes the result from NumPy arrays and keeps on `self` only what
        backward will need (and only if `self.needs_input_grad` says a gradient
        is wanted at all);
    backward(self, grad) -> ndarray | tuple of (ndarray | None)
        given dL/d(output), returns dL/d(input) for every input, in order
        (None where no gradient is needed).

`Function.apply(*tensors, **params)` runs forward and, when grad mode is on and
some input requires grad, records the node so that `Tensor.backward` can walk it
in reverse. After that walk the node is released: its saved arrays are dropped
and a second backward through it raises, unless `retain_graph=True` was given.

A forward may return a tuple `(output, extra, ...)`: only the first is
differentiable; the extras (argmax indices, for example) come back as plain
tensors that never require grad.
"""
import numpy as np

from .grad_mode import _state


class Function:
    __slots__ = ("parents", "needs_input_grad", "released", "__dict__")

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **params):
        fn = cls()
        track = _state["enabled"] and any(t.requires_grad for t in inputs)
        if track:
            fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
        else:
            fn.needs_input_grad = (False,) * len(inputs)
        out = fn.forward(*[t._array for t in inputs], **params)
        extras = ()
        if type(out) is tuple:
            out, *extras = out
        if type(out) is not np.ndarray:  # NumPy gives scalars for 0-d results
            out = np.asarray(out)
        if track:
            fn.parents = inputs
            fn.released = False
            result = Tensor._make(out, True, fn)
        else:
            result = Tensor._make(out, False, None)
        if extras:
            return (result, *[Tensor._make(e, False, None) for e in extras])
        return result

    def release(self):
        """Drop everything saved for backward; the graph above this node is gone."""
        self.__dict__.clear()
        self.parents = None
        self.released = True


from ..tensor import Tensor  # noqa: E402  (Tensor imports this module first)
