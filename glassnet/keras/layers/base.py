"""Layer, its weights (Variable), and the symbolic tensors of the functional API.

A Keras layer here is a thin object: it checks Keras's arguments, creates its weights when it
first learns its input shape (`build`), and runs glassnet ops in `forward`. Its weights are
glassnet Parameters in glassnet's own layout (a Dense kernel as (out, in), a Conv2D kernel
as (out, in, kh, kw)), held in a plain `nn.Module` so that optimizers, `state_dict` and
train/eval reach them; a `Variable` shows each one in Keras's layout ((in, out),
(kh, kw, in, out)) for `get_weights`, `set_weights` and saving.
"""
import math

import numpy as np

from ...nn.module import Module
from ...nn.parameter import Parameter
from ...tensor import Tensor
from .. import initializers
from ..backend import as_tensor, in_layout, snake_case, unique_name


class Variable:
    """One Keras weight, seen through its Keras layout. `to_keras`/`from_keras` map the
    glassnet array to Keras's and back (identity when the layouts agree)."""

    def __init__(self, layer, name, tensor, trainable, to_keras=None, from_keras=None):
        self._layer, self.name, self._tensor = layer, name, tensor
        self._trainable = trainable
        self._to = to_keras or (lambda a: a)
        self._from = from_keras or (lambda a: a)

    @property
    def path(self):
        return f"{self._layer.name}/{self.name}"

    @property
    def trainable(self):
        return self._trainable and self._layer.trainable

    @property
    def shape(self):
        return tuple(self.numpy().shape)

    @property
    def dtype(self):
        return str(self._tensor.dtype)

    def numpy(self):
        return np.array(self._to(self._tensor._array))

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.numpy().astype(dtype)

    def assign(self, value):
        value = np.asarray(value)
        if tuple(value.shape) != self.shape:
            raise ValueError(f"{self.path}: cannot assign a value of shape {value.shape} to a "
                             f"weight of shape {self.shape}")
        self._tensor._array[...] = self._from(value.astype(self._tensor.dtype, copy=False))

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class KerasTensor:
    """A symbolic tensor of the functional API: a Keras shape (None for the batch) and the
    layer call that produces it."""

    def __init__(self, shape, dtype="float32", layer=None, parents=(), name=None):
        self.shape, self.dtype = tuple(shape), dtype
        self._layer, self._parents, self._packed = layer, tuple(parents), False
        self.name = name or (layer.name if layer is not None else "keras_tensor")

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def _is_symbolic(x):
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(isinstance(i, KerasTensor) for i in x)
    return isinstance(x, KerasTensor)


