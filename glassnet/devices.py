"""Devices, PyTorch's way of saying where a tensor lives. glassnet computes on the CPU.

`gn.device("cpu")`, `t.device`, `t.to(device)`, `model.to(device)` and
`gn.cuda.is_available()` exist so that the usual PyTorch idiom runs unchanged:

    device = gn.device("cuda" if gn.cuda.is_available() else "cpu")   # -> cpu
    model.to(device); x = x.to(device)

Any other device type can be named (as in PyTorch, naming one is not using it),
but moving a tensor or module there raises `DeviceError`.
"""
import numpy as np

__all__ = ["device", "DeviceError"]

# PyTorch's device types; glassnet can name them all and compute on the first
_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "vulkan", "mkldnn",
          "opengl", "opencl", "ideep", "ve", "fpga", "maia", "lazy", "hpu", "mtia",
          "privateuseone")


class DeviceError(RuntimeError):
    """A tensor or module sent to a device other than the CPU."""


class device:
    """Where a tensor lives: `device("cpu")`, `device("cuda:0")`, `device("cuda", 1)`."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, str) and ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index; do not pass "
                                 f"index={index!r} too")
            type, _, text = type.partition(":")
            if not text.isdigit():
                raise ValueError(f"device: invalid index {text!r} in {type}:{text} "
                                 "(expected e.g. 'cuda:0')")
            index = int(text)
        elif not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', or a "
                            f"device, got {type!r}")
        if type not in _TYPES:
            raise ValueError(f"device: unknown device type {type!r}; expected one of "
                             f"{', '.join(_TYPES)} (glassnet computes on 'cpu')")
        if index is not None and (isinstance(index, bool) or int(index) != index or index < 0):
            raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
        self.type = type
        self.index = None if index is None else int(index)

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


def check_device(where, dev):
    """None or a CPU device (name or object) passes; any other device raises DeviceError."""
    if dev is None:
        return CPU
    dev = device(dev) if isinstance(dev, (str, device)) else dev
    if not isinstance(dev, device):
        raise TypeError(f"{where}: expected a device ('cpu', gn.device(...)), got "
                        f"{type(dev).__name__}")
    if dev.type != "cpu":
        raise DeviceError(f"{where}: glassnet computes on the CPU only and cannot use "
                          f"device {str(dev)!r} (gn.cuda.is_available() is False); use "
                          f"'cpu', or gn.device('cuda' if gn.cuda.is_available() else 'cpu')")
    return dev


def parse_to(where, args, kwargs):
    """The (device, dtype, copy) that `.to(...)` asks for, in any of PyTorch's forms:
    to(dtype), to(device, dtype=None), to(tensor) — each with non_blocking= and copy=."""
    from .tensor import Tensor
    kwargs = dict(kwargs)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"{where}: unexpected keyword arguments {sorted(kwargs)}")
    args = list(args)
    if len(args) > 2:
        raise TypeError(f"{where}: expected at most (device, dtype), got {len(args)} "
                        "positional arguments")
    for arg in args:
        if isinstance(arg, Tensor):
            dev, dtype = CPU, arg.dtype
        elif isinstance(arg, (str, device)):
            dev = arg
        elif isinstance(arg, bool):          # to(dtype, non_blocking) in old code
            continue
        else:
            dtype = arg
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"{where}: expected a device, a dtype or a tensor, got "
                            f"{dtype!r}") from None
    return check_device(where, dev), dtype, copy
