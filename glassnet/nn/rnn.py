"""Recurrent layers with PyTorch's names, arguments and parameters: RNN, LSTM, GRU and
their one-step cells RNNCell, LSTMCell, GRUCell.

    lstm = nn.LSTM(28, 64, num_layers=2, batch_first=True, bidirectional=True)
    output, (h_n, c_n) = lstm(x)          # x: (B, T, 28) -> output (B, T, 128)

Each layer and direction runs as one fused graph node over the whole sequence (see
`glassnet/ops/recurrent.py` for the forward loop and BPTT). Parameters are named and
shaped as in PyTorch (weight_ih_l0 (gates*H, In), weight_hh_l0, bias_ih_l0, bias_hh_l0,
then ..._reverse; gates LSTM i, f, g, o and GRU r, z, n), initialised U(-1/sqrt(H),
1/sqrt(H)), so state dicts move between the two frameworks.

Diagnostics: after `layer.record_hidden_grads(True)`, every backward leaves in
`layer.hidden_grad_norms` one array (T,) per layer and direction ('l0', 'l0_reverse',
'l1', ...) holding ||dL/dh_t|| over batch and hidden units, in forward-time order: the
total gradient reaching each hidden state, which shows vanishing or exploding gradients
through time. When off, nothing is computed.
"""
import math
import warnings


from .. import creation
from ..ops import recurrent as R
from ..ops.dropout import dropout
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_input(name, input, input_size, batched_ndim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"{name}: expected a {batched_ndim - 1}-D (unbatched) or "
                         f"{batched_ndim}-D (batched) input, got shape {tuple(input.shape)}")
    if input.shape[-1] != input_size:
        raise ValueError(f"{name}: expected input of size {input_size} in the last dim, got "
                         f"{input.shape[-1]} (input shape {tuple(input.shape)})")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got {input.dtype}")


def _check_state(name, what, state, shape):
    if not isinstance(state, Tensor):
        raise TypeError(f"{name}: expected {what} to be a Tensor, got {type(state).__name__}")
    if tuple(state.shape) != tuple(shape):
        raise ValueError(f"{name}: expected {what} of shape {tuple(shape)}, got "
                         f"{tuple(state.shape)}")


