"""The restricted unpickler behind reading PyTorch's files (`glassnet/pth.py`).

Unpickling can call any function a file names. This unpickler's `find_class` hands out
only stand-ins for the globals a state dict needs: the tensor rebuild functions of
`torch._utils`, the storage types (`torch.FloatStorage`, ..., `torch.storage.
UntypedStorage`), the dtypes (`torch.float32`, ...) and `collections.OrderedDict`; any
other global is refused, naming it, before anything is called. The stand-ins do not
build tensors while the pickle runs. They check their arguments and return records
(storage key, dtype, shape, strides, offset); a record cannot be hashed, called or
changed by the pickle. Only after the whole pickle has been read does `Builder` turn
the records into arrays, each checked against the storage bytes actually present, so
a bad file fails as a whole, with nothing half-loaded.
"""
import pickle
import struct
from collections import OrderedDict

import numpy as np

from .archive import METADATA_LIMIT, Refused, byte_size, show
from .data.pickle_scan import PickleRefused, scan
from .tensor import Tensor

__all__ = ["DTYPES", "unpickle", "Builder"]

MAX_DEPTH = 200                             # containers in containers (state dicts: < 5)
# A state dict's pickle has ~25 opcodes per tensor (measured: 25 for a conv net's, 23 for
# its Adam state), so 2^20 opcodes is 40 000 tensors; and it keeps what a pickle can
# make small even if every opcode makes the largest empty object, a set (measured: a
# peak 165 MiB above the baseline, for a 1 MiB file).
OPCODE_LIMIT = 1 << 20


class DType:
    """One torch element type: `stored` is the dtype of its bytes in a storage, `dtype`
    the dtype glassnet gives the array (they differ only for bfloat16, which NumPy lacks:
    it becomes float32, exactly, for a bfloat16 is the top half of a float32)."""

    def __init__(self, name, stored, storage_name):
        self.name, self.stored, self.storage_name = name, np.dtype(stored), storage_name
        self.dtype = np.dtype(np.float32) if name == "bfloat16" else self.stored.newbyteorder("=")


# storage_name: the legacy class torch pickles for the type (`torch.FloatStorage`); types
# without one are saved as `torch.storage.UntypedStorage` bytes plus a `torch.<dtype>`.
DTYPES = {d.name: d for d in [
    DType("float32", "<f4", "FloatStorage"), DType("float64", "<f8", "DoubleStorage"),
    DType("float16", "<f2", "HalfStorage"), DType("bfloat16", "<u2", "BFloat16Storage"),
    DType("int64", "<i8", "LongStorage"), DType("int32", "<i4", "IntStorage"),
    DType("int16", "<i2", "ShortStorage"), DType("int8", "i1", "CharStorage"),
    DType("uint8", "u1", "ByteStorage"), DType("bool", "?", "BoolStorage"),
    DType("uint16", "<u2", None), DType("uint32", "<u4", None), DType("uint64", "<u8", None)]}
_BY_STORAGE = {d.storage_name: d for d in DTYPES.values() if d.storage_name}
_UNSUPPORTED = {"ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage", "QInt32Storage",
                "QUInt8Storage", "QUInt4x2Storage", "QUInt2x4Storage"}


# --------------------------------------------------------------- what the pickle builds
class _Record:
    """Base of everything the unpickler creates besides plain data and OrderedDicts. It
    has no hash (cannot be a dict key) and refuses pickle's BUILD, so a file can neither
    probe nor rewrite it."""
    __slots__ = ()
    __hash__ = None

    def __setstate__(self, state):
        raise Refused(f"the pickle tries to set the state of {self.describe()}")


class _StorageType(_Record):
    """What `torch.FloatStorage` (etc.) unpickles to."""
    __slots__ = ("dtype", "name")

    def __init__(self, dtype, name):
        self.dtype, self.name = dtype, name

    def describe(self):
        return self.name


class _TorchDType(_StorageType):
    """What `torch.float32` (etc.) unpickles to."""
    __slots__ = ()