def _shape_text(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class Layer:
    """The base of every Keras layer. Subclasses set `channels_first` (True: they want
    (N, C, ...), False: (N, ..., C), None: either) and define `build`,
    `compute_output_shape` and `forward(x, training)` on glassnet tensors."""
    channels_first = None
    min_ndim, max_ndim = None, None      # the Keras input rank (with the batch) it accepts

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, batch_size=None, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(unknown))}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable, self.built = bool(trainable), False
        self.dtype = dtype or "float32"
        self._vars, self._params = [], Module()
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self._input_shape, self._output_shape = None, None

    # ------------------------------------------------------------------ weights
    def add_weight(self, name, shape, initializer="zeros", trainable=True, to_keras=None,
                   from_keras=None, internal_shape=None):
        """A weight of Keras shape `shape`, initialised by a Keras initialiser, stored in
        glassnet's layout (`from_keras` maps a Keras array to it); returns its Variable,
        whose `_tensor` the layer's forward uses."""
        value = np.asarray(initializers.get(initializer)(tuple(shape)), np.float32)
        array = np.ascontiguousarray(from_keras(value) if from_keras else value)
        if trainable:
            tensor = Parameter(Tensor(array))
            tensor.requires_grad = self._trainable
            self._params.register_parameter(name, tensor)
        else:
            tensor = Tensor(array)
            self._params.register_buffer(name, tensor)
        variable = Variable(self, name, tensor, trainable, to_keras, from_keras)
        self._vars.append(variable)
        return variable

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for v in self._vars:
            if v._trainable:
                v._tensor.requires_grad = self._trainable

    @property
    def weights(self):
        return list(self._vars)

    @property
    def trainable_weights(self):
        return [v for v in self._vars if v.trainable]

    @property
    def non_trainable_weights(self):
        return [v for v in self._vars if not v.trainable]

    def get_weights(self):
        return [v.numpy() for v in self._vars]

    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self._vars):
            raise ValueError(f"{self.name}: set_weights expected {len(self._vars)} arrays "
                             f"({', '.join(v.name for v in self._vars) or 'none'}), got "
                             f"{len(weights)}")
        for v, w in zip(self._vars, weights):
            v.assign(w)

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}: the layer is not built yet, so it has no weights "
                             "to count (call it on an input or give input_shape)")
        return sum(math.prod(v.shape) for v in self._vars)

    # ------------------------------------------------------------------- shapes
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _check_rank(self, input_shape):
        n = len(input_shape)
        if (self.min_ndim and n < self.min_ndim) or (self.max_ndim and n > self.max_ndim):
            want = self.min_ndim if self.min_ndim == self.max_ndim else \
                f"{self.min_ndim} to {self.max_ndim or 'any'}"
            raise ValueError(f"Input 0 of layer \"{self.name}\" ({type(self).__name__}) is "
                             f"incompatible: expected ndim={want} (batch included), got "
                             f"ndim={n}, full shape {_shape_text(input_shape)}")

    def _ensure_built(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = [tuple(s) for s in input_shape]
        else:
            input_shape = tuple(input_shape)
            self._check_rank(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
        self._input_shape = input_shape
        self._output_shape = tuple(self.compute_output_shape(input_shape))
        return self._output_shape

    @property
    def input_shape(self):
        return self._input_shape if self._input_shape is not None else self._batch_input_shape

    @property
    def output_shape(self):
        if self._output_shape is None:
            raise AttributeError(f"{self.name}: the layer has never been called, so it has no "
                                 "output shape yet")
        return self._output_shape

    # ------------------------------------------------------------------ calling
    def forward(self, x, training):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def _run(self, value, training):
        """(tensor, channels_first) in, (tensor, channels_first) out: the layout asked for
        is made here, once, and the output says which layout it is in."""
        x = in_layout(value, self.channels_first)
        cf = value[1] if self.channels_first is None else self.channels_first
        return self.forward(x, training), cf and x.ndim > 2

    def __call__(self, inputs, training=None, **kwargs):
        if kwargs:
            raise TypeError(f"{self.name}: unexpected call argument(s) {', '.join(kwargs)}")
        if _is_symbolic(inputs):
            shapes = [t.shape for t in inputs] if isinstance(inputs, (list, tuple)) \
                else inputs.shape
            out_shape = self._ensure_built(shapes)
            packed = isinstance(inputs, (list, tuple))
            out = KerasTensor(out_shape, self.dtype, self, inputs if packed else (inputs,))
            out._packed = packed        # the layer takes a list (Add, Concatenate)
            return out
        if isinstance(inputs, (list, tuple)):
            values = [(as_tensor(x), False) for x in inputs]
            self._ensure_built([tuple(v[0].shape) for v in values])
        else:
            values = (as_tensor(inputs), False)
            self._ensure_built(tuple(values[0].shape))
        return in_layout(self._run(values, bool(training)), False)

    def call(self, inputs, training=None):
        return self(inputs, training=training)

    # ------------------------------------------------------------------- config
    def get_config(self):
        # Keras 3 keeps the input shape in an InputLayer, not in the first layer's config
        # (its layers refuse batch_input_shape), so neither is it here
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class InputLayer(Layer):
    """The start of a functional model: holds the input's shape and passes it on."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,
                 input_shape=None, batch_input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if batch_shape is None:
            batch_shape = batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input: give shape= (the shape of one sample, without the "
                                 "batch), e.g. Input(shape=(28, 28))")
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name, dtype=dtype, batch_input_shape=batch_shape, **kwargs)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        self._input_shape = self._output_shape = self.batch_shape
        self.output = KerasTensor(self.batch_shape, self.dtype, self)

    def forward(self, x, training):
        return x

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype,
                "sparse": False, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
    """A symbolic input: `x = Input(shape=(32, 32, 3))`, then `y = Dense(10)(x)`."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape, **kwargs).output
