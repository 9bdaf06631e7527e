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
