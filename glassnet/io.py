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
"""
import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "glassnet-checkpoint"
VERSION = 1


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
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ckpt", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """Read a checkpoint: glassnet's own (`save`) or PyTorch's (`torch.save`, ZIP or
    legacy format), told apart by content. Tensors come back as glassnet Tensors."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if pth.is_legacy(head):                 # the magic number comes first: decisive
                return pth.load_legacy(f, path)
            if zipfile.is_zipfile(f):
                with zipfile.ZipFile(f) as z:
                    if "structure.json" in z.namelist():
                        return _load_glassnet(z, path)
                    if any(name.endswith("/data.pkl") for name in z.namelist()):
                        return pth.load_zip(z, f, path)
                raise CheckpointError(f"load: {path} is a ZIP archive but neither a glassnet "
                                      "checkpoint (structure.json) nor a PyTorch one (data.pkl)")
            what = ("it starts like a ZIP archive but has no central directory"
                    if head.startswith(b"PK\x03\x04") else
                    "it is neither a ZIP archive nor in torch's legacy format")
            raise CheckpointError(f"load: {path} is truncated, corrupt or not a glassnet "
                                  f"checkpoint nor a PyTorch file ({what})")
    except (FileNotFoundError, CheckpointError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as e:
        raise CheckpointError(f"load: {path} is truncated, corrupt or not a glassnet "
                              f"checkpoint nor a PyTorch file ({type(e).__name__}: {e})") from None


def _load_glassnet(z, path):
    """Read glassnet's own checkpoint from the open ZipFile z."""
    try:
        bad = z.testzip()
        if bad is not None:
            raise CheckpointError(f"load: {path}: member {bad} is corrupt (CRC mismatch)")
        header = json.loads(z.read("structure.json"))
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CheckpointError(f"load: {path} is not a glassnet checkpoint")
        if header.get("version") != VERSION:
            raise CheckpointError(f"load: {path} has checkpoint version "
                                  f"{header.get('version')}, this glassnet reads {VERSION}")
        return _decode(header["object"], lambda i: _read_array(z, i, path), path)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, UnicodeDecodeError,
            json.JSONDecodeError, zipfile.LargeZipFile) as e:
        raise CheckpointError(f"load: {path} is truncated, corrupt or not a glassnet "
                              f"checkpoint ({type(e).__name__}: {e})") from None


def _read_array(z, index, path):
    name = f"arrays/{index}.npy"
    try:
        with z.open(name) as f:
            return np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
    except ValueError as e:
        raise CheckpointError(f"load: {path}: {name} cannot be read safely ({e}); glassnet "
                              "never unpickles data") from None


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


def _decode(node, read_array, path):
    if isinstance(node, list):
        return [_decode(v, read_array, path) for v in node]
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        array = read_array(int(node["__array__"]))
        return Tensor._make(array, False, None) if node.get("tensor") else array
    if "__tuple__" in node:
        return tuple(_decode(v, read_array, path) for v in node["__tuple__"])
    if "__dict__" in node:
        kind = OrderedDict if node.get("ordered") else dict
        return kind((k, _decode(v, read_array, path)) for k, v in node["__dict__"])
    raise CheckpointError(f"load: {path}: unknown entry {sorted(node)} in the structure")


# Last: the PyTorch readers and writer use CheckpointError, encode and write_atomically.
from . import pth, pth_write  # noqa: E402
