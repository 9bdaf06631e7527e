"""RNN / LSTM / GRU and their cells against PyTorch: outputs, final states and the gradient
of every parameter, input and initial state; float64 finite differences of the fused
ops; errors; state dicts both ways; the per-step hidden-gradient recorder."""
import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn as nn
from glassnet.ops import recurrent as R

T, B, IN, H = 5, 3, 4, 6
TOL = dict(rtol=1e-4, atol=2e-5)
KINDS = {  # name: (torch class, glassnet class, extra kwargs)
    "rnn_tanh": (torch.nn.RNN, nn.RNN, {}),
    "rnn_relu": (torch.nn.RNN, nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTM, nn.LSTM, {}),
    "gru": (torch.nn.GRU, nn.GRU, {}),
}
CELLS = {
    "rnn_tanh": (torch.nn.RNNCell, nn.RNNCell, {}),
    "rnn_relu": (torch.nn.RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTMCell, nn.LSTMCell, {}),
    "gru": (torch.nn.GRUCell, nn.GRUCell, {}),
}


def _pair(table, kind, *args, **kwargs):
    """The same layer in both frameworks, with PyTorch's weights copied into glassnet's."""
    torch_cls, gn_cls, extra = table[kind]
    torch.manual_seed(0)
    t = torch_cls(*args, **extra, **kwargs)
    g = gn_cls(*args, **extra, **kwargs)
    g.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return t, g


