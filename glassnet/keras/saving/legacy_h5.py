"""Keras 2's HDF5 weights layout: what `save_weights("w.h5")` wrote before Keras 3, what
ModelCheckpoint writes to names such as `model.weights.best.hdf5`, and what Keras 3's
`load_weights("x.h5")` still reads.

    attrs   layer_names = [every layer of model.layers], backend, keras_version
    <layer name>/          attrs weight_names = ["dense/kernel:0", "dense/bias:0"]
    <layer name>/dense/kernel:0, ...   one dataset per weight name (the name is a path)

A whole-model Keras 2 file (`model.save("m.h5")`) keeps the same inside its
`model_weights` group. A layer's weights are listed trainable first, then the others
(BatchNormalization: gamma, beta, moving_mean, moving_variance). Loading matches the
layers that have weights by position, in the order of model.layers (Keras's rule), or by
layer name with by_name=True; the names of the weights themselves are not used.
"""
import warnings

from .. import __version__ as keras_version
from .files import KerasFileError, child, read_array, string_list, write_string_list
from .graph import keras_layers
from .h5_weights import weight_groups

__all__ = ["write", "weights_root", "read"]


def _named_weights(layer):
    """[(Keras 2 weight name, variable)] in Keras 2's order (trainable, then the rest)."""
    names = {}
    for _, chain, variables in weight_groups(layer):
        for v in variables:
            names[id(v)] = "/".join([layer.name] + chain + [v.name]) + ":0"
    return [(names[id(v)], v) for v in layer.trainable_weights + layer.non_trainable_weights]


def write(f, model):
    """Write the model's weights into the open h5py.File f in Keras 2's layout."""
    layers = keras_layers(model)
    write_string_list(f, "layer_names", [layer.name for layer in layers])
    f.attrs["backend"] = b"tensorflow"      # the weights are in TensorFlow's layouts
    f.attrs["keras_version"] = keras_version.encode()
    for layer in sorted(layers, key=lambda l: l.name):
        group = f.create_group(layer.name)
        weights = _named_weights(layer)
        write_string_list(group, "weight_names", [name for name, _ in weights])
        for name, v in weights:
            group.create_dataset(name, data=v.numpy())


def weights_root(f, where):
    """The group holding Keras 2's layout (the file, or a whole-model file's
    model_weights), or None when the file is not in that layout."""
    for group in (f, child(f, "model_weights", "group", where)):
        if group is not None and ("layer_names" in group.attrs
                                  or "layer_names0" in group.attrs):
            return group
    return None


def _saved_layers(root, where):
    """[(layer name, group, weight names)] of the saved layers that have weights."""
    saved = []
    for name in string_list(root, "layer_names", where):
        group = child(root, name, "group", where)
        if group is None:
            raise KerasFileError(f"{where}: layer_names lists {name!r} but the file has no "
                                 "group of that name")
        weight_names = string_list(group, "weight_names", f"{where}: {name}")
        if weight_names:
            saved.append((name, group, weight_names))
    return saved


def read(root, model, where, by_name=False, skip_mismatch=False):
    """[(variable, array)] for the model's weights from Keras 2's layout under root, all
    checked; KerasFileError on any count or shape mismatch (skip_mismatch: a warning and
    the weight or layer skipped, as Keras does)."""
    saved = _saved_layers(root, where)
    layers = [layer for layer in keras_layers(model) if layer.weights]
    if by_name:
        by = {layer.name: layer for layer in layers}
        matches = [(entry, by[entry[0]]) for entry in saved if entry[0] in by]
    else:
        if len(saved) != len(layers):
            raise KerasFileError(
                f"{where}: the file holds weights for {len(saved)} layer(s) "
                f"({', '.join(s[0] for s in saved) or 'none'}), the model has {len(layers)} "
                f"layer(s) with weights ({', '.join(l.name for l in layers) or 'none'}); "
                "Keras 2 files are matched by position")
        matches = list(zip(saved, layers))
    pairs = []
    for (name, group, weight_names), layer in matches:
        expected = layer.trainable_weights + layer.non_trainable_weights
        if len(weight_names) != len(expected):
            message = (f"{where}: layer {layer.name!r} ({type(layer).__name__}) has "
                       f"{len(expected)} weight(s), the file's layer {name!r} has "
                       f"{len(weight_names)} ({', '.join(weight_names)})")
            if not (by_name and skip_mismatch):
                raise KerasFileError(message)
            warnings.warn(f"load_weights: skipping: {message}", stacklevel=3)
            continue
        for weight_name, v in zip(weight_names, expected):
            pair = _read_weight(group, weight_name, v, f"{where}: layer {name!r}, weight "
                                f"{weight_name!r} (model: {layer.name}/{v.name})",
                                skip_mismatch)
            if pair is not None:
                pairs.append(pair)
    return pairs


def _read_weight(group, weight_name, variable, where, skip_mismatch):
    dataset = child(group, weight_name, "dataset", where)
    if dataset is None:
        raise KerasFileError(f"{where}: listed in weight_names but not in the file")
    if skip_mismatch and tuple(dataset.shape or ()) != variable.shape:
        warnings.warn(f"load_weights: skipping {where}: shape {dataset.shape} in the file, "
                      f"{variable.shape} in the model", stacklevel=4)
        return None
    return variable, read_array(dataset, variable.shape, where)
