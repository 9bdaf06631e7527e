"""Dense, Activation, Dropout, Flatten, Reshape and the merging layers (Add, Concatenate...).

Dense keeps its kernel as glassnet's (out, in) and shows it as Keras's (in, out): one fused
`linear` node (x W^T + b) per call. A Dense or Activation with softmax or sigmoid also keeps
its input, the logits, beside its output: the cross-entropy losses then start from the
logits (stable, one node), as Keras does on TensorFlow.
"""
import math

from ...ops.dropout import dropout
from ...ops.linalg import linear
from ...ops.shape import cat
from .. import activations, initializers
from ..backend import in_layout
from .base import Layer, _shape_text


def _transpose(a):
    return a.T


class _Activates:
    """The `activation=` argument: applied after the layer's op, logits remembered."""

    def _set_activation(self, activation):
        self.activation = activations.get(activation)

    def _activate(self, x, channels_first=False):
        out = activations.apply(self.activation, x, channels_first)
        if self.activation in (activations.softmax, activations.sigmoid):
            self._last_logits = (out, x, self.activation)
        return out


class Dense(_Activates, Layer):
    """output = activation(input . kernel + bias), on the last axis."""
    channels_first, min_ndim = False, 2

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(units, int) and units > 0):
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        for what, value in (("kernel_regularizer", kernel_regularizer),
                            ("bias_regularizer", bias_regularizer),
                            ("activity_regularizer", activity_regularizer),
                            ("kernel_constraint", kernel_constraint),
                            ("bias_constraint", bias_constraint)):
            if value is not None:
                raise NotImplementedError(f"Dense: {what} is not supported yet")
        self.units, self.use_bias = units, bool(use_bias)
        self._set_activation(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"{self.name}: the last dimension of the input must be known, "
                             f"got shape {_shape_text(input_shape)}")
        self.kernel = self.add_weight("kernel", (n_in, self.units), self.kernel_initializer,
                                      to_keras=_transpose, from_keras=_transpose)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer) \
            if self.use_bias else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training):
        w = self.kernel._tensor
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"{self.name}: expected inputs with {w.shape[1]} features in the "
                             f"last axis, got shape {tuple(x.shape)}")
        return self._activate(linear(x, w, None if self.bias is None else self.bias._tensor))

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": None, "bias_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None}


class Activation(_Activates, Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._set_activation(activation)

    def _run(self, value, training):
        x, cf = value
        return self._activate(x, cf), cf

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}


class Dropout(Layer):
    """In training, zero each value with probability `rate` and scale the rest by
    1 / (1 - rate); at inference, nothing."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported yet")
        self.rate, self.seed = float(rate), seed

    def forward(self, x, training):
        return dropout(x, self.rate, training) if training and self.rate else x

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), in Keras's (channels-last) order."""
    channels_first = False

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Flatten: only data_format='channels_last' is supported")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else math.prod(rest)
        return (input_shape[0], size)

    def forward(self, x, training):
        return x.reshape(x.shape[0], -1)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Each sample to `target_shape` (one entry may be -1)."""
    channels_first = False

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {target_shape}")

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        known = math.prod(s for s in self.target_shape if s != -1)
        if size is not None:
            if -1 in self.target_shape:
                if known == 0 or size % known:
                    raise ValueError(f"{self.name}: cannot reshape {_shape_text(input_shape)} "
                                     f"to {self.target_shape}")
                return (input_shape[0],) + tuple(size // known if s == -1 else s
                                                 for s in self.target_shape)
            if known != size:
                raise ValueError(f"{self.name}: total size of the new shape {self.target_shape}"
                                 f" ({known}) must equal the input's {size} (input shape "
                                 f"{_shape_text(input_shape)})")
        return (input_shape[0],) + tuple(None if s == -1 else s for s in self.target_shape)

    def forward(self, x, training):
        return x.reshape(x.shape[0], *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


# ------------------------------------------------------------------------- merging
class _Merge(Layer):
    """Layers of several inputs of one shape, combined elementwise in the first one's
    layout."""

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        return tuple(input_shape[0])

    def _check_shapes(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise ValueError(f"{self.name} ({type(self).__name__}): expected a list of at least "
                             f"2 inputs, got {shapes}")
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first) or any(a is not None and b is not None and a != b
                                            for a, b in zip(first[1:], s[1:])):
                raise ValueError(f"{self.name} ({type(self).__name__}): inputs must have the "
                                 f"same shape, got {', '.join(map(_shape_text, shapes))}")

    def _run(self, values, training):
        cf = values[0][1]
        tensors = [in_layout(v, cf) for v in values]
        return self.combine(tensors), cf


class Add(_Merge):
    def combine(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    def combine(self, xs):
        if len(xs) != 2:
            raise ValueError(f"{self.name}: Subtract takes exactly 2 inputs, got {len(xs)}")
        return xs[0] - xs[1]


class Multiply(_Merge):
    def combine(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(Add):
    def combine(self, xs):
        return super().combine(xs) / len(xs)


class Concatenate(Layer):
    """Join inputs along `axis` (default the last: channels)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _axis(self, rank):
        a = self.axis % rank
        if a == 0:
            raise ValueError(f"{self.name}: cannot concatenate along the batch axis")
        return a

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"{self.name}: expected a list of at least 2 inputs")
        rank, a = len(input_shape[0]), self._axis(len(input_shape[0]))
        for s in input_shape:
            if len(s) != rank or any(x != y for i, (x, y) in enumerate(zip(s, input_shape[0]))
                                     if i not in (0, a)):
                raise ValueError(f"{self.name}: inputs must match except along axis "
                                 f"{self.axis}, got {', '.join(map(_shape_text, input_shape))}")
        sizes = [s[a] for s in input_shape]
        return tuple(input_shape[0][:a]) + (None if None in sizes else sum(sizes),) + \
            tuple(input_shape[0][a + 1:])

    def _run(self, values, training):
        rank = values[0][0].ndim
        a = self._axis(rank)
        cf = all(v[1] for v in values) and rank > 2
        if cf:    # the Keras axis as it sits in (N, C, ...)
            a = 1 if a == rank - 1 else a + 1
        return cat([in_layout(v, cf) for v in values], dim=a), cf

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
