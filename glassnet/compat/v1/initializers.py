"""TF1's initializers: callables `init(shape, dtype)` that return a tensor (a graph node
drawing the values when the variable's initializer runs)."""
import math

import numpy as np

from . import _ops, dtypes as _d


class Initializer:
    dtype = None

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError


class random_normal_initializer(Initializer):  # noqa: N801  (TensorFlow's names)
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_d.float32):
        self.mean, self.stddev, self.dtype = mean, stddev, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return _ops.random_normal(shape, self.mean, self.stddev, dtype or self.dtype)


class truncated_normal_initializer(Initializer):  # noqa: N801
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_d.float32):
        self.mean, self.stddev, self.dtype = mean, stddev, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return _ops.truncated_normal(shape, self.mean, self.stddev, dtype or self.dtype)


class random_uniform_initializer(Initializer):  # noqa: N801
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=_d.float32):
        self.minval, self.maxval, self.dtype = minval, maxval, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return _ops.random_uniform(shape, self.minval, self.maxval, dtype or self.dtype)


class constant_initializer(Initializer):  # noqa: N801
    def __init__(self, value=0, dtype=_d.float32, verify_shape=False):
        self.value, self.dtype = value, dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtype or self.dtype
        if np.ndim(self.value) == 0:
            return _ops._filled(shape, self.value, dtype, None, "Const")
        return _ops.constant(np.reshape(self.value, tuple(shape)), dtype=dtype)


class zeros_initializer(constant_initializer):  # noqa: N801
    def __init__(self, dtype=_d.float32):
        super().__init__(0, dtype)


class ones_initializer(constant_initializer):  # noqa: N801
    def __init__(self, dtype=_d.float32):
        super().__init__(1, dtype)


class glorot_uniform_initializer(Initializer):  # noqa: N801
    """Uniform in +-sqrt(6 / (fan_in + fan_out)), fans as TensorFlow counts them
    (the receptive field times the last two dims)."""

    def __init__(self, seed=None, dtype=_d.float32):
        self.dtype = dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = tuple(int(d) for d in shape)
        if len(shape) < 1:
            fan_in = fan_out = 1
        elif len(shape) == 1:
            fan_in = fan_out = shape[0]
        else:
            field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[-2] * field, shape[-1] * field
        limit = math.sqrt(6.0 / max(1.0, (fan_in + fan_out)))
        return _ops.random_uniform(shape, -limit, limit, dtype or self.dtype)


def _as_initializer(init, dtype):
    if init is None:
        return glorot_uniform_initializer()        # TF1's default for get_variable
    if isinstance(init, Initializer) or callable(init):
        return init
    return constant_initializer(init, dtype)
