"""Sequential and functional models, and `load_model` for `.keras` files."""
from .functional import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file (Keras 3's zip of config.json and model.weights.h5),
    read without running any code from the file."""
    from ..saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)
