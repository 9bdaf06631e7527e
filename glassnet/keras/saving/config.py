"""One layer to and from Keras 3's JSON: {"module", "class_name", "config",
"registered_name", "build_config"}.

Writing takes the layer's own get_config(). Reading builds only the classes of
LAYER_CLASSES, from configs that hold only what the class understands: its constructor's
arguments, plus a few keys Keras writes that change nothing here while they hold Keras's
default (KERAS_DEFAULTS, e.g. quantization_config=None). Initialisers are built by class
name from glassnet.keras.initializers, activations by name. Nothing in a file names code
that runs: a Lambda layer, a class outside the list, a registered_name or module pointing
to a user's package, an unknown key, all end in a KerasFileError naming the layer and the
class or key.
"""
import inspect

from .. import activations, initializers
from .. import layers as L
from .files import KerasFileError

LAYER_CLASSES = {cls.__name__: cls for cls in (
    L.InputLayer, L.Dense, L.Activation, L.Dropout, L.Flatten, L.Reshape, L.Add, L.Subtract,
    L.Multiply, L.Average, L.Concatenate, L.Conv1D, L.Conv2D, L.MaxPooling1D, L.MaxPooling2D,
    L.AveragePooling1D, L.AveragePooling2D, L.GlobalAveragePooling1D, L.GlobalAveragePooling2D,
    L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.BatchNormalization, L.Embedding, L.SimpleRNN,
    L.LSTM, L.GRU, L.Bidirectional)}
# Keras 2's spellings of the same classes
LAYER_CLASSES.update(MaxPool1D=L.MaxPooling1D, MaxPool2D=L.MaxPooling2D,
                     AvgPool1D=L.AveragePooling1D, AvgPool2D=L.AveragePooling2D,
                     GlobalAvgPool1D=L.GlobalAveragePooling1D,
                     GlobalAvgPool2D=L.GlobalAveragePooling2D,
                     GlobalMaxPool1D=L.GlobalMaxPooling1D, GlobalMaxPool2D=L.GlobalMaxPooling2D,
                     Convolution1D=L.Conv1D, Convolution2D=L.Conv2D)
RNN_CLASSES = (L.SimpleRNN, L.LSTM, L.GRU)

# Keys Keras writes that no glassnet layer takes: accepted while they hold Keras's default.
KERAS_DEFAULTS = {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                  "activity_regularizer": None, "renorm": False, "renorm_clipping": None,
                  "ragged": False, "optional": False, "sparse": False, "autocast": True,
                  "time_major": False, "input_tensor": None}
# ...and keys that change nothing here whatever they hold: masking (not supported, so
# never active), cuDNN and implementation choices, renorm's momentum (renorm is refused).
IGNORED_KEYS = {"zero_output_for_mask", "implementation", "use_cudnn", "renorm_momentum"}
# what a layer raises for arguments it cannot take (or a strides=0 it did not check)
BUILD_ERRORS = (TypeError, ValueError, NotImplementedError, ArithmeticError)
INPUT_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "uint16", "bool"}


def _is_keras_module(module):
    return module is None or module == "keras" or (isinstance(module, str)
                                                   and module.startswith("keras."))


