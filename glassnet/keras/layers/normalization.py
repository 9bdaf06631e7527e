"""BatchNormalization with Keras's conventions over glassnet's batch_norm.

Keras's `momentum` is the weight of the old moving statistics (0.99): glassnet's (PyTorch's)
momentum is the weight of the new batch, 1 - 0.99. Keras keeps the batch's own (biased)
variance in its moving variance, and a frozen layer (trainable=False) normalises with the
moving statistics even while the model trains (what transfer learning wants).
"""
import numpy as np

from ...ops.normalization import batch_norm
from ...tensor import Tensor
from .. import initializers
from .base import Layer, _shape_text


class BatchNormalization(Layer):
    channels_first = True      # glassnet normalises dim 1: the channels when held first

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("beta_regularizer", beta_regularizer),
                            ("gamma_regularizer", gamma_regularizer),
                            ("beta_constraint", beta_constraint),
                            ("gamma_constraint", gamma_constraint)):
            if value is not None:
                raise NotImplementedError(f"BatchNormalization: {what} is not supported yet")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = {name: initializers.get(init) for name, init in (
            ("gamma", gamma_initializer), ("beta", beta_initializer),
            ("moving_mean", moving_mean_initializer),
            ("moving_variance", moving_variance_initializer))}
        self.min_ndim = 2

    def build(self, input_shape):
        if isinstance(self.axis, (list, tuple)) or self.axis not in (-1, len(input_shape) - 1):
            raise NotImplementedError(f"{self.name}: only the last axis (the channels) can be "
                                      f"normalised, got axis={self.axis}")
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"{self.name}: the channel count must be known, got input shape "
                             f"{_shape_text(input_shape)}")
        self.gamma = self.add_weight("gamma", (c,), self.initializers["gamma"]) \
            if self.scale else None
        self.beta = self.add_weight("beta", (c,), self.initializers["beta"]) \
            if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (c,), self.initializers["moving_mean"],
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,),
                                               self.initializers["moving_variance"],
                                               trainable=False)
        self._ones = Tensor(np.ones(c, np.float32))     # the fixed scale when scale=False

    def forward(self, x, training):
        weight = self._ones if self.gamma is None else self.gamma._tensor
        bias = None if self.beta is None else self.beta._tensor
        return batch_norm(x, self.moving_mean._tensor, self.moving_variance._tensor, weight,
                          bias, training and self.trainable, 1.0 - self.momentum, self.epsilon,
                          unbiased_running_var=False)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{f"{name}_initializer": initializers.serialize(init)
                   for name, init in self.initializers.items()},
                "beta_regularizer": None, "gamma_regularizer": None,
                "beta_constraint": None, "gamma_constraint": None, "synchronized": False}
