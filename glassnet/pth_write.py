"""Writing PyTorch's checkpoint format: `glassnet.save(obj, path, format="torch")`.

The file is what `torch.save` writes (and `torch.load(path, weights_only=True)` reads):
a ZIP archive, every member stored uncompressed with its data starting on a 64-byte
boundary, holding

    <name>/data.pkl                  the object, pickled with protocol 2
    <name>/.format_version           "1": storages numbered in order of appearance
    <name>/.storage_alignment        "64"
    <name>/byteorder                 "little"
    <name>/data/0, data/1, ...       one member of raw little-endian bytes per storage
    <name>/version                   "3"
    <name>/.data/serialization_id    a random 40-digit id

The pickle is emitted opcode by opcode rather than by `pickle.Pickler`: the Pickler
would have to import torch to check the globals it names. A tensor is pickled as torch
pickles one, `_rebuild_tensor_v2((storage persistent id), offset, size, stride, False,
OrderedDict())`, the persistent id being `('storage', torch.FloatStorage, key, 'cpu',
numel)`. Tensors that view one contiguous NumPy array (a transpose, a slice, the same
tensor under two names) share one storage, as in torch, holding the span of the array
they cover; any other array is written as its own contiguous copy. NumPy arrays are
written as tensors too (a torch file has no other array type).
"""
import os
import struct
import zipfile

import numpy as np

from .io import encode, write_atomically
from .pth_pickle import DTYPES

__all__ = ["save"]

_ALIGNMENT = 64
_BY_NUMPY = {d.dtype: d for d in DTYPES.values() if d.name != "bfloat16"}


def save(obj, path):
    """Write obj (a state dict: nested dicts/OrderedDicts/lists/tuples of tensors, arrays,
    numbers, strings, None) in PyTorch's ZIP format, atomically."""
    arrays = []
    structure = encode(obj, arrays, "obj")
    placements, storages = _plan_storages(arrays)
    pickled = _Pickle(placements).dumps(structure)
    archive = os.path.splitext(os.path.basename(os.fspath(path)))[0] or "archive"
    records = [("data.pkl", pickled), (".format_version", b"1"),
               (".storage_alignment", str(_ALIGNMENT).encode()), ("byteorder", b"little")]
    records += [(f"data/{key}", data) for key, data in enumerate(storages)]
    serialization_id = f"{int.from_bytes(os.urandom(16), 'little'):040d}"
    records += [("version", b"3\n"), (".data/serialization_id", serialization_id.encode())]
    write_atomically(path, lambda f: _write_zip(f, archive, records))


# ----------------------------------------------------------------------------- storages
def _torch_dtype(array):
    dtype = _BY_NUMPY.get(array.dtype.newbyteorder("="))
    if dtype is None:
        raise TypeError(f"save: an array of dtype {array.dtype} has no PyTorch dtype (format="
                        "'torch' writes float16/32/64, int8/16/32/64, uint8/16/32/64 and bool)")
    return dtype


def _view_of(array):
    """(root, first byte, end byte) when array views a contiguous little-endian NumPy
    array `root` of its own dtype at whole-element offsets and strides, else None."""
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    itemsize = array.itemsize
    if (array.size == 0 or root.dtype != array.dtype or array.dtype.newbyteorder("<") != array.dtype
            or not (root.flags.c_contiguous or root.flags.f_contiguous)):
        return None
    first = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if first < 0 or first % itemsize or any(s < 0 or s % itemsize for s in array.strides):
        return None
    end = first + itemsize + sum((n - 1) * s for n, s in zip(array.shape, array.strides))
    return (root, first, end) if end <= root.nbytes else None


