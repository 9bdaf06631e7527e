"""glassnet.keras: Keras programs on glassnet, with only the import lines changed.

    from glassnet.keras.models import Sequential
    from glassnet.keras.layers import Dense, Flatten, Dropout

A façade: it translates Keras's names, argument conventions and channels-last layout,
then calls glassnet's own layers, optimizers and training loop (`glassnet.nn`,
`glassnet.optim`, `glassnet.train`). There is no second implementation of the math here.
"""
from . import (activations, backend, callbacks, datasets, initializers, layers,  # noqa: F401,E402
               losses, metrics, models, optimizers, preprocessing, utils)
from .layers import Input  # noqa: F401,E402
from .models import Model, Sequential  # noqa: F401,E402

__version__ = "3.15.1"      # the Keras release whose API this façade follows
