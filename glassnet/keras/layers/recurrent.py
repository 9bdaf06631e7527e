"""Embedding, SimpleRNN, LSTM, GRU and Bidirectional over glassnet's fused recurrent layers.

Each recurrent layer is one glassnet node for the whole sequence (forward loop and BPTT
inside, compiled where available). Keras's weights map onto it:
  kernel (in, G u) = W_ih^T, recurrent_kernel (u, G u) = W_hh^T, G gates side by side;
  LSTM's gates are i, f, c, o in both; GRU's are z, r, h in Keras and r, z, n in glassnet
  (reordered on the way in and out). Keras's LSTM and SimpleRNN have one bias (glassnet's
  b_hh stays zero); the GRU's (2, 3u) bias is its input and recurrent biases (reset_after).
"""
import numpy as np

from ...ops import recurrent as R
from ...ops.normalization import embedding
from ...ops.shape import cat
from ...tensor import Tensor
from .. import activations, initializers
from .base import Layer, _shape_text


def _gru_order(a, axis):
    """Swap the first two gate blocks along `axis` (z, r, h <-> r, z, n): its own inverse."""
    z, r, h = np.split(a, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


class Embedding(Layer):
    """Integer ids (N, T) -> rows of the embeddings matrix (N, T, output_dim)."""
    channels_first = False

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 input_length=None, **kwargs):
        super().__init__(**kwargs)
        if mask_zero:
            raise NotImplementedError("Embedding: mask_zero is not supported yet")
        if embeddings_regularizer is not None or embeddings_constraint is not None:
            raise NotImplementedError("Embedding: regularizers and constraints are not "
                                      "supported yet")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.RandomUniform() \
            if embeddings_initializer == "uniform" else initializers.get(embeddings_initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def forward(self, x, training):
        if x.dtype.kind == "f":
            x = Tensor(x._array.astype(np.int64))
        return embedding(x, self.embeddings._tensor)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": None, "embeddings_constraint": None,
                "mask_zero": False}


class _RNN(Layer):
    channels_first, min_ndim, max_ndim = False, 3, 3
    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        unsupported = {"dropout": dropout, "recurrent_dropout": recurrent_dropout,
                       "return_state": return_state, "stateful": stateful,
                       "kernel_regularizer": kernel_regularizer,
                       "recurrent_regularizer": recurrent_regularizer,
                       "bias_regularizer": bias_regularizer,
                       "activity_regularizer": activity_regularizer,
                       "kernel_constraint": kernel_constraint,
                       "recurrent_constraint": recurrent_constraint,
                       "bias_constraint": bias_constraint}
        for what, value in unsupported.items():
            if value:
                raise NotImplementedError(f"{cls}: {what} is not supported yet")
        if not (isinstance(units, int) and units > 0):
            raise ValueError(f"{cls}: units must be a positive int, got {units!r}")
        self.units, self.use_bias = units, bool(use_bias)
        self.activation = activations.get(activation)
        allowed = (activations.tanh, activations.relu) if self.gates == 1 else \
            (activations.tanh,)
        if self.activation not in allowed:
            raise NotImplementedError(f"{cls}: activation {activations.name_of(self.activation)!r}"
                                      f" is not supported (the fused layer computes "
                                      f"{' or '.join(map(activations.name_of, allowed))})")
        self.return_sequences, self.go_backwards = bool(return_sequences), bool(go_backwards)
        self.unroll = bool(unroll)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    # how Keras's arrays map to glassnet's (LSTM and SimpleRNN: transposes only)
    def _matrix_maps(self):
        return (lambda a: a.T), (lambda a: a.T)

    def build(self, input_shape):
        n_in, g = input_shape[-1], self.gates * self.units
        if n_in is None:
            raise ValueError(f"{self.name}: the feature size must be known, got input shape "
                             f"{_shape_text(input_shape)}")
        to_keras, from_keras = self._matrix_maps()
        self.kernel = self.add_weight("kernel", (n_in, g), self.kernel_initializer,
                                      to_keras=to_keras, from_keras=from_keras)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, g),
                                                self.recurrent_initializer,
                                                to_keras=to_keras, from_keras=from_keras)
        self.bias = self._build_bias() if self.use_bias else None

    def _build_bias(self):
        bias = self.add_weight("bias", (self.gates * self.units,), self.bias_initializer)
        self._zero_bias = Tensor(np.zeros(self.gates * self.units, np.float32))
        return bias

    def _biases(self):
        if self.bias is None:
            return None, None
        return self.bias._tensor, self._zero_bias

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def _scan(self, x, reverse):
        """x (T, N, C) time-major -> (outputs (T, N, u) aligned with the inputs, h_T)."""
        raise NotImplementedError

    def forward(self, x, training):
        out, last = self._scan(x.transpose(0, 1), self.go_backwards)
        if not self.return_sequences:
            return last
        out = out.transpose(0, 1)
        # go_backwards: Keras gives the outputs in the order they were computed
        return out.flip([1]) if self.go_backwards else out

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "return_sequences": self.return_sequences, "return_state": False,
                "go_backwards": self.go_backwards, "stateful": False, "unroll": self.unroll,
                "dropout": 0.0, "recurrent_dropout": 0.0}


