"""Checkpoints that cannot run code: `glassnet.save(obj, path)` and `glassnet.load(path)`.

A checkpoint is a ZIP archive holding one JSON document, the structure (nested
dicts, lists and tuples of numbers, strings, booleans and None), and one `.npy`
member per tensor or array, read back with `allow_pickle=False`. Nothing in it
is ever unpickled, so a crafted file can at worst fail to load. The ZIP format
gives every member a CRC-32, so a truncated or corrupted file is detected.

Writes are atomic: the archive goes to a temporary file in the same folder, is
flushed and fsync'ed, and only then renamed over the target, so an interrupted
save leaves the previous checkpoint intact.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "glassnet-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable glassnet checkpoint (missing, truncated, corrupt, unsafe)."""


def save(obj, path):
    """Write obj (state dicts: nested dicts/lists/tuples of tensors, arrays, numbers,
    strings, None) to path, atomically."""
    arrays = []
    structure = _encode(obj, arrays, "obj")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ckpt", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
                z.writestr("structure.json", json.dumps(
                    {"format": FORMAT, "version": VERSION, "object": structure}))
                for i, array in enumerate(arrays):
                    buffer = io.BytesIO()
                    np.lib.format.write_array(buffer, np.asarray(array, order="C"),
                                              allow_pickle=False)
                    z.writestr(f"arrays/{i}.npy", buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """Read a checkpoint written by `save`; tensors come back as glassnet Tensors."""
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as z:
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
    except FileNotFoundError:
        raise
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


def _encode(obj, arrays, where):
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
        return {"__dict__": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
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
        return {k: _decode(v, read_array, path) for k, v in node["__dict__"]}
    raise CheckpointError(f"load: {path}: unknown entry {sorted(node)} in the structure")