def check_entry(entry, where, kinds):
    """(class_name, config) of a serialized object, once it is shown to name one of Keras's
    own classes (not a user's, through its module or registered_name)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise KerasFileError(f"{where}: expected a serialized {kinds} (a dict with "
                             f"'class_name' and 'config'), got {type(entry).__name__}")
    name, module = entry["class_name"], entry.get("module")
    registered = entry.get("registered_name")
    if not _is_keras_module(module) or registered not in (None, name):
        raise KerasFileError(f"{where}: class {_short(name)} comes from custom code (module "
                             f"{_short(module)}, registered_name {_short(registered)}); "
                             f"glassnet builds only Keras's own {kinds} classes and never runs "
                             "code from a file")
    config = entry.get("config", {})
    if not isinstance(config, dict):
        raise KerasFileError(f"{where}: the config of {_short(name)} is not a dict")
    return name, config


# --------------------------------------------------------------------------- writing
def serialize_layer(layer, where):
    """A built layer as Keras 3 writes it inside a model's config."""
    cls = type(layer).__name__
    if LAYER_CLASSES.get(cls) is not type(layer):
        raise KerasFileError(f"{where}: layer {layer.name!r} is a {cls}, not one of "
                             "glassnet.keras's own layer classes; its code cannot go in a "
                             "file")
    config = layer.get_config()
    for key, value in config.items():
        _check_saveable(layer, key, value, where)
    entry = {"module": "keras.layers", "class_name": cls, "config": config,
             "registered_name": None}
    if not isinstance(layer, L.InputLayer) and layer._input_shape is not None:
        shape = layer._input_shape
        entry["build_config"] = {"input_shape": [list(s) for s in shape]
                                 if isinstance(shape, list) else list(shape)}
    return entry


def _check_saveable(layer, key, value, where):
    """Only Keras's built-in activations and initialisers can be written (a function of
    the user's would make the file unreadable by Keras and by glassnet)."""
    what = f"{where}: layer {layer.name!r} ({type(layer).__name__})"
    if key == "layer" and isinstance(value, dict):           # Bidirectional's RNN
        for k, v in value.get("config", {}).items():
            _check_saveable(layer, k, v, where)
    if key.endswith("activation") and value not in activations._BY_NAME:
        raise KerasFileError(f"{what}: {key} {value!r} is not one of Keras's built-in "
                             "activations, so it cannot be written to a file")
    if key.endswith("_initializer") and value.get("class_name") not in initializers._CLASSES:
        raise KerasFileError(f"{what}: {key} is a {value.get('class_name')}, not one of "
                             "Keras's initializers, so it cannot be written to a file")


# --------------------------------------------------------------------------- reading
def deserialize_layer(entry, where):
    """A new (unbuilt) layer from its serialized entry, or KerasFileError."""
    cls_name, config = check_entry(entry, where, "layer")
    name = config.get("name", entry.get("name"))
    what = f"{where}: layer {_short(name)} ({cls_name[:80]})"
    if cls_name == "Lambda":
        raise KerasFileError(f"{what}: a Lambda layer holds Python code, which glassnet never "
                             "runs from a file")
    cls = LAYER_CLASSES.get(cls_name)
    if cls is None:
        known = ", ".join(sorted({c.__name__ for c in LAYER_CLASSES.values()}))
        raise KerasFileError(f"{what}: glassnet.keras has no layer class {_short(cls_name)} "
                             f"(it builds {known})")
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise KerasFileError(f"{what}: invalid layer name (a non-empty string without '/')")
    kwargs = _arguments(cls, dict(config), what)
    if cls is L.Bidirectional:
        kwargs = _bidirectional_arguments(kwargs, what)
    try:
        return cls(**kwargs)
    except BUILD_ERRORS as e:
        raise KerasFileError(f"{what}: {e}") from e