class _Rebuild(_Record):
    """What `torch._utils._rebuild_tensor_v2` (etc.) unpickles to: a call checks the
    arguments and returns a _TensorRef."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)

    def describe(self):
        return f"torch._utils.{self.fn.__name__}"


class _StorageRef(_Record):
    """A storage named by a persistent id: `nbytes` bytes from byte `offset` of the
    storage data stored under `key`, holding `dtype`."""
    __slots__ = ("key", "dtype", "offset", "nbytes")

    def __init__(self, key, dtype, offset, nbytes):
        self.key, self.dtype, self.offset, self.nbytes = key, dtype, offset, nbytes

    def describe(self):
        return f"a bare storage (key {self.key!r}), not a tensor"


class _TensorRef(_Record):
    """A tensor as the pickle describes it (offset, shape and strides in elements)."""
    __slots__ = ("storage", "dtype", "offset", "shape", "stride")

    def __init__(self, storage, dtype, offset, shape, stride):
        self.storage, self.dtype, self.offset = storage, dtype, offset
        self.shape, self.stride = shape, stride

    def describe(self):
        return "a tensor"


def _count(value, what):
    if type(value) is not int or value < 0:
        raise Refused(f"{what} must be a non-negative int, got {show(value)}")
    return value


def _counts(value, what):
    if type(value) not in (tuple, list):
        raise Refused(f"{what} must be a tuple of ints, got {show(value)}")
    return tuple(_count(v, what) for v in value)


# ------------------------------------------------------- the stand-ins for torch._utils
def _tensor_ref(storage, storage_offset, size, stride, dtype):
    if type(storage) is not _StorageRef:
        raise Refused(f"a tensor's storage must be a persistent storage, got {show(storage)}")
    shape, stride = _counts(size, "a tensor's size"), _counts(stride, "a tensor's stride")
    if len(shape) != len(stride):
        raise Refused(f"a tensor has size {shape} but stride {stride}")
    return _TensorRef(storage, dtype, _count(storage_offset, "a storage offset"), shape, stride)


def _check_extras(requires_grad, backward_hooks, metadata=None):
    if type(requires_grad) is not bool:
        raise Refused(f"requires_grad must be a bool, got {show(requires_grad)}")
    if backward_hooks is not None and (type(backward_hooks) not in (dict, OrderedDict)
                                       or backward_hooks):
        raise Refused("a tensor carries backward hooks; a .pth may hold only data")
    if metadata is not None and (type(metadata) is not dict or any(metadata.values())):
        raise Refused("a tensor carries metadata (conjugate or negative bit) glassnet lacks")


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_ref(storage, storage_offset, size, stride, getattr(storage, "dtype", None))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    _check_extras(requires_grad, backward_hooks, metadata)
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    # torch's types without a legacy storage class: bytes plus a dtype
    _check_extras(requires_grad, backward_hooks, metadata)
    if type(dtype) is not _TorchDType:
        raise Refused(f"_rebuild_tensor_v3 needs a torch dtype, got {show(dtype)}")
    return _tensor_ref(storage, storage_offset, size, stride, dtype.dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    # a Parameter is loaded as its data, like every tensor: requires_grad False
    _check_extras(requires_grad, backward_hooks)
    if type(data) is not _TensorRef:
        raise Refused(f"a Parameter must wrap a tensor, got {show(data)}")
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    # the state (Python attributes of the Parameter) is plain data; it is dropped
    return _rebuild_parameter(data, requires_grad, backward_hooks)


_REBUILDS = {f.__name__: f for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3,
                                     _rebuild_parameter, _rebuild_parameter_with_state)}


def _allowed_global(module, name):
    """The stand-in for one global the pickle names, or Refused naming it."""
    full = f"{module}.{name}"[:120]
    if module == "collections" and name == "OrderedDict":
        return OrderedDict
    if module == "torch._utils" and name in _REBUILDS:
        return _Rebuild(_REBUILDS[name])
    if module in ("torch", "torch.storage") and name == "UntypedStorage":
        return _StorageType(DTYPES["uint8"], full)
    if module == "torch" and name in _BY_STORAGE:
        return _StorageType(_BY_STORAGE[name], full)
    if module == "torch" and name in DTYPES:
        return _TorchDType(DTYPES[name], full)
    if module == "torch" and (name in _UNSUPPORTED or name.startswith(("complex", "float8"))):
        raise Refused(f"refuses global {full}: glassnet has no complex, quantized or float8 "
                      "tensors")
    hint = ("save model.state_dict(), not the model"
            if module.startswith(("torch.nn", "__main__")) else
            "a .pth may hold only tensors and containers")
    raise Refused(f"refuses global {full}; {hint}")


class _Unpickler(pickle.Unpickler):
    """Resolves globals only through `_allowed_global` and persistent ids only into
    _StorageRef records; `storages` maps each storage key to its first dtype."""

    def __init__(self, file, legacy):
        super().__init__(file)
        self.legacy, self.storages = legacy, {}

    def find_class(self, module, name):
        return _allowed_global(module, name)

    def persistent_load(self, pid):
        # ZIP format: ('storage', type, key, location, numel); legacy: one more field, a
        # view (view key, offset, size) or None. The location is ignored: all is CPU.
        fields = 6 if self.legacy else 5
        if type(pid) is not tuple or len(pid) != fields or pid[0] not in ("storage", b"storage"):
            if type(pid) is tuple and pid and pid[0] in ("module", b"module"):
                raise Refused("holds a whole nn.Module; save model.state_dict(), not the model")
            raise Refused(f"unknown persistent id {show(pid)} (expected a {fields}-field "
                          "('storage', ...) tuple)")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if type(storage_type) is not _StorageType:
            raise Refused(f"a persistent storage names {show(storage_type)} as its type")
        if type(key) is not str:
            raise Refused(f"a storage key must be a str, got {show(key)}")
        dtype = storage_type.dtype
        offset, nbytes = 0, _count(numel, "a storage's size") * dtype.stored.itemsize
        if self.legacy and pid[5] is not None:
            view = pid[5]
            if type(view) is not tuple or len(view) != 3:
                raise Refused(f"a storage view must be (key, offset, size), got {show(view)}")
            offset = _count(view[1], "a storage view's offset") * dtype.stored.itemsize
            nbytes = _count(view[2], "a storage view's size") * dtype.stored.itemsize
        self.storages.setdefault(key, dtype)
        return _StorageRef(key, dtype, offset, nbytes)


def unpickle(file, legacy=False):
    """(object, {storage key: dtype}) from one pickle in file (which can seek), read by the
    restricted unpickler once _prescan found it within bounds; whatever goes wrong inside
    is the file's fault and becomes Refused."""
    try:
        _prescan(file)
        unpickler = _Unpickler(file, legacy)
        return unpickler.load(), unpickler.storages
    except Refused:
        raise
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, struct.error,
            AttributeError, EOFError, OverflowError, MemoryError, RecursionError) as e:
        raise Refused(f"its pickle is truncated or corrupt ({type(e).__name__}: "
                      f"{str(e)[:200]})") from e


