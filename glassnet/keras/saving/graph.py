"""Whole models to and from Keras 3's config: Sequential (a list of layers) and functional
models (layers with the calls that connect them, "inbound_nodes").

A functional model's layers are listed, and its weights addressed, in the order Keras
gives `model.layers`: by depth (the longest path to an output) from the inputs down, ties
broken by the order a depth-first walk back from the outputs first meets them
(`keras_layers`). Keras rebuilds the list that way from any file, so glassnet writes and
reads in that order too; the weights of both formats depend on it.

A call ("node") refers to its inputs as [layer name, node index, tensor index]: the
node index counts the calls of that layer within the model, in the order they were made.
"""
from ..layers.base import InputLayer
from ..models.functional import Model
from ..models.sequential import Sequential
from .config import BUILD_ERRORS, _short, check_entry, deserialize_layer, serialize_layer
from .files import KerasFileError

__all__ = ["keras_layers", "serialize_model", "deserialize_model"]


def keras_layers(model):
    """model.layers in Keras's order (Sequential: its stack, without the input)."""
    if isinstance(model, Sequential):
        return list(model._stack)
    g = model._graph
    if g is None:
        return []
    first_seen, walked = {}, []            # layer -> DFS index; tensors inputs -> outputs
    done = set()

    def visit(t):
        if id(t) in done:
            return
        first_seen.setdefault(t._layer, len(first_seen))
        for p in t._parents:
            visit(p)
        done.add(id(t))
        walked.append(t)

    for t in g["outputs"]:
        visit(t)
    depth_of_tensor, depth_of_layer = {}, {}
    for t in reversed(walked):
        depth = max(depth_of_tensor.setdefault(id(t), 0), depth_of_layer.get(t._layer, 0))
        depth_of_layer[t._layer] = depth_of_tensor[id(t)] = depth
        for p in t._parents:
            depth_of_tensor[id(p)] = max(depth + 1, depth_of_tensor.get(id(p), 0))
    for t in g["inputs"]:                   # inputs no output depends on
        if t._layer not in depth_of_layer:
            depth_of_layer[t._layer], first_seen[t._layer] = 0, -1
    return sorted(depth_of_layer, key=lambda l: (-depth_of_layer[l], first_seen[l]))


def _calls(model):
    """{id(tensor): node index} and {layer: [tensors it made]} for the model's calls."""
    g = model._graph
    by_layer, index = {}, {}
    for t in list(g["inputs"]) + list(g["order"]):
        made = by_layer.setdefault(t._layer, [])
        index[id(t)] = len(made)
        made.append(t)
    return index, by_layer


# --------------------------------------------------------------------------- writing
def serialize_model(model, where):
    """The model as the top-level entry of a .keras file's config.json."""
    if type(model) is Sequential:
        return _serialize_sequential(model, where)
    if type(model) is not Model:
        raise KerasFileError(f"{where}: {type(model).__name__} is a subclassed model; only "
                             "Sequential and functional models can be written to a file")
    g = model._require_graph("saving")
    index, by_layer = _calls(model)

    def history(t):
        return [t._layer.name, index[id(t)], 0]

    def ref(t):
        return {"class_name": "__keras_tensor__", "config": {
            "shape": list(t.shape), "dtype": t.dtype, "keras_history": history(t)}}

    def ends(tensors, several):
        return [history(t) for t in tensors] if several else history(tensors[0])

    entries = []
    for layer in keras_layers(model):
        nodes = [{"args": [[ref(p) for p in t._parents] if t._packed else ref(t._parents[0])],
                  "kwargs": {}} for t in by_layer[layer] if t._parents]
        entries.append({**serialize_layer(layer, where), "name": layer.name,
                        "inbound_nodes": nodes})
    config = {"name": model.name, "trainable": model.trainable, "layers": entries,
              "input_layers": ends(g["inputs"], g["multi_input"]),
              "output_layers": ends(g["outputs"], g["multi_output"])}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional",
            "build_config": {"input_shape": None}}


def _serialize_sequential(model, where):
    layers = [serialize_layer(layer, where) for layer in model._stack]
    config = {"name": model.name, "trainable": model.trainable, "layers": layers}
    entry = {"module": "keras", "class_name": "Sequential", "config": config,
             "registered_name": None}
    if model.built:
        shape = list(model._input_layer.batch_shape)
        config["layers"] = [serialize_layer(model._input_layer, where)] + layers
        config["build_input_shape"] = shape
        entry["build_config"] = {"input_shape": shape}
    return entry


# --------------------------------------------------------------------------- reading
def deserialize_model(entry, where):
    """A new glassnet model from the top-level entry of config.json."""
    cls_name, config = check_entry(entry, where, "model")
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise KerasFileError(f"{where}: the {cls_name} config has no list of layers")
    if cls_name == "Sequential":
        model = _sequential(config, layers, where)
    elif cls_name in ("Functional", "Model") and "input_layers" in config:
        model = _functional(config, layers, where)
    else:
        raise KerasFileError(f"{where}: the model is a {cls_name!r}; glassnet reads "
                             "Sequential and functional models (a subclassed model's "
                             "structure is code, not data)")
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _name(config, where):
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise KerasFileError(f"{where}: the model's name is not a string")
    return name


def _sequential(config, entries, where):
    layers = [deserialize_layer(e, where) for e in entries]
    model = Sequential(name=_name(config, where))
    try:
        for layer in layers:
            model.add(layer)
        shape = config.get("build_input_shape")
        if not model.built and isinstance(shape, list) and shape:
            model.build(tuple(shape))
    except BUILD_ERRORS as e:
        raise KerasFileError(f"{where}: the Sequential model cannot be rebuilt: {e}") from e
    return model


