"""Keras 3's weights layout: `model.weights.h5` inside a .keras file, and any
`*.weights.h5` file (weights.py picks the layout by the file's name and content).

Keras 3 addresses weights by where the objects sit, not by their names:

    vars                          attrs name=<model name>, no datasets
    layers/<key>/vars/0, 1, ...   one dataset per weight, in the layer's creation order
                                  (trainable first): Dense kernel, bias; BatchNormalization
                                  gamma, beta, moving_mean, moving_variance
    layers/<key>/cell/vars/...    an RNN's kernel, recurrent_kernel, bias (its own vars
                                  group is empty)
    layers/<key>/forward_layer/cell/vars/..., .../backward_layer/cell/vars/...
                                  Bidirectional
    optimizer/vars/...            the optimizer's state (glassnet neither writes nor reads it)

<key> is the snake-case class name, numbered per class in the order of model.layers
(dense, dense_1, conv2d, ...; a functional model's InputLayers count, a Sequential's
input does not). Every `vars` group has an attribute `name`, the object's name.

Reading checks the whole file against the model (every weight present, of its shape, and
no layer's weights in the file that the model lacks) before assigning anything.
"""
import warnings

from .. import layers as L
from ..backend import snake_case
from .config import RNN_CLASSES
from .files import KerasFileError, child, read_array, require_h5py
from .graph import keras_layers

__all__ = ["write_keras3", "read_keras3", "weight_groups", "assign"]

CELL_NAMES = {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}


def _keras_order(variables):
    """Keras keeps a layer's trainable variables before its non-trainable ones."""
    return [v for v in variables if v._trainable] + [v for v in variables if not v._trainable]


def weight_groups(layer):
    """[(subpath, names, variables)]: where Keras 3 keeps a layer's weights, relative to the
    layer's group, and the names of the objects on the way (the Keras 2 layout and the
    groups' name attributes use them)."""
    if isinstance(layer, L.Bidirectional):
        out = [("", [], [])]
        for attr, sub in (("forward_layer", layer.forward_layer),
                          ("backward_layer", layer.backward_layer)):
            out += [("/".join(p for p in (attr, path) if p), [sub.name] + names, vs)
                    for path, names, vs in weight_groups(sub)]
        return out
    if isinstance(layer, RNN_CLASSES):
        return [("", [], []), ("cell", [CELL_NAMES[type(layer).__name__]],
                                _keras_order(layer._vars))]
    return [("", [], _keras_order(layer._vars))]


def layer_paths(model):
    """[(layer, "layers/<key>")] in Keras's order, keys numbered per class."""
    seen, out = {}, []
    for layer in keras_layers(model):
        key = snake_case(type(layer).__name__)
        n = seen[key] = seen.get(key, -1) + 1
        out.append((layer, f"layers/{key}" if n == 0 else f"layers/{key}_{n}"))
    return out


def write_keras3(f, model):
    """Write the model's weights into the open h5py.File f in Keras 3's layout."""
    f.create_group("vars").attrs["name"] = model.name
    for layer, path in layer_paths(model):
        for sub, names, variables in weight_groups(layer):
            group = f.create_group("/".join(p for p in (path, sub, "vars") if p))
            group.attrs["name"] = names[-1] if names else layer.name
            for i, v in enumerate(variables):
                group.create_dataset(str(i), data=v.numpy())


def read_keras3(f, model, where, skip_mismatch=False):
    """[(variable, array)] for every weight of the model from Keras 3's layout in f, all
    checked; KerasFileError (or, with skip_mismatch, a warning and the layer skipped)."""
    pairs, paths = [], set()
    for layer, path in layer_paths(model):
        paths.add(path)
        try:
            pairs += _read_layer(f, layer, path, where)
        except KerasFileError as e:
            if not skip_mismatch:
                raise
            warnings.warn(f"load_weights: skipping layer {layer.name!r}: {e}", stacklevel=3)
    layers_group = child(f, "layers", "group", where)
    for key in (layers_group.keys() if layers_group is not None else ()):
        if f"layers/{key}" not in paths and _holds_data(layers_group, key):
            message = (f"{where}: the file holds weights under layers/{key}, for a layer this "
                       f"model does not have (its layers: "
                       f"{', '.join(p for _, p in layer_paths(model))})")
            if not skip_mismatch:
                raise KerasFileError(message)
            warnings.warn(f"load_weights: {message}", stacklevel=3)
    return pairs


def _read_layer(f, layer, path, where):
    pairs = []
    for sub, names, variables in weight_groups(layer):
        vars_path = "/".join(p for p in (path, sub, "vars") if p)
        group = child(f, vars_path, "group", where)
        keys = set(group.keys()) if group is not None else set()
        if keys != {str(i) for i in range(len(variables))}:
            raise KerasFileError(f"{where}: layer {layer.name!r} ({type(layer).__name__}) has "
                                 f"{len(variables)} weight(s) in {vars_path}, the file "
                                 f"{len(keys)} ({', '.join(sorted(keys)) or 'none'})")
        for i, v in enumerate(variables):
            dataset = child(group, str(i), "dataset", f"{where}: {vars_path}")
            if dataset is None:         # listed among the keys, yet not there: damaged
                raise KerasFileError(f"{where}: {vars_path}/{i} cannot be read")
            pairs.append((v, read_array(dataset, v.shape, f"{where}: {vars_path}/{i} "
                                        f"(weight {layer.name}/{v.name})")))
    return pairs


def _holds_data(group, key, depth=0):
    """Whether group[key] is or holds a dataset (through hard links, a few levels deep)."""
    h5py = require_h5py("reading Keras weights")
    if depth > 8 or not isinstance(group.get(key, getlink=True), h5py.HardLink):
        return False
    node = group[key]
    return isinstance(node, h5py.Dataset) or (isinstance(node, h5py.Group) and any(
        _holds_data(node, k, depth + 1) for k in node.keys()))


def assign(pairs):
    """Set every checked weight (the file was read and checked in full first)."""
    for variable, array in pairs:
        variable.assign(array)
