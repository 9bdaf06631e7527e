"""Checkpoints that cannot run code: `glassnet.save(obj, path)` and `glassnet.load(path)`.

A checkpoint is a ZIP archive holding one JSON document, the structure (nested
dicts, lists and tuples of numbers, strings, booleans and None), and one `.npy`
member per tensor or array, read back with `allow_pickle=False`. Nothing in it
is ever unpickled, so a crafted file can at worst fail to load. The ZIP format
gives every member a CRC-32, so a truncated or corrupted file is detected.

Writes are atomic: the archive goes to a temporary file in the same folder, is
flushed and fsync'ed, and only then renamed over the target, so an interrupted
save leaves the previous checkpoint intact.

`load` also reads PyTorch's own checkpoint files (`torch.save`), through a restricted
unpickler that runs none of their code (`glassnet/pth.py`), and `save(..., format=
"torch")` writes one that `torch.load(path, weights_only=True)` reads
(`glassnet/pth_write.py`). Which format a file has is told by its content, not its name.

Every file `load` reads is treated as hostile. Memory follows the bytes actually
present, never a size the file declares: a ZIP member is read through `Archive`
(`glassnet/archive.py`), which checks it before reading a byte (unencrypted, stored or
deflated, its data inside the file and shared with no other member, its declared size
possible) and then reads it in bounded chunks, never past what it declares; metadata
(structure.json, a pickle) has an absolute cap, METADATA_LIMIT, and caps on nesting and
on the containers it may create; an array's header is checked against its member's size
before anything is allocated. Whatever is wrong with a file ends in one CheckpointError
naming the file and the problem, the original exception chained; a wrong path
(FileNotFoundError, IsADirectoryError, PermissionError: whatever `open` raises) is not a
wrong file and propagates as it is, as from `open`, `numpy.load` and `torch.load`.
"""
import io
import json
import math
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .archive import METADATA_LIMIT, Archive, Refused, byte_size, open_zip, reason, show
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "glassnet-checkpoint"
VERSION = 1

CONTAINER_LIMIT = 1 << 20       # lists and objects in structure.json: ~2 per tensor
JSON_DEPTH_LIMIT = 100          # 3 levels per dict of dicts: 30 dicts deep (state dicts: <6)
_NPY_HEADER_LIMIT = 1 << 16     # numpy writes ~120 bytes; its own reader stops at 10 000


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint, glassnet's or PyTorch's (missing parts,
    truncated, corrupt, unsafe)."""


def save(obj, path, format="glassnet"):
    """Write obj (state dicts: nested dicts/lists/tuples of tensors, arrays, numbers,
    strings, None) to path, atomically: as glassnet's own checkpoint (format="glassnet",
    the default) or as PyTorch's .pth (format="torch", read by torch.load)."""
    if format == "torch":
        return pth_write.save(obj, path)
    if format != "glassnet":
        raise ValueError(f"save: format must be 'glassnet' or 'torch', got {format!r}")
    arrays = []
    structure = encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "version": VERSION, "object": structure})

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("structure.json", header)
            for i, array in enumerate(arrays):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(array, order="C"),
                                          allow_pickle=False)
                z.writestr(f"arrays/{i}.npy", buffer.getvalue())
    write_atomically(path, write)


