"""`Module`: the base of every layer and model.

A module holds Parameters (what it learns), buffers (state it keeps but does not
learn, such as BatchNorm's running mean) and child modules, each registered
simply by assigning it to an attribute. From those registries come
`parameters()`, `state_dict()` and the nested repr, with PyTorch's names
(`features.0.weight`), so weights move between glassnet and PyTorch by name.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import devices
from ..tensor import Tensor, as_array
from .parameter import Parameter
from .utils import zero_grads

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by `register_forward_hook`; `remove()` unregisters the hook."""

    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)


class Module:
    _next_hook_id = 0

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the "
                                  "subclass")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # -------------------------------------------------------------- registries
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attribute {name!r}")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._parameters or name in self._modules:
            kind = "parameter" if name in self._parameters else "child module"
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to {kind} {name!r} (a "
                                f"{'Parameter' if kind == 'parameter' else 'Module'} or None "
                                "is expected)")
            (self._parameters if kind == "parameter" else self._modules)[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: buffer {name!r} must be a Tensor or "
                                f"None, got {type(value).__name__}")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._forget(str(name))
        self._modules[str(name)] = module

    register_module = add_module

    def register_forward_hook(self, hook):
        """hook(module, inputs, output) runs after forward; a non-None result replaces output."""
        return self._add_hook(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """hook(module, inputs) runs before forward; a non-None result replaces the inputs."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def _add_hook(self, hooks, hook):
        Module._next_hook_id += 1
        hooks[Module._next_hook_id] = hook
        return RemovableHandle(hooks, Module._next_hook_id)

    # ----------------------------------------------------------------- walking
    def named_modules(self, memo=None, prefix=""):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{owner_name}.{name}" if owner_name else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(name, Parameter) pairs; a parameter shared by two layers comes once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------- modes
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn):
        """Call fn on every submodule (children first) and on self, e.g. to initialise."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype):
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t._array = t._array.astype(dtype)
        return self

    def to(self, *args, **kwargs):
        """PyTorch's forms: to(device), to(dtype), to(device, dtype), to(tensor). Floating
        parameters and buffers are cast in place; the device must be the CPU."""
        _, dtype, _ = devices.parse_to(f"{type(self).__name__}.to", args, kwargs)
        return self if dtype is None else self._cast(dtype)

    def cpu(self):
        return self

    def cuda(self, device=None):
        devices.check_device(f"{type(self).__name__}.cuda", "cuda")   # always raises

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    # ------------------------------------------------------------- state dicts
    def state_dict(self, prefix=""):
        """Name -> tensor for every parameter and persistent buffer, PyTorch's names and
        order (a module reachable under two names appears under both, as in PyTorch)."""
        out = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b.detach()
        for name, child in self._modules.items():
            if child is not None:
                out.update(child.state_dict(prefix=f"{prefix}{name}."))
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values in by name. Shapes must match; with strict, names must match too."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        mismatched = [f"{k}: checkpoint {tuple(np.shape(as_array(state_dict[k])))}, model "
                      f"{tuple(t.shape)}" for k, t in own.items()
                      if k in state_dict and np.shape(as_array(state_dict[k])) != t.shape]
        if mismatched:
            raise ValueError(f"{type(self).__name__}.load_state_dict: shape mismatch for "
                             + "; ".join(mismatched))
        for k, t in own.items():
            if k in state_dict:
                t._array[...] = as_array(state_dict[k])   # detached views share the arrays
        return IncompatibleKeys(missing, unexpected)

    # -------------------------------------------------------------------- repr
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{type(self).__name__}()"
        if not self._modules and len(lines) == 1:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
