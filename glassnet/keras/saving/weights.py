"""`save_weights` and `load_weights`: Keras 3's layout (h5_weights.py) for names ending
`.weights.h5` and for the weights of a `.keras` file, Keras 2's (legacy_h5.py) for any
other HDF5 name. Reading tells the layout by the content, not the name.
"""
import os

from . import h5_weights, legacy_h5
from .files import KerasFileError, child, h5_bytes, require_h5py, write_file

__all__ = ["save_weights", "load_weights"]

# what h5py and hostile bytes raise while a file is read; all become KerasFileError
HDF5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError)


def save_weights(model, filepath, overwrite=True):
    """Write the model's weights: Keras 3's layout for names ending `.weights.h5`, Keras
    2's (legacy HDF5, read by Keras 3's load_weights) for any other name such as
    `w.h5` or `model.weights.best.hdf5`. The write is atomic."""
    path = os.fspath(filepath)
    model._require_graph("save_weights")
    if path.endswith(".keras"):
        raise ValueError(f"save_weights: {path} ends in .keras, a whole-model file: use "
                         "model.save() for it, or a name ending in .weights.h5")
    writer = h5_weights.write_keras3 if path.endswith(".weights.h5") else legacy_h5.write
    write_file(path, h5_bytes(lambda f: writer(f, model)), overwrite)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """Read weights into the model from Keras 3's layout (`*.weights.h5`, the weights of a
    `.keras` file) or Keras 2's (legacy `.h5`/`.hdf5` weights, or a whole-model file's
    `model_weights`): the layout is told by the content. Keras 2's are matched by position
    among the layers that have weights (by layer name with by_name=True). Everything is read
    and checked before any weight changes."""
    path = os.fspath(filepath)
    model._require_graph("load_weights")
    if path.endswith(".keras"):
        from .keras_file import open_weights
        with open_weights(path) as f:
            _load_from(f, model, path, skip_mismatch, by_name)
        return
    h5py = require_h5py("load_weights")
    with open(path, "rb"):              # a wrong path raises as open() does
        pass
    try:
        f = h5py.File(path, "r")
    except HDF5_ERRORS as e:
        raise KerasFileError(f"load_weights: {path} is not an HDF5 file ({e})") from e
    with f:
        _load_from(f, model, path, skip_mismatch, by_name)


def _load_from(f, model, where, skip_mismatch, by_name):
    try:
        root = legacy_h5.weights_root(f, where)
        if root is not None:
            pairs = legacy_h5.read(root, model, where, by_name, skip_mismatch)
        elif child(f, "layers", "group", where) is not None or "vars" in f:
            if by_name:
                raise KerasFileError(f"{where}: by_name=True works with Keras 2's HDF5 "
                                     "weights only; this file has Keras 3's layout")
            pairs = h5_weights.read_keras3(f, model, where, skip_mismatch)
        else:
            raise KerasFileError(f"{where}: neither Keras 3's weights layout (layers/...) nor "
                                 "Keras 2's (a layer_names attribute)")
    except KerasFileError:
        raise
    except HDF5_ERRORS as e:
        raise KerasFileError(f"{where}: damaged or not a Keras weights file "
                             f"({type(e).__name__}: {e})") from e
    h5_weights.assign(pairs)