def write_atomically(path, write):
    """Call write(f) on a new binary file beside path, fsync it, then rename it over
    path: whoever opens path sees the old file or the whole new one, never a part."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    # mkstemp makes the file private (0600); give it the permissions open(path, "wb")
    # would have: an existing file's, else 0666 less the umask
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ckpt", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0o022)      # reading the umask means setting it; set it straight back
    os.umask(mask)
    return mask


# Exceptions that hostile bytes can raise from zipfile, zlib, json, struct or NumPy while
# a file is read; all become CheckpointError. RuntimeError covers zipfile's
# NotImplementedError (unknown ZIP features) and RecursionError.
_INPUT_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                 struct.error, zlib.error, OverflowError, MemoryError, RuntimeError)


def load(path):
    """Read a checkpoint: glassnet's own (`save`) or PyTorch's (`torch.save`, ZIP or
    legacy format), told apart by content. Tensors come back as glassnet Tensors.

    CheckpointError for anything wrong with the file; what `open` raises for the path
    (FileNotFoundError, IsADirectoryError, PermissionError, ...) as it is."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            return _load_file(f, path)
        except CheckpointError:
            raise
        except Refused as e:
            raise CheckpointError(f"load: {path}: {e}") from e
        except _INPUT_ERRORS as e:
            raise CheckpointError(f"load: {path} is truncated, corrupt or not a glassnet "
                                  f"checkpoint nor a PyTorch file ({reason(e)})") from e


def _load_file(f, path):
    head = f.read(64)
    if pth.is_legacy(head):                 # the magic number comes first: decisive
        return pth.load_legacy(f)
    if zipfile.is_zipfile(f):
        with open_zip(f) as z:
            names = z.namelist()
            if "structure.json" in names:
                return _load_glassnet(Archive(z, f, (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)))
            if any(name.endswith("/data.pkl") for name in names):
                return pth.load_zip(Archive(z, f, (zipfile.ZIP_STORED,)))
        raise CheckpointError(f"load: {path} is a ZIP archive but neither a glassnet "
                              "checkpoint (structure.json) nor a PyTorch one (data.pkl)")
    what = ("it starts like a ZIP archive but has no central directory"
            if head.startswith(b"PK\x03\x04") else
            "it is neither a ZIP archive nor in torch's legacy format")
    raise CheckpointError(f"load: {path} is truncated, corrupt or not a glassnet "
                          f"checkpoint nor a PyTorch file ({what})")


def encode(obj, arrays, where):
    """obj as JSON-ready structure, its arrays appended to `arrays` (also the walk behind
    format="torch"); TypeError naming the place of anything a checkpoint cannot hold."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float, np.integer, np.floating, np.bool_)):
        return obj.item() if isinstance(obj, np.generic) else obj
    if isinstance(obj, (Tensor, np.ndarray)):
        array = obj._array if isinstance(obj, Tensor) else obj
        if array.dtype.kind not in "biuf":
            raise TypeError(f"save: {where} has dtype {array.dtype}; only numeric and bool "
                            "arrays can be saved")
        arrays.append(array)
        return {"__array__": len(arrays) - 1, "tensor": isinstance(obj, Tensor)}
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: {where} has a key {k!r}; keys must be str or int")
        items = [[k, encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]
        # "ordered": an OrderedDict (a state dict) comes back as one
        return {"__dict__": items, **({"ordered": True} if isinstance(obj, OrderedDict) else {})}
    if isinstance(obj, (list, tuple)):
        items = [encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    raise TypeError(f"save: {where} is a {type(obj).__name__}; a checkpoint holds tensors, "
                    "arrays, numbers, strings, None, and dicts/lists/tuples of them")


# ------------------------------------------------------------ glassnet's own checkpoints
def _load_glassnet(archive):
    """The object of glassnet's own checkpoint in the open Archive."""
    header = _read_structure(archive)
    if type(header) is not dict or header.get("format") != FORMAT or "object" not in header:
        raise Refused("structure.json does not describe a glassnet checkpoint (it needs "
                      f"'format': {FORMAT!r} and an 'object')")
    if header.get("version") != VERSION:
        raise Refused(f"has checkpoint version {show(header.get('version'))}, this glassnet "
                      f"reads {VERSION}")
    return _decode(header["object"], _Arrays(archive), "obj")