def _functional(config, entries, where):
    created, pending, made = {}, {}, {}
    for entry in entries:
        layer = deserialize_layer(entry, where)
        name = entry.get("name", layer.name) if isinstance(entry, dict) else layer.name
        if name != layer.name or name in created:
            raise KerasFileError(f"{where}: layer {_short(name)} is listed twice or under "
                                 "two names")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list) or (nodes and isinstance(layer, InputLayer)):
            raise KerasFileError(f"{where}: layer {_short(name)}: inbound_nodes must be a "
                                 "list, and empty for an InputLayer")
        created[name], pending[name] = layer, list(nodes)
        made[name] = [layer.output] if isinstance(layer, InputLayer) else []
    _connect(created, pending, made, where)

    def tensor(ref, what):
        name, node, index = _history(ref, f"{where}: {what}", created)
        if node >= len(made[name]) or index != 0:
            raise KerasFileError(f"{where}: {what} refers to call {node}, output {index} of "
                                 f"layer {name!r}, which does not exist")
        return made[name][node]

    def tensors(spec, what):
        if isinstance(spec, list) and spec and all(isinstance(s, list) for s in spec):
            out = [tensor(s, what) for s in spec]
            return out[0] if len(out) == 1 else out
        return tensor(spec, what)

    try:
        return Model(tensors(config["input_layers"], "input_layers"),
                     tensors(config.get("output_layers"), "output_layers"),
                     name=_name(config, where))
    except BUILD_ERRORS as e:
        raise KerasFileError(f"{where}: the functional model cannot be rebuilt: {e}") from e


def _connect(created, pending, made, where):
    """Make every layer call of the config, each once its inputs exist. A call waits for
    the one call it misses and is retried when that one is made (a shared layer may be
    called at several depths), so each is attempted a bounded number of times whatever
    the order of the list."""
    waiting, ready = {}, list(created)     # (layer, call index) -> layers waiting for it
    while ready:
        name = ready.pop()
        layer = created[name]
        while pending[name]:
            args, missing = _node_inputs(pending[name][0], f"layer {_short(name)}", created,
                                         made, where)
            if missing is not None:
                waiting.setdefault(missing, []).append(name)
                break
            try:
                made[name].append(layer(args))
            except BUILD_ERRORS as e:
                raise KerasFileError(f"{where}: layer {_short(name)} "
                                     f"({type(layer).__name__}): {e}") from e
            pending[name].pop(0)
            ready.extend(waiting.pop((name, len(made[name]) - 1), ()))
    stuck = sorted(n for n, nodes in pending.items() if nodes)
    if stuck:
        raise KerasFileError(f"{where}: the calls of layer(s) {', '.join(stuck[:10])} refer "
                             "to calls that never happen (a loop or a missing layer)")


def _node_inputs(node, what, created, made, where):
    """(input, None) of one call, the input a tensor or a list of them, or (None, (layer,
    call index)) of a call it needs that is not made yet. Keras 3 writes {"args": [x],
    "kwargs": {...}}; Keras 2 a list of [name, node, tensor, kwargs]."""
    what = f"{where}: {what}"
    if isinstance(node, dict):
        args, kwargs = node.get("args"), node.get("kwargs") or {}
        if not isinstance(args, list) or len(args) != 1 or not isinstance(kwargs, dict):
            raise KerasFileError(f"{what}: a call must have one input argument (a tensor or "
                                 "a list of tensors)")
        packed = isinstance(args[0], list)
        refs = args[0] if packed else [args[0]]
    elif isinstance(node, list):
        refs, packed, kwargs = node, len(node) > 1, {}
        for r in refs:
            if isinstance(r, list) and len(r) == 4 and isinstance(r[3], dict):
                kwargs.update(r[3])
    else:
        raise KerasFileError(f"{what}: a call is neither a dict nor a list")
    for key, value in kwargs.items():
        # Keras records training=False on calls made while it built the graph; running
        # the model overrides it with the model's own mode (fit: True), and so does glassnet
        if not ((key == "mask" and value is None) or
                (key == "training" and value in (None, True, False))):
            raise KerasFileError(f"{what}: the call argument {key}={_short(value)} is not "
                                 "supported")
    if not refs:
        raise KerasFileError(f"{what}: a call without input tensors")
    inputs = []
    for ref in refs:
        name, index, output = _history(ref, what, created)
        if output != 0:
            raise KerasFileError(f"{what}: refers to output {output} of layer {name!r}, "
                                 "which has one output")
        if index >= len(made[name]):
            return None, (name, index)
        inputs.append(made[name][index])
    return (inputs if packed else inputs[0]), None


def _history(ref, what, created):
    """(layer name, node index, tensor index) of a tensor reference."""
    if isinstance(ref, dict):
        if ref.get("class_name") != "__keras_tensor__":
            raise KerasFileError(f"{what}: an input is a {_short(ref.get('class_name'))}, "
                                 "not a tensor of the model")
        config = ref.get("config")
        ref = config.get("keras_history") if isinstance(config, dict) else None
    if not (isinstance(ref, list) and len(ref) in (3, 4) and isinstance(ref[0], str)
            and all(type(i) is int and i >= 0 for i in ref[1:3])):
        raise KerasFileError(f"{what}: an input reference {str(ref)[:80]} is not "
                             "[layer name, node index, tensor index]")
    if ref[0] not in created:
        raise KerasFileError(f"{what}: refers to a layer {ref[0]!r} the model does not have")
    return ref[0], ref[1], ref[2]