def _plan_storages(arrays):
    """Give every array a storage. placements[i] = (key, dtype, element offset, shape,
    strides in elements, storage numel) for arrays[i]; storages[key] = that storage's
    bytes, a view of the arrays' own memory wherever possible (no copy)."""
    views = [(_torch_dtype(a), _view_of(a)) for a in arrays]
    spans = {}                                     # id(root) -> [first byte, end byte]
    for _, view in views:
        if view is not None:
            span = spans.setdefault(id(view[0]), [view[1], view[2]])
            span[0], span[1] = min(span[0], view[1]), max(span[1], view[2])
    keys, storages, placements = {}, [], []
    for array, (dtype, view) in zip(arrays, views):
        itemsize = array.itemsize
        if view is None:                           # its own contiguous little-endian copy
            data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
            storages.append(data.reshape(-1).view(np.uint8))
            placements.append((len(storages) - 1, dtype, 0, array.shape,
                               _contiguous_strides(array.shape), array.size))
            continue
        root, first, _ = view
        low, high = spans[id(root)]
        if id(root) not in keys:
            flat = (root if root.flags.c_contiguous else root.T).reshape(-1).view(np.uint8)
            keys[id(root)] = len(storages)
            storages.append(flat[low:high])
        placements.append((keys[id(root)], dtype, (first - low) // itemsize, array.shape,
                           tuple(s // itemsize for s in array.strides), (high - low) // itemsize))
    return placements, storages


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


# ------------------------------------------------------------------------------- pickle
class _Pickle:
    """A protocol-2 pickle of io.encode's structure, written opcode by opcode."""

    def __init__(self, placements):
        self.placements, self.out = placements, bytearray()

    def dumps(self, structure):
        self.out += b"\x80\x02"                                   # PROTO 2
        self.emit(structure)
        self.out += b"."                                          # STOP
        return bytes(self.out)

    def emit(self, node):
        out = self.out
        if node is None:
            out += b"N"
        elif node is True or node is False:
            out += b"\x88" if node else b"\x89"                  # NEWTRUE / NEWFALSE
        elif isinstance(node, int):
            self.integer(node)
        elif isinstance(node, float):
            out += b"G" + struct.pack(">d", node)                 # BINFLOAT
        elif isinstance(node, str):
            data = node.encode("utf-8", "surrogatepass")
            out += b"X" + struct.pack("<I", len(data)) + data     # BINUNICODE
        elif isinstance(node, list):
            out += b"]("                                          # EMPTY_LIST, MARK
            for item in node:
                self.emit(item)
            out += b"e"                                           # APPENDS
        elif "__tuple__" in node:
            self.tuple(node["__tuple__"])
        elif "__dict__" in node:
            # OrderedDict is rebuilt as torch pickles it: OrderedDict() then SETITEMS
            out += b"ccollections\nOrderedDict\n)R(" if node.get("ordered") else b"}("
            for key, value in node["__dict__"]:
                self.emit(key)
                self.emit(value)
            out += b"u"                                           # SETITEMS
        else:
            self.tensor(self.placements[node["__array__"]])

    def integer(self, value):
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])                     # BININT1
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)           # BININT2
        elif -2 ** 31 <= value < 2 ** 31:
            self.out += b"J" + struct.pack("<i", value)           # BININT
        else:
            data = value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)
            self.out += (b"\x8a" + bytes([len(data)]) if len(data) < 256      # LONG1
                         else b"\x8b" + struct.pack("<i", len(data))) + data  # LONG4

    def tuple(self, items):
        if not items:
            self.out += b")"                                      # EMPTY_TUPLE
            return
        if len(items) > 3:
            self.out += b"("                                      # MARK
        for item in items:
            self.emit(item)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t")  # TUPLE1/2/3, TUPLE

    def tensor(self, placement):
        key, dtype, offset, shape, strides, numel = placement
        # a dtype with a legacy storage class: _rebuild_tensor_v2 over a typed storage
        # counted in elements; else _rebuild_tensor_v3 over bytes, with the dtype
        typed = dtype.storage_name is not None
        rebuild = b"_rebuild_tensor_v2" if typed else b"_rebuild_tensor_v3"
        storage = (b"ctorch\n" + dtype.storage_name.encode() + b"\n" if typed
                   else b"ctorch.storage\nUntypedStorage\n")
        self.out += b"ctorch._utils\n" + rebuild + b"\n(("               # GLOBAL, MARK, MARK
        self.emit("storage")
        self.out += storage
        self.emit(str(key))
        self.emit("cpu")
        self.integer(numel if typed else numel * dtype.stored.itemsize)
        self.out += b"tQ"                                         # TUPLE, BINPERSID
        self.integer(offset)
        self.tuple(list(shape))
        self.tuple(list(strides))
        self.out += b"\x89ccollections\nOrderedDict\n)R"          # False, OrderedDict()
        if not typed:
            self.out += b"ctorch\n" + dtype.name.encode() + b"\n"
        self.out += b"tR"                                         # TUPLE, REDUCE


# ---------------------------------------------------------------------------------- ZIP
def _write_zip(f, archive, records):
    """Store each record under `archive/` with its data starting on a 64-byte boundary,
    as torch's writer does (it pads the local header's extra field with an 'FB' block),
    so that torch can map storages in place (torch.load(mmap=True))."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in records:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            view = memoryview(data)
            info.file_size = view.nbytes
            # zipfile itself adds a 20-byte ZIP64 extra block to the local header of a
            # member this large (the same test as its own)
            zip64 = 20 if info.file_size * 1.05 > zipfile.ZIP64_LIMIT else 0
            header = 30 + len(info.filename.encode("utf-8")) + 4 + zip64
            pad = -(f.tell() + header) % _ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            with z.open(info, "w") as member:
                member.write(view)