class RNNBase(Module):
    """Shared by RNN, LSTM and GRU: parameters, argument checks, layers and directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not (isinstance(hidden_size, int) and hidden_size > 0):
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not (isinstance(num_layers, int) and num_layers > 0):
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout <= 1) \
                or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers, so with "
                          "num_layers=1 it does nothing", stacklevel=3)
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.hidden_grad_norms, self._record = {}, False
        gates, directions = _GATES[mode] * hidden_size, 2 if bidirectional else 1
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gates, n_in), "weight_hh": (gates, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                for kind, shape in shapes.items():
                    setattr(self, f"{kind}_l{layer}{suffix}",
                            Parameter(creation.empty(*shape, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """PyTorch's cuDNN weight-packing call: nothing to do here, kept so code runs."""

    def record_hidden_grads(self, enabled=True):
        """Store ||dL/dh_t|| per time step in `hidden_grad_norms` at every backward."""
        self._record = bool(enabled)
        self.hidden_grad_norms = {}
        return self

    def _recorder(self, key):
        if not self._record:
            return None

        def record(norms):      # called by the fused node's backward
            self.hidden_grad_norms[key] = norms
        return record

    # ---------------------------------------------------------------- forward
    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _initial_states(self, hx, batch, batched, x):
        """hx as a list (one per state: h, and c for LSTM) of lists of (B, H) tensors,
        one per layer and direction; None where it starts from zeros."""
        name, count = type(self).__name__, self.num_layers * self._directions
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            return [[None] * count for _ in range(n_states)]
        if n_states == 2:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: expected hx to be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            labels = ("h_0", "c_0")
        else:
            hx, labels = (hx,), ("h_0",)
        shape = (count, batch, self.hidden_size) if batched else (count, self.hidden_size)
        states = []
        for state, label in zip(hx, labels):
            _check_state(name, label, state, shape)
            if state.dtype != x.dtype:
                raise TypeError(f"{name}: expected {label} of dtype {x.dtype} like the "
                                f"input, got {state.dtype}")
            if not batched:
                state = state.reshape(count, 1, self.hidden_size)
            states.append([state[k] for k in range(count)])
        return states

    def _run_direction(self, x, states, layer, reverse):
        key = f"l{layer}" + ("_reverse" if reverse else "")
        weights = [getattr(self, f"{kind}_{key}") for kind in ("weight_ih", "weight_hh")]
        biases = [getattr(self, f"{kind}_{key}") for kind in ("bias_ih", "bias_hh")] \
            if self.bias else [None, None]
        record = self._recorder(key)
        if self.mode == "LSTM":
            out, finals = R.lstm_layer(x, states, *weights, *biases, reverse, record)
            return out, finals
        if self.mode == "GRU":
            out, h_n = R.gru_layer(x, states[0], *weights, *biases, reverse, record)
        else:
            nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
            out, h_n = R.rnn_layer(x, states[0], *weights, *biases, nonlinearity, reverse,
                                   record)
        return out, (h_n,)

    def forward(self, input, hx=None):
        name = type(self).__name__
        _check_input(name, input, self.input_size, 3)
        batched = input.ndim == 3
        if not batched:
            x = input.reshape(input.shape[0], 1, input.shape[1])
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        if x.shape[0] == 0:
            raise ValueError(f"{name}: expected a sequence of at least one step, got input "
                             f"shape {tuple(input.shape)}")
        states = self._initial_states(hx, x.shape[1], batched, x)
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(self._directions):
                k = layer * self._directions + d
                out, layer_finals = self._run_direction(x, [s[k] for s in states], layer, d == 1)
                outs.append(out)
                for collected, final in zip(finals, layer_finals):
                    collected.append(final)
            x = outs[0] if len(outs) == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        finals = [stack(f, 0) for f in finals]
        if not batched:
            x = x.reshape(x.shape[0], x.shape[2])
            finals = [f.reshape(f.shape[0], f.shape[2]) for f in finals]
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh (or relu) (x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).
    Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}, expected 'tanh' "
                             "or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
    Called as lstm(input, (h_0, c_0)=None); returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not supported")
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}. Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


# ------------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """One time step; PyTorch's parameter names weight_ih, weight_hh, bias_ih, bias_hh."""
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        gates = self._gates * self.hidden_size
        self.weight_ih = Parameter(creation.empty(gates, self.input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(gates, self.hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(gates, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step(self, input, states):
        """Check, lift an unbatched input to a batch of one, run `_cell`, drop it again."""
        name = type(self).__name__
        _check_input(name, input, self.input_size, 2)
        batched = input.ndim == 2
        shape = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        labels = ("h", "c")
        for label, state in zip(labels, states):
            if state is not None:
                _check_state(name, label, state, shape)
        if not batched:
            input = input.reshape(1, self.input_size)
            states = [None if s is None else s.reshape(1, self.hidden_size) for s in states]
        out = self._cell(input, states, self.weight_ih, self.weight_hh, self.bias_ih,
                         self.bias_hh)
        if not batched:
            out = [o.reshape(self.hidden_size) for o in out]
        return out

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh (or relu) (x W_ih^T + b_ih + h W_hh^T + b_hh); cell(x, h=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}, expected "
                             "'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def _cell(self, x, states, *params):
        fn = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        return [fn(x, states[0], *params)]

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: cell(x, (h, c)=None) -> (h', c')."""
    _gates = 4

    def _cell(self, x, states, *params):
        return R.lstm_cell(x, states, *params)

    def forward(self, input, hx=None):
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: expected hx to be a tuple (h, c), got "
                            f"{type(hx).__name__}")
        return tuple(self._step(input, [None, None] if hx is None else list(hx)))


class GRUCell(RNNCellBase):
    """One GRU step: cell(x, h=None) -> h'."""
    _gates = 3

    def _cell(self, x, states, *params):
        return [R.gru_cell(x, states[0], *params)]

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]