def _both(array):
    return (torch.tensor(array, requires_grad=True),
            gn.tensor(array, dtype=array.dtype, requires_grad=True))


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) or h or (h, c) as a flat list."""
    if not isinstance(out, (tuple, list)):
        return [out]
    return [x for o in out for x in _flat(o)]


def _compare(t_outs, g_outs, t_leaves, g_leaves, t_mod, g_mod, seed=1):
    """Forward values, then the gradients of a random projection of every output."""
    t_outs, g_outs = _flat(t_outs), _flat(g_outs)
    assert len(t_outs) == len(g_outs)
    rng = np.random.default_rng(seed)
    t_loss = g_loss = 0
    for k, (t, g) in enumerate(zip(t_outs, g_outs)):
        assert g.shape == tuple(t.shape), f"output {k}: {g.shape} vs {tuple(t.shape)}"
        assert g.dtype == np.float32
        np.testing.assert_allclose(g._array, t.detach().numpy(), **TOL, err_msg=f"output {k}")
        w = rng.standard_normal(g.shape).astype(np.float32)
        t_loss = t_loss + (t * torch.tensor(w)).sum()
        g_loss = g_loss + (g * gn.tensor(w)).sum()
    t_loss.backward()
    g_loss.backward()
    named = [(f"input {k}", t, g) for k, (t, g) in enumerate(zip(t_leaves, g_leaves))]
    g_params = dict(g_mod.named_parameters())
    named += [(name, p, g_params[name]) for name, p in t_mod.named_parameters()]
    assert len(g_params) == len(list(t_mod.parameters()))
    for name, t, g in named:
        assert g.grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(g.grad._array, t.grad.numpy(), **TOL, err_msg=f"grad of {name}")


def _states(kind, shape, rng):
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for _ in range(2 if kind == "lstm" else 1)]
    pairs = [_both(a) for a in arrays]
    t_states, g_states = [p[0] for p in pairs], [p[1] for p in pairs]
    if kind == "lstm":
        return tuple(t_states), tuple(g_states), t_states, g_states
    return t_states[0], g_states[0], t_states, g_states


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_parity(kind, num_layers, bidirectional, batch_first, with_state):
    t_mod, g_mod = _pair(KINDS, kind, IN, H, num_layers, batch_first=batch_first,
                         bidirectional=bidirectional)
    rng = np.random.default_rng(0)
    tx, gx = _both(rng.standard_normal((B, T, IN) if batch_first else (T, B, IN))
                   .astype(np.float32))
    t_leaves, g_leaves = [tx], [gx]
    t_args, g_args = (tx,), (gx,)
    if with_state:
        ts, gs, t_list, g_list = _states(kind, (num_layers * (1 + bidirectional), B, H), rng)
        t_args, g_args = (tx, ts), (gx, gs)
        t_leaves, g_leaves = t_leaves + t_list, g_leaves + g_list
    _compare(t_mod(*t_args), g_mod(*g_args), t_leaves, g_leaves, t_mod, g_mod)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_parity_unbatched(kind, bidirectional, with_state):
    t_mod, g_mod = _pair(KINDS, kind, IN, H, 2, bidirectional=bidirectional, batch_first=True)
    rng = np.random.default_rng(2)
    tx, gx = _both(rng.standard_normal((T, IN)).astype(np.float32))
    t_args, g_args, t_leaves, g_leaves = (tx,), (gx,), [tx], [gx]
    if with_state:
        ts, gs, t_list, g_list = _states(kind, (2 * (1 + bidirectional), H), rng)
        t_args, g_args = (tx, ts), (gx, gs)
        t_leaves, g_leaves = t_leaves + t_list, g_leaves + g_list
    _compare(t_mod(*t_args), g_mod(*g_args), t_leaves, g_leaves, t_mod, g_mod)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_parity_no_bias_long(kind):
    t_mod, g_mod = _pair(KINDS, kind, IN, H, 1, bias=False)
    tx, gx = _both(np.random.default_rng(3).standard_normal((25, 2, IN)).astype(np.float32))
    assert "bias_ih_l0" not in g_mod.state_dict()
    _compare(t_mod(tx), g_mod(gx), [tx], [gx], t_mod, g_mod)


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_parity(kind, batched, with_state, bias):
    t_mod, g_mod = _pair(CELLS, kind, IN, H, bias=bias)
    rng = np.random.default_rng(4)
    tx, gx = _both(rng.standard_normal((B, IN) if batched else (IN,)).astype(np.float32))
    t_args, g_args, t_leaves, g_leaves = (tx,), (gx,), [tx], [gx]
    if with_state:
        ts, gs, t_list, g_list = _states(kind, (B, H) if batched else (H,), rng)
        t_args, g_args = (tx, ts), (gx, gs)
        t_leaves, g_leaves = t_leaves + t_list, g_leaves + g_list
    _compare(t_mod(*t_args), g_mod(*g_args), t_leaves, g_leaves, t_mod, g_mod)


# ------------------------------------------------------------- finite differences
def _weights(gates, n_in, rng):
    shapes = [(gates * 2, n_in), (gates * 2, 2), (gates * 2,), (gates * 2,)]
    return [rng.uniform(-0.8, 0.8, s) for s in shapes]


def _gradcheck(fn, arrays):
    inputs = [gn.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    assert gn.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_gradcheck_cells(kind):
    rng = np.random.default_rng(5)
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x = rng.standard_normal((3, 3))
    states = [rng.standard_normal((3, 2)) for _ in range(2 if kind == "lstm" else 1)]
    ws = _weights(gates, 3, rng)
    if kind == "lstm":
        def fn(x, h, c, *w):
            return R.lstm_cell(x, (h, c), *w)
    else:
        cell = {"rnn_tanh": R.rnn_tanh_cell, "rnn_relu": R.rnn_relu_cell, "gru": R.gru_cell}[kind]

        def fn(x, h, *w):
            return cell(x, h, *w)
    _gradcheck(fn, [x, *states, *ws])


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_fused_layer(kind, reverse):
    rng = np.random.default_rng(6)
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x = rng.standard_normal((4, 2, 3))
    states = [rng.standard_normal((2, 2)) for _ in range(2 if kind == "lstm" else 1)]
    ws = _weights(gates, 3, rng)
    if kind == "lstm":
        def fn(x, h, c, *w):
            out, (h_n, c_n) = R.lstm_layer(x, (h, c), *w, reverse=reverse)
            assert out.dtype == np.float64
            return out, h_n, c_n
    else:
        layer = R.gru_layer if kind == "gru" else R.rnn_layer

        def fn(x, h, *w):
            return layer(x, h, *w, reverse=reverse)
    _gradcheck(fn, [x, *states, *ws])


def test_float64_module():
    lstm = nn.LSTM(3, 4, dtype=np.float64)
    out, (h, c) = lstm(gn.tensor(np.ones((2, 1, 3)), dtype=np.float64))
    assert out.dtype == h.dtype == c.dtype == np.float64


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize("make,call,message", [
    (lambda: nn.LSTM(28, 64), lambda m: m(gn.zeros(5, 2, 30)),
     "LSTM: expected input of size 28 in the last dim, got 30"),
    (lambda: nn.GRU(4, 6), lambda m: m(gn.zeros(5, 2, 3, 4)),
     "GRU: expected a 2-D (unbatched) or 3-D (batched) input, got shape (5, 2, 3, 4)"),
    (lambda: nn.RNN(4, 6, 2), lambda m: m(gn.zeros(5, 2, 4), gn.zeros(1, 2, 6)),
     "RNN: expected h_0 of shape (2, 2, 6), got (1, 2, 6)"),
    (lambda: nn.LSTM(4, 6, bidirectional=True),
     lambda m: m(gn.zeros(5, 2, 4), (gn.zeros(2, 2, 6), gn.zeros(1, 2, 6))),
     "LSTM: expected c_0 of shape (2, 2, 6), got (1, 2, 6)"),
    (lambda: nn.LSTM(4, 6), lambda m: m(gn.zeros(5, 2, 4), gn.zeros(1, 2, 6)),
     "LSTM: expected hx to be a tuple (h_0, c_0)"),
    (lambda: nn.GRU(4, 6), lambda m: m(gn.zeros(0, 2, 4)),
     "GRU: expected a sequence of at least one step"),
    (lambda: nn.LSTMCell(4, 6), lambda m: m(gn.zeros(2, 5)),
     "LSTMCell: expected input of size 4 in the last dim, got 5"),
    (lambda: nn.GRUCell(4, 6), lambda m: m(gn.zeros(2, 4), gn.zeros(3, 6)),
     "GRUCell: expected h of shape (2, 6), got (3, 6)"),
    (lambda: nn.RNN(4, 6, nonlinearity="sigmoid"), None, "RNN: unknown nonlinearity"),
    (lambda: nn.GRU(4, 0), None, "GRU: hidden_size must be a positive int"),
])
def test_errors(make, call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call(make())
    assert message in str(info.value)


def test_functional_shape_errors():
    x, h = gn.zeros(5, 2, 4), gn.zeros(2, 6)
    with pytest.raises(ValueError, match=r"lstm_layer: expected w_hh of shape \(24, 6\)"):
        R.lstm_layer(x, (h, h), gn.zeros(24, 4), gn.zeros(24, 5))
    with pytest.raises(ValueError, match="gru_layer: give both b_ih and b_hh"):
        R.gru_layer(x, h, gn.zeros(18, 4), gn.zeros(18, 6), gn.zeros(18))


# ----------------------------------------------------------- modules and state
def test_state_dict_both_ways_and_repr():
    t_mod = torch.nn.LSTM(4, 6, 2, batch_first=True, dropout=0.5, bidirectional=True)
    g_mod = nn.LSTM(4, 6, 2, batch_first=True, dropout=0.5, bidirectional=True)
    assert repr(g_mod) == repr(t_mod)
    assert list(g_mod.state_dict()) == list(t_mod.state_dict())
    assert all(g.shape == tuple(t.shape) for g, t in zip(g_mod.state_dict().values(),
                                                          t_mod.state_dict().values()))
    bound = 1 / np.sqrt(6)
    assert all(np.abs(p._array).max() <= bound for p in g_mod.parameters())
    t_mod.load_state_dict({k: torch.tensor(v._array) for k, v in g_mod.state_dict().items()})
    t_mod.eval(), g_mod.eval()
    x = np.random.default_rng(7).standard_normal((3, 5, 4)).astype(np.float32)
    t_out, (t_h, t_c) = t_mod(torch.tensor(x))
    g_out, (g_h, g_c) = g_mod(gn.tensor(x))
    for t, g in [(t_out, g_out), (t_h, g_h), (t_c, g_c)]:
        np.testing.assert_allclose(g._array, t.detach().numpy(), **TOL)
    # PyTorch leaves the nonlinearity out of RNN's repr; glassnet shows it
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == \
        "RNN(3, 4, nonlinearity='relu', bias=False)"
    assert repr(nn.GRUCell(3, 4)) == repr(torch.nn.GRUCell(3, 4))


def test_stateful_chunks_match_the_whole_sequence():
    lstm = nn.LSTM(IN, H, 2)
    x = gn.randn(8, B, IN)
    whole, _ = lstm(x)
    first, (h, c) = lstm(x[:5])
    second, _ = lstm(x[5:], (h.detach(), c.detach()))
    np.testing.assert_allclose(second._array, whole._array[5:], rtol=1e-5, atol=1e-6)
    second.sum().backward()      # the graph of the first chunk is not needed
    assert lstm.weight_hh_l1.grad is not None


def test_dropout_between_layers():
    with pytest.warns(UserWarning, match="dropout"):
        nn.GRU(IN, H, 1, dropout=0.3)
    gru = nn.GRU(IN, H, 2, dropout=0.5)
    x = gn.randn(T, B, IN)
    gn.manual_seed(3)
    a, _ = gru(x)
    gn.manual_seed(3)
    b, _ = gru(x)
    np.testing.assert_array_equal(a._array, b._array)
    gru.eval()
    c, _ = gru(x)
    gru.dropout = 0.0
    gru.train()
    d, _ = gru(x)
    np.testing.assert_array_equal(c._array, d._array)
    assert not np.allclose(a._array, c._array)


def test_no_grad_records_nothing():
    lstm = nn.LSTM(IN, H)
    with gn.no_grad():
        out, (h, c) = lstm(gn.randn(T, B, IN))
    assert not (out.requires_grad or h.requires_grad or c.requires_grad)


# ------------------------------------------------------------ hidden gradients
def _torch_unrolled(kind, t_mod, x, bidirectional, num_layers):
    """PyTorch reference: the same stack as a loop of cells, every h_t kept with its grad."""
    cell_cls, _, extra = CELLS[kind]
    kept, layer_in = {}, x
    for layer in range(num_layers):
        outs = []
        for suffix in ("", "_reverse")[:1 + bidirectional]:
            key = f"l{layer}{suffix}"
            cell = cell_cls(layer_in.shape[-1], H, **extra)
            cell.load_state_dict({k: getattr(t_mod, f"{k}_{key}") for k in
                                  ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
            steps = range(T - 1, -1, -1) if suffix else range(T)
            state, hs = None, [None] * T
            for t in steps:
                state = cell(layer_in[t], state)
                h = state[0] if kind == "lstm" else state
                h.retain_grad()
                hs[t] = h
            kept[key] = hs
            outs.append(torch.stack(hs))
        layer_in = torch.cat(outs, dim=2)
    return layer_in, kept


@pytest.mark.parametrize("kind,bidirectional,num_layers", [
    ("lstm", True, 2), ("gru", False, 1), ("rnn_tanh", True, 1)])
def test_hidden_grad_norms(kind, bidirectional, num_layers):
    t_mod, g_mod = _pair(KINDS, kind, IN, H, num_layers, bidirectional=bidirectional)
    x = np.random.default_rng(8).standard_normal((T, B, IN)).astype(np.float32)
    w = np.random.default_rng(9).standard_normal((T, B, H * (1 + bidirectional)))
    w = w.astype(np.float32)
    assert g_mod.hidden_grad_norms == {}
    g_out, _ = g_mod(gn.tensor(x))
    (g_out * gn.tensor(w)).sum().backward()
    assert g_mod.hidden_grad_norms == {}            # off by default
    g_mod.record_hidden_grads(True)
    g_out, _ = g_mod(gn.tensor(x))
    (g_out * gn.tensor(w)).sum().backward()
    t_out, kept = _torch_unrolled(kind, t_mod, torch.tensor(x), bidirectional, num_layers)
    (t_out * torch.tensor(w)).sum().backward()
    assert sorted(g_mod.hidden_grad_norms) == sorted(kept)
    for key, hs in kept.items():
        expected = np.array([h.grad.norm().item() for h in hs])
        got = g_mod.hidden_grad_norms[key]
        assert got.shape == (T,)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=key)
    g_mod.record_hidden_grads(False)
    g_out, _ = g_mod(gn.tensor(x))
    g_out.sum().backward()
    assert g_mod.hidden_grad_norms == {}


def test_step_products_split_into_row_blocks():
    assert R._row_blocks(3, 6, 24) == [slice(None)]                 # small: one piece
    assert R._row_blocks(64, 64, 256) == [slice(i, i + 16) for i in range(0, 64, 16)]
    assert R._row_blocks(512, 512, 2048) == [slice(None)]           # big: BLAS threads pay


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_layer_parity_with_split_step_products(kind):
    # batch 70, hidden 40: the per-step GEMMs run as uneven row blocks (40 + 30 rows)
    t_mod, g_mod = _pair(KINDS, kind, IN, 40, 1, bidirectional=True)
    if kind == "rnn_tanh":
        t_mod, g_mod = _pair(KINDS, kind, IN, 160, 1, bidirectional=True)
    tx, gx = _both(np.random.default_rng(10).standard_normal((3, 70, IN)).astype(np.float32))
    _compare(t_mod(tx), g_mod(gx), [tx], [gx], t_mod, g_mod)