def _read_structure(archive):
    data = archive.read("structure.json", limit=METADATA_LIMIT)
    try:
        text = str(memoryview(data), "utf-8")
    except UnicodeDecodeError as e:
        raise Refused(f"structure.json is not UTF-8 text ({e.reason} at byte {e.start})") from e
    del data
    _check_json_shape(text)
    try:
        return json.loads(text)
    except ValueError as e:                 # malformed, or an integer of over 4300 digits
        raise Refused(f"structure.json is not valid JSON ({str(e)[:200]})") from e


# A JSON string, also one cut off by the end of the text: every quote starts a match,
# so stripping strings stays linear however the quotes fall.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _check_json_shape(text, member="structure.json"):
    """Refuse JSON nested deeper than JSON_DEPTH_LIMIT or with more than CONTAINER_LIMIT
    arrays and objects, before json.loads recurses into them or allocates them: the
    brackets outside strings, counted without recursion. `member` names the JSON in the
    message (glassnet.keras.saving checks a .keras file's config.json with it)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    opened = brackets.count("[") + brackets.count("{")
    if opened > CONTAINER_LIMIT:
        raise Refused(f"{member} holds {opened} lists and objects; glassnet reads at "
                      f"most {CONTAINER_LIMIT} (about 2 per tensor)")
    # A parser stops at the first bracket that closes nothing, which comes within the
    # first 2 * opened + 1: the depth it reaches is the deepest point of those.
    codes = np.frombuffer(brackets[:2 * opened + 1].encode("ascii"), np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    depth = int(np.cumsum(steps).max(initial=0))
    if depth > JSON_DEPTH_LIMIT:
        raise Refused(f"{member} nests {depth} levels deep; glassnet reads at most "
                      f"{JSON_DEPTH_LIMIT} (3 per level of dicts)")


class _Arrays:
    """Reads arrays/<n>.npy for the entries of structure.json, each member at most once
    (two entries naming one member would read its bytes twice)."""

    def __init__(self, archive):
        self.archive, self.read_by = archive, {}

    def read(self, index, where):
        name = f"arrays/{index}.npy"
        if index in self.read_by:
            raise Refused(f"structure.json: entries {self.read_by[index]} and {where} both "
                          f"name {name}; each array is saved once")
        if name not in self.archive.names:
            raise Refused(f"structure.json: entry {where} names {name}, which the archive "
                          "lacks")
        self.read_by[index] = where
        return _read_npy(self.archive, name)


def _read_npy(archive, name):
    """The array of one .npy member: its header checked against the member's size, then
    its data read into a buffer of that size."""
    info, stream = archive.open(name)
    with stream:
        shape, fortran, dtype, offset = _npy_header(archive, stream, info)
        if len(shape) > 64 or min(shape, default=0) < 0:
            raise Refused(f"member {name} has an impossible shape: {str(shape)[:100]}")
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            what = f"{dtype} of shape {shape}" if len(shape) <= 8 else f"{dtype}, {len(shape)}-d"
            raise Refused(f"member {name} declares {byte_size(nbytes)} ({what}) but holds "
                          f"{byte_size(max(info.file_size - offset, 0))}")
        data = archive.read_exactly(stream, info, nbytes)
    if dtype.kind == "b" and data.max(initial=0) > 1:
        raise Refused(f"member {name} is a bool array holding bytes other than 0 and 1")
    array = data.view(dtype).reshape(shape, order="F" if fortran else "C")
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _npy_header(archive, stream, info):
    """(shape, Fortran order, dtype, data offset) of a .npy member: the header's length is
    capped before it is read, its text parsed by NumPy's own (literal-only) reader, and any
    dtype but bool, int, uint and float refused."""
    name = info.filename
    if info.file_size < 10:
        raise Refused(f"member {name} holds {byte_size(info.file_size)}, too few for a .npy "
                      "array")
    magic = bytes(archive.read_exactly(stream, info, 8))
    if magic[:6] != b"\x93NUMPY" or magic[6:] not in (b"\x01\x00", b"\x02\x00"):
        raise Refused(f"member {name} is not a .npy array of format 1.0 or 2.0 (it starts "
                      f"{magic!r})")
    width = 2 if magic[6] == 1 else 4
    field = bytes(archive.read_exactly(stream, info, width))
    length = int.from_bytes(field, "little")
    if length > _NPY_HEADER_LIMIT:
        raise Refused(f"member {name} has a .npy header of {byte_size(length)}; glassnet "
                      f"reads at most {byte_size(_NPY_HEADER_LIMIT)}")
    if 8 + width + length > info.file_size:
        raise Refused(f"member {name} ends inside its .npy header ({byte_size(length)} "
                      f"declared, {byte_size(info.file_size - 8 - width)} present)")
    header = bytes(archive.read_exactly(stream, info, length))
    read = (np.lib.format.read_array_header_1_0 if width == 2 else
            np.lib.format.read_array_header_2_0)
    try:
        shape, fortran, dtype = read(io.BytesIO(field + header))
    except Exception as e:      # ValueError mostly; its fallback parser lets tokenize's out
        raise Refused(f"member {name} has a corrupt .npy header ({reason(e)})") from e
    if dtype.kind not in "biuf":
        raise Refused(f"member {name} holds an array of dtype {str(dtype)[:60]}; glassnet "
                      "never unpickles data and reads only bool, int, uint and float arrays")
    return shape, fortran, dtype, 8 + width + length


def _decode(node, arrays, where):
    """The object a node of structure.json stands for (encode's inverse); each node is
    checked, and Refused names the entry that is wrong. `where` is its place: obj['a'][0]."""
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is list:
        return [_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(node)]
    if "__array__" in node:
        index, tensor = node["__array__"], node.get("tensor", False)
        _expect(node, where, {"__array__", "tensor"})
        if type(index) is not int or not 0 <= index < 2 ** 31:
            raise _entry(f"{where}['__array__']", index, "the number of an arrays/<n>.npy member")
        if type(tensor) is not bool:
            raise _entry(f"{where}['tensor']", tensor, "true or false")
        array = arrays.read(index, where)
        return Tensor._make(array, False, None) if tensor else array
    if "__tuple__" in node:
        _expect(node, where, {"__tuple__"})
        items = _list(node, "__tuple__", where)
        return tuple(_decode(v, arrays, f"{where}[{i}]") for i, v in enumerate(items))
    if "__dict__" in node:
        _expect(node, where, {"__dict__", "ordered"})
        items, ordered = _list(node, "__dict__", where), node.get("ordered", False)
        if type(ordered) is not bool:
            raise _entry(f"{where}['ordered']", ordered, "true or false")
        out = OrderedDict() if ordered else {}
        for i, item in enumerate(items):
            if type(item) is not list or len(item) != 2 or type(item[0]) not in (str, int):
                raise _entry(f"{where}['__dict__'][{i}]", item, "a [key, value] pair with a "
                             "str or int key")
            key = item[0]
            shown = repr(key[:40]) if type(key) is str else (
                key if key.bit_length() <= 64 else f"<{show(key)}>")
            out[key] = _decode(item[1], arrays, f"{where}[{shown}]")
        return out
    raise _entry(where, node, "a value, a list, or an object with __array__, __tuple__ or "
                 "__dict__")


def _expect(node, where, allowed):
    extra = sorted(set(node) - allowed)
    if extra:
        raise Refused(f"structure.json: entry {where} has the unknown key "
                      f"{show(extra[0])} beside {sorted(allowed)[0]}")


def _list(node, key, where):
    if type(node[key]) is not list:
        raise _entry(f"{where}[{key!r}]", node[key], "a list")
    return node[key]


def _entry(where, value, expected):
    return Refused(f"structure.json: entry {where} is {show(value)}; expected {expected}")


# Last: the PyTorch readers and writer use CheckpointError, encode and write_atomically.
from . import pth, pth_write  # noqa: E402
