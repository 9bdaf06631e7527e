"""Sequential and functional models, and `load_model` for `.keras` files."""
from .functional import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file (Keras 3's zip of config.json and model.weights.h5),
    read without running any code from the file (glassnet.keras.saving says how).

    compile=True compiles the model when the file holds a compile_config whose optimizer,
    loss and metrics glassnet knows; otherwise the model comes back uncompiled (with a
    warning when the file had settings glassnet does not understand). custom_objects
    cannot be given (no code is taken from a file); safe_mode is always on."""
    from ..saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)
