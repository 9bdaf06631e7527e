"""A model's compile() settings to and from Keras 3's `compile_config`.

Written only when every part is one Keras knows by name or class (an optimizer of
glassnet.keras.optimizers without Keras 2's `decay`, a built-in loss, metrics given by
name); a user's loss or metric function is code, so then nothing is written and Keras
loads the model uncompiled. Read back only when every part is one glassnet knows;
otherwise the model is left uncompiled, with a warning saying what was not understood.
"""
import warnings

from .. import losses as L
from .. import metrics as M
from .. import optimizers as O
from ..backend import snake_case
from .config import accepted_keys, check_entry
from .files import KerasFileError

__all__ = ["serialize_compile", "compile_from_config"]

# optimizer keys Keras 3 writes that glassnet's optimizers do not take, at their defaults
_OPTIMIZER_DEFAULTS = {"weight_decay": None, "use_ema": False, "ema_overwrite_frequency": None,
                       "loss_scale_factor": None, "gradient_accumulation_steps": None}
_OPTIMIZER_IGNORED = {"ema_momentum"}          # used only with use_ema=True
_LOSS_DEFAULTS = {"axis": -1, "ignore_class": None, "dtype": None}
_LOSS_CLASSES = {cls.__name__: cls for cls in set(L._BY_NAME.values())}
_OPTIMIZER_CLASSES = {cls.__name__: cls for cls in set(O._BY_NAME.values())}


class _NotExpressible(Exception):
    """A compile setting that has no faithful form in a file (or in glassnet)."""


# --------------------------------------------------------------------------- writing
def serialize_compile(model):
    """The compile_config of a compiled model, or None (not compiled, or not
    expressible; the second with a warning)."""
    if model.optimizer is None or model.loss is None:
        return None
    try:
        optimizer = _serialize_optimizer(model.optimizer)
        loss = _serialize_loss(model.loss)
        metrics = [m if isinstance(m, str) else _not(f"metric {m!r} is a function")
                   for m in model._compiled_metrics]
    except _NotExpressible as e:
        warnings.warn(f"save: the model's compile settings are not written ({e}); the file "
                      "loads uncompiled", stacklevel=4)
        return None
    return {"optimizer": optimizer, "loss": loss, "loss_weights": None,
            "metrics": metrics or None, "weighted_metrics": None, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def _not(why):
    raise _NotExpressible(why)


def _serialize_optimizer(optimizer):
    cls = type(optimizer).__name__
    if _OPTIMIZER_CLASSES.get(cls) is not type(optimizer):
        _not(f"the optimizer is a {cls}")
    if optimizer.decay:
        _not("Keras 3 has no `decay` argument")
    return {"module": "keras.optimizers", "class_name": cls, "config": optimizer.get_config(),
            "registered_name": None}


def _serialize_loss(loss):
    cls = type(loss).__name__
    if _LOSS_CLASSES.get(cls) is not type(loss):
        _not(f"the loss {getattr(loss, 'name', cls)!r} is a function")
    fn_name = type(loss).fn.__name__
    default = type(loss)()
    if loss.options == default.options and loss.reduction == default.reduction and \
            loss.name == fn_name:
        return fn_name
    return {"module": "keras.losses", "class_name": cls, "config": loss.get_config(),
            "registered_name": None}


# --------------------------------------------------------------------------- reading
def compile_from_config(model, config, where):
    """Compile the model from a file's compile_config; True if it was compiled."""
    if not config:
        return False
    try:
        if not isinstance(config, dict):
            _not("compile_config is not a dict")
        if config.get("loss_weights") is not None:
            _not("loss_weights are not supported")
        optimizer = _optimizer(config.get("optimizer", "rmsprop"), where)
        loss = _loss(config.get("loss"), where)
        metrics = [_metric(m) for m in (config.get("metrics") or [])]
        weighted = [_metric(m) for m in (config.get("weighted_metrics") or [])]
    except (_NotExpressible, KerasFileError) as e:
        warnings.warn(f"load_model: {where}: the model is left uncompiled: its "
                      f"compile_config is not understood ({e})", stacklevel=3)
        return False
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                  weighted_metrics=weighted or None)
    return True


def _optimizer(entry, where):
    if isinstance(entry, str):
        if entry.lower() not in O._BY_NAME:
            _not(f"unknown optimizer {entry!r}")
        return O.get(entry)
    cls_name, config = check_entry(entry, f"{where}: optimizer", "optimizer")
    cls = _OPTIMIZER_CLASSES.get(cls_name)
    if cls is None:
        _not(f"unknown optimizer {cls_name!r}")
    kwargs = _known(cls, config, _OPTIMIZER_DEFAULTS, _OPTIMIZER_IGNORED, cls_name)
    if not isinstance(kwargs.get("learning_rate", 0.0), (int, float)):
        _not(f"{cls_name}: a learning-rate schedule is not supported")
    return _build(cls, kwargs)


def _loss(entry, where):
    if entry is None:
        _not("no loss")
    if isinstance(entry, str):
        if entry not in L._BY_NAME:
            _not(f"unknown loss {entry!r}")
        return entry
    cls_name, config = check_entry(entry, f"{where}: loss", "loss")
    cls = _LOSS_CLASSES.get(cls_name)
    if cls is None:
        _not(f"unknown loss {cls_name!r}")
    options = {k for k, v in cls().options.items()} | {"name", "reduction"}
    kwargs = {k: v for k, v in config.items() if k in options}
    for key, value in config.items():
        if key not in options and (key not in _LOSS_DEFAULTS or value != _LOSS_DEFAULTS[key]):
            _not(f"{cls_name}: {key}={value!r} is not supported")
    return _build(cls, kwargs)


def _metric(entry):
    if isinstance(entry, str):
        if entry not in ("accuracy", "acc") and entry not in M._BY_NAME:
            _not(f"unknown metric {entry!r}")
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("class_name"), str):
        name = snake_case(entry["class_name"])
        config = entry.get("config") or {}
        if entry.get("registered_name") in (None, entry["class_name"]) and \
                name in M._BY_NAME and set(config) <= {"name", "dtype"}:
            return name
    _not(f"metric {str(entry)[:60]} is not one glassnet knows")


def _build(cls, kwargs):
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, NotImplementedError) as e:
        _not(f"{cls.__name__}: {e}")


def _known(cls, config, defaults, ignored, what):
    """The keyword arguments of cls from a config: known keys, Keras-only ones at their
    defaults dropped, anything else not expressible."""
    accepted, kwargs = accepted_keys(cls), {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif key not in ignored and (key not in defaults or value != defaults[key]):
            _not(f"{what}: {key}={value!r} is not supported")
    return kwargs