def _prescan(file):
    """Check the pickle's shape from its opcodes (`data.pickle_scan.scan`, which builds
    nothing) in a copy of at most METADATA_LIMIT + 1 bytes, then rewind. Refused if it is
    longer than METADATA_LIMIT, or if scan finds it nesting deeper than MAX_DEPTH, with
    more than OPCODE_LIMIT opcodes or a memo index past that: each would crash CPython's
    unpickler or make it allocate far more than the file holds. Every length it declares
    is then known to be present too (CPython's unpickler allocates a counted bytes object
    at its declared size before reading a byte of it)."""
    start = file.tell()
    head = file.read(METADATA_LIMIT + 1)
    file.seek(start)
    try:
        scan(head, MAX_DEPTH, OPCODE_LIMIT)
    except PickleRefused as e:
        if len(head) > METADATA_LIMIT and str(e).startswith("truncated"):  # cut off by the limit
            raise Refused(f"its pickle is longer than {byte_size(METADATA_LIMIT)}, the most "
                          "glassnet reads (a state dict takes about 95 bytes per tensor)") from e
        raise Refused(f"refuses its pickle: {e}") from e


# ------------------------------------------------------- records -> tensors, containers
_PLAIN = (type(None), bool, int, float, complex, str, bytes, bytearray)


