"""What every reader and writer of Keras's files shares: the error they raise, h5py (an
optional dependency, imported only when a file is touched), atomic writes, and walking an
HDF5 file as hostile input.

HDF5 can point outside itself: a soft or external link names another object or file, an
external dataset keeps its bytes in any file on disk, a virtual dataset maps other files.
A weights file that did so could make `load_weights` read, say, a private file into a
layer's kernel, which a later save would copy anywhere. So only hard links to groups and
plain datasets are followed, and a dataset's shape and dtype are checked against the
weight it is meant for before a byte of it is read (a dataset declaring a huge shape is
refused without allocating it).
"""
import io
import os

import numpy as np

from ...io import CheckpointError, write_atomically

__all__ = ["KerasFileError", "require_h5py", "write_file", "child", "read_array",
           "string_list"]

STRING_LIST_LIMIT = 1 << 20      # layer or weight names in one attribute: far above any model


class KerasFileError(CheckpointError):
    """A Keras file (.keras, .weights.h5, .h5/.hdf5) glassnet will not read or write: not
    in a format it knows, damaged, unsafe, or describing what glassnet does not build.
    The message names the file and, where there is one, the layer and the key."""


def require_h5py(what):
    """The h5py module, or an ImportError saying how to get it (it is optional)."""
    try:
        import h5py
    except ImportError as e:
        raise ImportError(f"{what} needs the h5py package, which is not installed: "
                          "pip install h5py (or pip install glassnet[keras])") from e
    return h5py


def write_file(path, data, overwrite):
    """Write `data` (bytes, or a function writing to a binary file) to path atomically:
    whoever opens path sees the old file or the whole new one, never a part."""
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    write_atomically(path, data if callable(data) else lambda f: f.write(data))


def h5_bytes(write):
    """An HDF5 file built in memory by write(h5py.File), as bytes: written to disk (or
    into a .keras zip) in one piece afterwards."""
    h5py = require_h5py("writing Keras weights")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write(f)
    return buffer.getvalue()


def child(group, name, kind, where):
    """group[name] if it is a hard link to a `kind` ("group" or "dataset"), else None when
    absent; KerasFileError for a link out of the file, a dataset stored outside it, or an
    object of the other kind. `name` may be a path a/b/c, walked one hard link at a time."""
    h5py = require_h5py("reading Keras weights")
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise KerasFileError(f"{where}: invalid HDF5 path {name!r}")
    node = group
    for i, part in enumerate(parts):
        if not isinstance(node, h5py.Group) or part not in node:
            return None
        link = node.get(part, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise KerasFileError(f"{where}: {name!r} is a {type(link).__name__}, a link out of "
                                 "this object; glassnet follows only hard links")
        node = node[part]
    want = h5py.Group if kind == "group" else h5py.Dataset
    if not isinstance(node, want):
        raise KerasFileError(f"{where}: {name!r} is not an HDF5 {kind}")
    if kind == "dataset" and (node.external or node.is_virtual):
        raise KerasFileError(f"{where}: dataset {name!r} keeps its data outside this file "
                             "(external or virtual); glassnet reads only data inside it")
    return node


def read_array(dataset, shape, where):
    """The values of `dataset`, after checking its shape is `shape` and its dtype a
    number (so nothing of an unexpected size or kind is read)."""
    got = tuple(dataset.shape) if dataset.shape is not None else None
    if got != tuple(shape):
        raise KerasFileError(f"{where}: the file holds shape {got}, the model's weight has "
                             f"shape {tuple(shape)}")
    if dataset.dtype.kind not in "fiu":
        raise KerasFileError(f"{where}: dtype {dataset.dtype} is not a number type glassnet "
                             "reads (float or integer)")
    return np.asarray(dataset[()], dtype=np.float32)


def string_list(group, name, where):
    """A list-of-strings attribute (Keras's layer_names, weight_names), also when Keras
    split a long one into name0, name1, ...; [] when absent."""
    attrs = group.attrs
    if name in attrs:
        chunks = [attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in attrs and i < STRING_LIST_LIMIT:
            chunks.append(attrs[f"{name}{i}"])
            i += 1
    out = []
    for chunk in chunks:
        values = np.asarray(chunk)
        if values.size == 0:
            continue
        if values.ndim != 1 or values.dtype.kind not in "SUO" or \
                len(out) + len(values) > STRING_LIST_LIMIT:
            raise KerasFileError(f"{where}: attribute {name!r} is not a list of names")
        for v in values:
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            if not isinstance(v, str):
                raise KerasFileError(f"{where}: attribute {name!r} holds a non-string entry")
            out.append(v)
    return out


def write_string_list(group, name, values):
    """Keras's way to store a list of names: bytes, split into name0, name1, ... when one
    attribute would pass HDF5's 64 KiB object-header limit."""
    data = np.array([v.encode("utf-8") for v in values], dtype=bytes) if values \
        else np.zeros((0,), np.float64)       # what Keras stores for an empty list
    limit, parts = 64512, [data]
    while any(p.nbytes > limit for p in parts) and len(parts) < len(data):
        parts = np.array_split(data, len(parts) + 1)
    if len(parts) == 1:
        group.attrs[name] = data
    else:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part