def accepted_keys(cls):
    """The keyword arguments cls's constructor understands, along its **kwargs chain."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                        p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names - {"self"}


def _arguments(cls, config, what):
    """The constructor's keyword arguments from a layer's config: every key understood
    (or a Keras-only key at its default), dtype and initialisers translated."""
    accepted = accepted_keys(cls)
    kwargs = {}
    for key, value in config.items():
        if key == "dtype":
            value = _dtype(value, cls is L.InputLayer, what)
        elif key.endswith("_initializer"):
            value = deserialize_initializer(value, f"{what}: {key}")
        elif key.endswith("activation") and not (isinstance(value, str)
                                                 and value in activations._BY_NAME):
            raise KerasFileError(f"{what}: {key} {_short(value)} is not one of the "
                                 "activations glassnet knows by name")
        if key in accepted:
            kwargs[key] = value
        elif key in IGNORED_KEYS or (key in KERAS_DEFAULTS and value == KERAS_DEFAULTS[key]):
            continue
        elif key in KERAS_DEFAULTS:
            raise KerasFileError(f"{what}: {key}={_short(value)} is not supported (glassnet "
                                 f"reads only {key}={KERAS_DEFAULTS[key]!r})")
        else:
            raise KerasFileError(f"{what}: config key {key!r} is not understood by "
                                 f"glassnet's {cls.__name__}")
    return kwargs


def _dtype(value, is_input, what):
    """Keras's dtype entry (a name or a DTypePolicy dict) as a name glassnet computes in."""
    if isinstance(value, dict):
        cls_name, config = check_entry(value, f"{what}: dtype", "dtype policy")
        if cls_name not in ("DTypePolicy", "FloatDTypePolicy"):
            raise KerasFileError(f"{what}: dtype policy {cls_name!r} is not supported")
        value = config.get("name")
    if value is None:
        return None
    if isinstance(value, str) and (value == "float32" or is_input and value in INPUT_DTYPES):
        return value
    raise KerasFileError(f"{what}: dtype {_short(value)} is not supported (glassnet "
                         "computes in float32)")


def deserialize_initializer(value, what):
    """An initialiser of glassnet.keras.initializers from Keras's entry (name or dict)."""
    if isinstance(value, str):
        try:
            return initializers.get(value)
        except ValueError as e:
            raise KerasFileError(f"{what}: {e}") from e
    cls_name, config = check_entry(value, what, "initializer")
    cls = initializers._CLASSES.get(cls_name)
    if cls is None:
        raise KerasFileError(f"{what}: unknown initializer class {cls_name!r}")
    accepted = accepted_keys(cls)
    kwargs = {}
    for key, v in config.items():
        if key in accepted:
            kwargs[key] = v
        elif key not in ("input_axes", "output_axes") or v is not None:
            raise KerasFileError(f"{what}: initializer {cls_name} has a config key {key!r} "
                                 "glassnet does not understand")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise KerasFileError(f"{what}: {e}") from e


def _bidirectional_arguments(kwargs, what):
    """Bidirectional's inner layer is itself a serialized layer (an RNN); Keras also
    writes the backward layer, which glassnet accepts when it is the forward one run
    backwards (what Bidirectional(layer) makes) and refuses otherwise."""
    if "layer" not in kwargs:
        raise KerasFileError(f"{what}: the config has no 'layer' (the wrapped RNN)")
    forward, backward = kwargs["layer"], kwargs.pop("backward_layer", None)
    if backward is not None and (_normalized(backward) != _normalized(forward) or
                                 _direction(backward) == _direction(forward)):
        raise KerasFileError(f"{what}: a backward_layer other than the forward layer run "
                             "backwards is not supported")
    inner = dict(forward) if isinstance(forward, dict) else forward
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        config = dict(inner["config"])
        name = config.get("name")
        if isinstance(name, str) and name.startswith("forward_"):
            config["name"] = name[len("forward_"):]      # Bidirectional adds it back
        inner["config"] = config
    layer = deserialize_layer(inner, f"{what}: layer")
    if not isinstance(layer, RNN_CLASSES):
        raise KerasFileError(f"{what}: wraps a {type(layer).__name__}; glassnet's "
                             "Bidirectional takes a SimpleRNN, LSTM or GRU")
    kwargs["layer"] = layer
    return kwargs


def _normalized(entry):
    """A wrapped RNN's entry without what differs between its forward and backward
    copies (name, direction) or does not matter (build_config, shared-object ids)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return entry
    config = {k: _strip_ids(v) for k, v in entry["config"].items()
              if k not in ("name", "go_backwards")}
    return {"class_name": entry.get("class_name"), "config": config}


def _direction(entry):
    config = entry.get("config") if isinstance(entry, dict) else None
    return bool(config.get("go_backwards")) if isinstance(config, dict) else None


def _strip_ids(value):
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "shared_object_id"}
    return value


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
