"""One seeded source for every random draw in glassnet (init, dropout, shuffling, augmentation)."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Make every following random draw in glassnet reproducible."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator():
    return _generator


def get_rng_state():
    """The generator's full state, as plain data (a dict that a checkpoint can hold)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Continue every random draw from a state returned by `get_rng_state`."""
    global _generator
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    _generator = np.random.Generator(bit_generator)