class SimpleRNN(_RNN):
    """h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias)."""

    def _scan(self, x, reverse):
        return R.rnn_layer(x, None, self.kernel._tensor, self.recurrent_kernel._tensor,
                           *self._biases(), activations.name_of(self.activation), reverse)


class LSTM(_RNN):
    """Long short-term memory: gates i, f, c, o; unit_forget_bias starts f's bias at 1."""
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation, **kwargs)
        if activations.get(recurrent_activation) is not activations.sigmoid:
            raise NotImplementedError(f"{type(self).__name__}: only "
                                      "recurrent_activation='sigmoid' is supported")
        self.unit_forget_bias = bool(unit_forget_bias)

    def _build_bias(self):
        bias = super()._build_bias()
        if self.unit_forget_bias:
            bias._tensor._array[self.units:2 * self.units] += 1.0
        return bias

    def _scan(self, x, reverse):
        out, (h, _) = R.lstm_layer(x, None, self.kernel._tensor, self.recurrent_kernel._tensor,
                                   *self._biases(), reverse)
        return out, h

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": "sigmoid",
                "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gated recurrent unit, Keras's default reset_after=True form (PyTorch's):
    h~ = tanh(x W_h + b_h + r * (h W_hh + b_hh)),  h_t = z h_{t-1} + (1 - z) h~."""
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation, **kwargs)
        if not reset_after:
            raise NotImplementedError("GRU: only reset_after=True (Keras's default) is "
                                      "supported")
        if activations.get(recurrent_activation) is not activations.sigmoid:
            raise NotImplementedError("GRU: only recurrent_activation='sigmoid' is supported")

    def _matrix_maps(self):
        return (lambda a: _gru_order(a.T, 1)), (lambda a: _gru_order(a, 1).T)

    def _build_bias(self):
        return self.add_weight("bias", (2, 3 * self.units), self.bias_initializer,
                               to_keras=lambda a: _gru_order(a, 1),
                               from_keras=lambda a: _gru_order(a, 1))

    def _biases(self):
        if self.bias is None:
            return None, None
        b = self.bias._tensor
        return b[0], b[1]

    def _scan(self, x, reverse):
        return R.gru_layer(x, None, self.kernel._tensor, self.recurrent_kernel._tensor,
                           *self._biases(), reverse)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": "sigmoid", "reset_after": True}


class Bidirectional(Layer):
    """Runs `layer` forwards and a copy of it backwards over the sequence and merges the
    two ('concat' by default); with return_sequences the backward outputs are aligned with
    the inputs, as Keras does."""
    channels_first, min_ndim, max_ndim = False, 3, 3

    def __init__(self, layer, merge_mode="concat", backward_layer=None, weights=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _RNN):
            raise TypeError(f"Bidirectional: expected a SimpleRNN, LSTM or GRU layer, got "
                            f"{type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave"):
            raise ValueError(f"Bidirectional: merge_mode must be 'concat', 'sum', 'mul' or "
                             f"'ave', got {merge_mode!r}")
        if backward_layer is not None or weights is not None:
            raise NotImplementedError("Bidirectional: backward_layer and weights are not "
                                      "supported yet")
        config = layer.get_config()
        config.pop("batch_input_shape", None)
        self.forward_layer = type(layer)(**{**config, "name": "forward_" + layer.name})
        self.backward_layer = type(layer)(**{**config, "name": "backward_" + layer.name,
                                            "go_backwards": not layer.go_backwards})
        self.merge_mode = merge_mode
        if self._batch_input_shape is None:
            self._batch_input_shape = layer._batch_input_shape

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            sub._ensure_built(input_shape)
            sub.trainable = self.trainable
        self._vars = self.forward_layer._vars + self.backward_layer._vars
        self._params.forward_layer = self.forward_layer._params
        self._params.backward_layer = self.backward_layer._params

    @Layer.trainable.setter
    def trainable(self, value):
        Layer.trainable.fset(self, value)
        for sub in (self.forward_layer, self.backward_layer):
            if sub.built:
                sub.trainable = value

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return tuple(shape[:-1]) + (2 * shape[-1],)
        return tuple(shape)

    def forward(self, x, training):
        x = x.transpose(0, 1)
        out_f, last_f = self.forward_layer._scan(x, self.forward_layer.go_backwards)
        out_b, last_b = self.backward_layer._scan(x, self.backward_layer.go_backwards)
        if self.forward_layer.return_sequences:
            a, b = out_f.transpose(0, 1), out_b.transpose(0, 1)
        else:
            a, b = last_f, last_b
        if self.merge_mode == "concat":
            return cat([a, b], dim=-1)
        return {"sum": lambda: a + b, "mul": lambda: a * b,
                "ave": lambda: (a + b) / 2}[self.merge_mode]()

    def get_config(self):
        # both directions, as Keras writes them (without backward_layer, Keras would name
        # the backward copy of "forward_lstm" "backward_forward_lstm")
        def entry(layer):
            return {"module": "keras.layers", "class_name": type(layer).__name__,
                    "config": layer.get_config(), "registered_name": None}
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": entry(self.forward_layer), "backward_layer": entry(self.backward_layer)}
