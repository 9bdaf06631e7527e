"""Modules that hold modules: Sequential, ModuleList, ModuleDict."""
from collections import OrderedDict

import numpy as np

from .._kernels import native
from ..autograd.grad_mode import is_grad_enabled
from . import functional as F
from .activation import ReLU
from .conv import Conv1d, Conv2d
from .linear import Linear
from .module import Module


class Sequential(Module):
    """Children called in order, each one's output the next one's input.

    Sequential(a, b, c), Sequential(OrderedDict(name=a, ...)), or built with .append.
    Children are named '0', '1', ... (or by the OrderedDict's keys), as in PyTorch.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        # Without a graph, a ReLU straight after a Linear or Conv layer is fused into it:
        # the layer's fresh output is rectified in place (for Linear, together with its
        # bias, in one pass). The values are the same; hooks on either module turn this
        # off, so that a hook never sees an output change.
        modules = list(self._modules.values())
        fuse = not is_grad_enabled()
        i = 0
        while i < len(modules):
            if fuse and i + 1 < len(modules) and _fusable(modules[i], modules[i + 1]):
                input = _layer_then_relu(modules[i], input)
                i += 2
            else:
                input = modules[i](input)
                i += 1
        return input

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_check_index(index, len(self), "Sequential")]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters the parent registers."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        self.extend(items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[_check_index(index, len(self), "ModuleList")]

    def __setitem__(self, index, module):
        self.add_module(str(_check_index(index, len(self), "ModuleList")), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args):
        raise NotImplementedError("ModuleList holds modules; call them yourself in forward()")


class ModuleDict(Module):
    """A dict of modules whose parameters the parent registers."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for name, module in items:
            self.add_module(name, module)

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __delitem__(self, name):
        del self._modules[name]

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def forward(self, *args):
        raise NotImplementedError("ModuleDict holds modules; call them yourself in forward()")


def _check_index(index, length, owner):
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for {length} modules")
    return index % length


def _fusable(layer, module):
    """Whether `module` is a plain ReLU after a plain Linear/Conv layer (which always
    returns a new array), neither with hooks."""
    return (type(module) is ReLU and type(layer) in (Linear, Conv1d, Conv2d)
            and not (module._forward_hooks or module._forward_pre_hooks
                     or layer._forward_hooks or layer._forward_pre_hooks))


def _layer_then_relu(layer, x):
    """relu(layer(x)) without a graph, the ReLU done in place on the layer's output."""
    if type(layer) is Linear and x.ndim == 2 and native.supports(x._array) \
            and x.dtype == layer.weight.dtype:
        y = F.linear(x, layer.weight)                        # the bias goes with the ReLU
        if y._array.flags.c_contiguous:
            bias = None if layer.bias is None else np.ascontiguousarray(layer.bias._array)
            native.bias_relu(y._array, bias)
            return y
        if layer.bias is not None:
            y._array += layer.bias._array
        np.maximum(y._array, 0, out=y._array)
        return y
    y = layer(x)
    np.maximum(y._array, 0, out=y._array)
    return y
