"""Keras's files, written so that real Keras reads them and read without running code.

    model.save("m.keras")            Keras 3's .keras zip (keras_file.py): config.json,
                                     metadata.json, model.weights.h5
    load_model("m.keras")            any Sequential or functional model of glassnet.keras's
                                     layers, from glassnet or from Keras
    model.save_weights("w.weights.h5")   Keras 3's weights layout (h5_weights.py)
    model.save_weights("w.h5")       Keras 2's legacy HDF5 layout (legacy_h5.py), for any
                                     name not ending in .weights.h5 (ModelCheckpoint's
                                     "model.weights.best.hdf5")
    model.load_weights(path)         either layout, told by the content; also a .keras
                                     file's weights and a Keras 2 whole-model .h5's

Files are data: JSON and arrays. Reading builds only allow-listed classes (config.py),
follows nothing outside the file, and checks everything before changing a weight; what
it will not read ends in a KerasFileError naming the file, the layer and the class or
key. Writes are atomic. h5py is imported only when a file is touched (pip install h5py).

Not written: the optimizer's state (Keras then starts the optimizer afresh, with a
warning). Not guarded: the size of the architecture a file describes, which is built
before its weights are read (a file asking for a huge layer fails for lack of memory).
"""
from .files import KerasFileError
from .keras_file import load_model, save_model as _save_keras
from .weights import load_weights, save_weights

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "KerasFileError"]


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """`model.save(filepath)`: a .keras file (Keras 3's format; zipped=False, Keras's
    unzipped folder form, is not supported). overwrite=False refuses to replace a file
    (Keras would ask on the terminal). include_optimizer is accepted and changes nothing:
    the optimizer's state is never written (its settings are, in compile_config)."""
    unknown = set(kwargs) - {"include_optimizer"}
    if unknown:
        raise TypeError(f"save: unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    if zipped is False:
        raise NotImplementedError("save: zipped=False (a folder) is not supported; glassnet "
                                  "writes the zipped .keras file")
    _save_keras(model, filepath, overwrite=overwrite)