class Builder:
    """Turns the unpickled tree into glassnet's objects: _TensorRef -> Tensor, all the
    tensors of one storage views of one buffer; dicts, OrderedDicts, lists, tuples and
    sets rebuilt; anything else refused. What the pickle shares stays shared.

    buffers: storage key -> bytearray of its bytes; byteorder: "little" or "big"."""

    def __init__(self, buffers, byteorder):
        self.buffers, self.byteorder = buffers, byteorder
        self.bases, self.built = {}, {}

    def build(self, node, depth=0):
        if type(node) in _PLAIN:
            return node
        if id(node) in self.built:
            return self.built[id(node)]
        if depth > MAX_DEPTH:
            raise Refused(f"its data is nested deeper than {MAX_DEPTH} levels")
        kind = type(node)
        if kind is _TensorRef:
            out = Tensor._make(self.array(node), False, None)
        elif kind in (dict, OrderedDict, list):
            out = self.built[id(node)] = kind()     # before the items: cycles stay cycles
            if kind is list:
                out.extend(self.build(v, depth + 1) for v in node)
            else:
                for k, v in node.items():
                    out[self.build(k, depth + 1)] = self.build(v, depth + 1)
        elif kind is tuple:
            out = tuple(self.build(v, depth + 1) for v in node)
        elif kind in (set, frozenset):      # hashable items: no records in them, kept as is
            for v in node:
                self.build(v, depth + 1)
            out = node
        elif isinstance(node, _Record):
            raise Refused(f"holds {node.describe()} as a value")
        else:
            raise Refused(f"holds a {kind.__name__}; a .pth may hold only tensors and containers")
        self.built[id(node)] = out
        return out

    def array(self, ref):
        """The tensor's values, a view of its storage's buffer, after checking that every
        element it addresses lies inside the bytes the file holds."""
        storage, dtype = ref.storage, ref.dtype
        buffer = self.buffers[storage.key]
        if storage.offset + storage.nbytes > len(buffer):
            raise Refused(f"storage {storage.key!r} holds {byte_size(len(buffer))}, the "
                          f"pickle claims {byte_size(storage.offset + storage.nbytes)} "
                          f"({storage.dtype.name})")
        key = (storage.key, storage.offset, storage.nbytes, dtype.name)
        if key not in self.bases:
            self.bases[key] = self._base(buffer, storage, dtype)
        base = self.bases[key]
        extent = (0 if 0 in ref.shape else
                  1 + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride)))
        if ref.offset + extent > base.size:
            raise Refused(f"a tensor of size {ref.shape}, stride {ref.stride} and offset "
                          f"{ref.offset} reaches element {ref.offset + extent} of a "
                          f"{dtype.name} storage of {base.size} (key {storage.key!r})")
        itemsize = base.itemsize
        return np.ndarray(ref.shape, base.dtype, buffer=base, offset=ref.offset * itemsize,
                          strides=[s * itemsize for s in ref.stride])

    def _base(self, buffer, storage, dtype):
        """The storage as a 1-d array of the tensor's dtype: a view of the buffer, or a
        converted copy for bfloat16 and for bytes in the other byte order."""
        count = storage.nbytes // dtype.stored.itemsize
        if count == 0:
            return np.empty(0, dtype.dtype)
        stored = dtype.stored.newbyteorder("<" if self.byteorder == "little" else ">")
        raw = np.frombuffer(buffer, stored, count=count, offset=storage.offset)
        if not raw.dtype.isnative:
            raw = raw.astype(raw.dtype.newbyteorder("="))
        if dtype.name == "bool" and raw.view(np.uint8).max() > 1:
            raise Refused(f"bool storage {storage.key!r} holds bytes other than 0 and 1")
        if dtype.name == "bfloat16":
            return (raw.astype(np.uint32) << 16).view(np.float32)
        return raw
