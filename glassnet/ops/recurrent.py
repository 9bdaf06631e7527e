"""Recurrent layers as fused Functions: a whole layer (one direction) over a whole
sequence is ONE graph node, whose backward is backpropagation through time.

    RNN   h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)                act = tanh or relu
    LSTM  i, f, g, o = sig, sig, tanh, sig(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   (gate blocks)
          c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
    GRU   r, z = sig(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
          n = tanh(W_in x_t + b_in + r (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) n + z h_{t-1}

Forward. x W_ih^T for every step is one GEMM before the loop; the loop over time
does only h_{t-1} W_hh^T and the gate arithmetic, in place (`out=`) in buffers
allocated once per call, keeping every gate activation for backward. Internally
the gate blocks are reordered so that the sigmoid gates are contiguous (LSTM: o,
i, f, g), and their weight rows are halved: sig(z) = (1 + tanh(z / 2)) / 2, so one
tanh call activates every gate of a step.

Backward. The gate derivatives that do not depend on the recursion (s (1 - s),
1 - tanh^2, and their products with saved activations) are formed for all steps
at once; the loop then walks t = T-1 .. 0 with a handful of multiplies and the
one GEMM dL/dh_{t-1} = dL/dz_t W_hh that carries the gradient back a step. With
dL/dz (every gate's pre-activation gradient) stored for all steps, the weight and
input gradients are single GEMMs over all T*B rows after the loop:
dL/dW_ih = dZ^T X, dL/dx = dZ W_ih, dL/db = sum of dZ, and dL/dW_hh = dZ^T H_prev
(the sum over t of dz_t^T h_{t-1} that BPTT accumulates step by step, done as one
product since every h_{t-1} is kept anyway).

Several differentiable outputs. A glassnet Function has one differentiable
output, so the node returns one packed array (T+1, B, H) — RNN/GRU — or (T+2, B,
H) — LSTM: rows 0..T are the hidden states in time order, with h_0 at the row
where the walk starts (row 0 forward, row T reversed), and LSTM's row T+1 is c_n.
The output sequence, h_n and c_n are then views of it through cheap slicing nodes
(`narrow`/`select`): their gradients land in the right rows of one packed
gradient, and since h_n is the same row as the last output step, dL/dh_n and
dL/dy_T add up there with no special case. No change to the engine was needed.

Compiled loops. For float32 on an AVX2 CPU, LSTM's and GRU's two walks over time each
run as one call into native_rnn.h (the step's product through the sgemm of NumPy's
OpenBLAS, the gate arithmetic in one vectorised pass per step), with the same arrays as
the NumPy loops below, which remain for float64 and other machines;
tests/ops/test_native.py holds the two to the same values. The compiled backward walks
also form the gate derivatives step by step (the NumPy `_bptt`s below form them for all
steps first), and native.py walks a batch as two halves on two threads at once.

Diagnostics: pass `record=callable` and backward calls it with the array (T,) of
||dL/dh_t|| (over batch and hidden units, forward-time order) that BPTT computed.
Computations run in the inputs' dtype (float32, or float64 for gradcheck).
"""
import numpy as np

from .._kernels import native
from ..autograd.function import Function
from ..tensor import Tensor
from .indexing import narrow, select

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_tanh_cell", "rnn_relu_cell",
           "lstm_cell", "gru_cell"]


# A step's product, h (B, H) @ W_hh^T (H, G*H), is small: ~1M multiply-adds at batch 64,
# hidden 64. OpenBLAS still splits it across two threads, and waking the second costs
# more than it saves; on a busy machine, where that thread waits for a core, it measured
# 50-500x slower. Row blocks of at most 2^18 multiply-adds stay below OpenBLAS's
# threading threshold and run on the calling thread: 21-24 us instead of 30-45 us for the
# whole product on an idle machine. Products big enough for threads to pay stay whole.
_BLOCK_MACS, _SPLIT_UP_TO = 1 << 18, 1 << 22


def _block_rows(m, k, n):
    """Rows per piece when an (m, k) @ (k, n) product goes in single-threaded pieces."""
    macs = m * k * n
    if macs <= _BLOCK_MACS or macs > _SPLIT_UP_TO:
        return m
    return max(1, _BLOCK_MACS // (k * n))


def _row_blocks(m, k, n):
    """Row slices that split an (m, k) @ (k, n) product into single-threaded pieces."""
    rows = _block_rows(m, k, n)
    return [slice(None)] if rows >= m else [slice(i, i + rows) for i in range(0, m, rows)]


def _matmul(a, b, out, blocks):
    """out = a @ b, in the row blocks of `_row_blocks`."""
    for rows in blocks:
        np.matmul(a[rows], b, out=out[rows])


def _gate_blocks(w, order, dt):
    """w (G*H, ...) as (G, H, ...) in the internal gate order: a copy, in dtype dt."""
    return np.asarray(w, dt).reshape(len(order), -1, *w.shape[1:])[list(order)]


def _torch_order(grad, order):
    """A gradient in the internal gate order, back in PyTorch's order and shape."""
    inverse = np.argsort(order)
    return grad.reshape(len(order), -1, *grad.shape[1:])[inverse].reshape(
        -1, *grad.shape[1:])


class _Recurrence(Function):
    """What the three layers share: argument handling, the input GEMM before the
    loop, and the weight/input GEMMs after the backward loop.

    A subclass sets ORDER (the PyTorch gate block at each internal position), SIGMOIDS (how
    many leading internal blocks are sigmoid gates), STATES (1, or 2 for LSTM) and
    writes `_loop` (forward over time) and `_bptt` (backward over time).
    """
    ORDER, SIGMOIDS, STATES = (0,), 0, 1

    def forward(self, x, *arrays, reverse=False, record=None, **options):
        states, (w_ih, w_hh, *biases) = arrays[:self.STATES], arrays[self.STATES:]
        dt = np.result_type(x, *arrays)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        G = len(self.ORDER)
        wi, wh = _gate_blocks(w_ih, self.ORDER, dt), _gate_blocks(w_hh, self.ORDER, dt)
        b_ih, b_hh = ([_gate_blocks(b, self.ORDER, dt) for b in biases] if biases
                      else [np.zeros((G, H), dt)] * 2)
        half = np.ones((G, 1), dt)
        half[:self.SIGMOIDS] = 0.5          # sig(z) = (1 + tanh(z / 2)) / 2
        x2 = np.asarray(x, dt).reshape(T * B, -1)
        # pre-activations from the inputs, every step in one GEMM: (T, B, G, H)
        a = np.matmul(x2, (wi * half[..., None]).reshape(G * H, -1).T).reshape(T, B, G, H)
        a += self._input_bias(b_ih * half, b_hh * half)
        hs = np.empty((T + self.STATES, B, H), dt)     # the packed output (module docstring)
        r = int(reverse)
        hs[T * r] = states[0]                           # h_0 where the walk starts
        wh_t = np.ascontiguousarray((wh * half[..., None]).reshape(G * H, H).T)
        c0 = np.asarray(states[1], dt) if self.STATES == 2 else None
        saved = self._loop(a, hs, wh_t, c0, b_hh[G - 1] * half[G - 1], r, **options)
        if any(self.needs_input_grad):
            self.x, self.wi, self.wh, self.a, self.hs = x2, wi, wh, a, hs
            self.saved, self.r, self.record = saved, r, record
            self.has_bias = bool(biases)
        return hs

    def backward(self, g):
        x2, wi, wh, a, hs, r = self.x, self.wi, self.wh, self.a, self.hs, self.r
        T, B, G, H = a.shape
        norms = np.empty(T, a.dtype) if self.record is not None else None
        dz, dh0, *d_states = self._bptt(g, wh.reshape(G * H, H), norms)
        if norms is not None:
            self.record(norms)
        need = self.needs_input_grad
        S = self.STATES
        dz2 = dz.reshape(T * B, G * H)
        grads = [None] * len(need)
        grads[1:1 + S] = [dh0, *d_states]
        # hidden path first: GRU then rewrites its n block of dz for the input path
        if need[S + 2]:
            grads[S + 2] = _torch_order(dz2.T @ hs[r:T + r].reshape(T * B, H), self.ORDER)
        db = dz2.sum(axis=0) if self.has_bias else None
        if self.has_bias and need[S + 4]:
            grads[S + 4] = _torch_order(db, self.ORDER)
        if self._input_path(dz):                    # the input path's dz differs (GRU)
            db = dz2.sum(axis=0) if self.has_bias else None
        if need[0]:
            grads[0] = (dz2 @ wi.reshape(G * H, -1)).reshape(T, B, -1)
        if need[S + 1]:
            grads[S + 1] = _torch_order(dz2.T @ x2, self.ORDER)
        if self.has_bias and need[S + 3]:
            grads[S + 3] = _torch_order(db, self.ORDER)
        parents = self.parents
        return tuple(None if gr is None else gr.astype(p._array.dtype, copy=False)
                     for gr, p in zip(grads, parents))

    @staticmethod
    def _steps(T, r):
        """The time steps in the order forward visits them."""
        return range(T - 1, -1, -1) if r else range(T)

    def _steps_back(self, T):
        """The time steps in the order backward visits them: forward's, reversed."""
        return range(T) if self.r else range(T - 1, -1, -1)

    def _input_bias(self, b_ih, b_hh):
        return b_ih + b_hh

    def _input_path(self, dz):
        """Turn dz (the hidden path's dL/dz) into the input path's, in place; True if it
        changed. In RNN and LSTM the two paths see the same pre-activations."""
        return False


class RNNLayer(_Recurrence):
    def _loop(self, a, hs, wh_t, c0, b_hn, r, nonlinearity="tanh"):
        T, B, _, H = a.shape
        a = a.reshape(T, B, H)
        tmp, blocks = np.empty((B, H), a.dtype), _row_blocks(B, H, H)
        # rows of hs: h_t at t+1 (forward) or t (reversed), h_{t-1} on the other side
        for t in self._steps(T, r):
            h = hs[t + 1 - r]
            _matmul(hs[t + r], wh_t, tmp, blocks)
            np.add(a[t], tmp, out=h)
            if nonlinearity == "tanh":
                np.tanh(h, out=h)                   # dh/dz = 1 - h^2
            else:
                np.maximum(h, 0, out=h)             # dh/dz = [h > 0]
        self.nonlinearity = nonlinearity

    def _bptt(self, g, wh, norms):
        hs, r = self.hs, self.r
        T, B, _, H = self.a.shape
        out = hs[1 - r:T + 1 - r]
        dz = self.a.reshape(T, B, H)      # the pre-activations are no longer needed
        if self.nonlinearity == "tanh":
            np.multiply(out, out, out=dz)
            np.subtract(1, dz, out=dz)              # 1 - h^2, every step at once
        else:
            np.greater(out, 0, out=dz)
        dh, dh_rec = np.empty((B, H), dz.dtype), np.zeros((B, H), dz.dtype)
        blocks = _row_blocks(B, H, H)
        for t in self._steps_back(T):
            np.add(g[t + 1 - r], dh_rec, out=dh)    # dL/dh_t: output + step t+1 via W_hh
            if norms is not None:
                norms[t] = np.sqrt(np.vdot(dh, dh))
            np.multiply(dh, dz[t], out=dz[t])       # dL/dz_t
            _matmul(dz[t], wh, dh_rec, blocks)      # dL/dh_{t-1} through W_hh
        return dz, dh_rec


class LSTMLayer(_Recurrence):
    ORDER, SIGMOIDS, STATES = (3, 0, 1, 2), 3, 2    # internal o, i, f, g

    def _loop(self, a, hs, wh_t, c0, b_hn, r):
        T, B, _, H = a.shape
        cs = np.empty((T + 1, B, H), a.dtype)       # c_t, in the rows hs uses
        cs[T * r] = c0
        tc = np.empty((T, B, H), a.dtype)
        if native.rnn_loops(a.dtype):              # the whole walk in one compiled call
            native.lstm_forward(a, hs, cs, tc, wh_t, _block_rows(B, H, 4 * H), r)
            hs[T + 1] = cs[T * (1 - r)]
            return cs, tc
        tmp, ig = np.empty((B, 4, H), a.dtype), np.empty((B, H), a.dtype)
        tmp2, blocks = tmp.reshape(B, 4 * H), _row_blocks(B, H, 4 * H)
        for t in self._steps(T, r):
            z, c_prev, c = a[t], cs[t + r], cs[t + 1 - r]
            _matmul(hs[t + r], wh_t, tmp2, blocks)
            np.add(z, tmp, out=z)
            np.tanh(z, out=z)                   # g = tanh(z_g):           dg/dz_g = 1 - g^2
            s = z[:, :3]
            np.multiply(s, 0.5, out=s)          # o, i, f = sig(z):        ds/dz = s (1 - s)
            np.add(s, 0.5, out=s)
            o, i, f, gg = z[:, 0], z[:, 1], z[:, 2], z[:, 3]
            np.multiply(f, c_prev, out=c)       # c_t = f c_{t-1} + i g:   dc_t/dc_{t-1} = f
            np.multiply(i, gg, out=ig)          #   dc_t/df = c_{t-1}, dc_t/di = g, dc_t/dg = i
            np.add(c, ig, out=c)
            np.tanh(c, out=tc[t])               # dtanh(c_t)/dc_t = 1 - tanh(c_t)^2
            np.multiply(o, tc[t], out=hs[t + 1 - r])    # h_t = o tanh(c_t): dh_t/do = tanh(c_t)
        hs[T + 1] = cs[T * (1 - r)]             # c_n
        return cs, tc

    def _bptt(self, g, wh, norms):
        a, r = self.a, self.r
        cs, tc = self.saved
        T, B, _, H = a.shape
        dc = np.array(g[T + 1])                     # dL/dc_n
        if native.rnn_loops(a.dtype):              # the whole walk in one compiled call
            dz, dh_rec = native.lstm_backward(a, tc, cs, np.ascontiguousarray(g, a.dtype), dc,
                                              np.ascontiguousarray(wh), norms,
                                              _block_rows(B, 4 * H, H), r)
            return dz, dh_rec, dc
        o, i, f, gg = a[:, :, 0], a[:, :, 1], a[:, :, 2], a[:, :, 3]
        # dz holds, per step, what dL/dh (o block) or dL/dc (i, f, g blocks) is multiplied by
        dz = np.empty_like(a)
        np.subtract(1, a, out=dz)
        np.multiply(dz, a, out=dz)                  # s (1 - s) for o, i, f
        np.multiply(gg, gg, out=dz[:, :, 3])
        np.subtract(1, dz[:, :, 3], out=dz[:, :, 3])    # 1 - g^2
        dz[:, :, 0] *= tc                           # dz_o = dh tanh(c) o (1 - o)
        dz[:, :, 1] *= gg                           # dz_i = dc g i (1 - i)
        dz[:, :, 2] *= cs[r:T + r]                  # dz_f = dc c_{t-1} f (1 - f)
        dz[:, :, 3] *= i                            # dz_g = dc i (1 - g^2)
        q = np.multiply(tc, tc)
        np.subtract(1, q, out=q)
        q *= o                                      # dL/dc_t += dh_t o (1 - tanh(c_t)^2)
        dh, tmp = np.empty((B, H), a.dtype), np.empty((B, H), a.dtype)
        dh_rec = np.zeros((B, H), a.dtype)
        blocks = _row_blocks(B, 4 * H, H)
        for t in self._steps_back(T):
            np.add(g[t + 1 - r], dh_rec, out=dh)    # dL/dh_t: output + step t+1 via W_hh
            if norms is not None:
                norms[t] = np.sqrt(np.vdot(dh, dh))
            d = dz[t]
            np.multiply(d[:, 0], dh, out=d[:, 0])
            np.multiply(dh, q[t], out=tmp)
            np.add(dc, tmp, out=dc)                 # dL/dc_t
            np.multiply(d[:, 1:], dc[:, None], out=d[:, 1:])
            np.multiply(dc, f[t], out=dc)           # dL/dc_{t-1} = dL/dc_t f
            _matmul(d.reshape(B, 4 * H), wh, dh_rec, blocks)    # dL/dh_{t-1} through W_hh
        return dz, dh_rec, dc


class GRULayer(_Recurrence):
    ORDER, SIGMOIDS, STATES = (0, 1, 2), 2, 1       # r, z, n (already sigmoids first)

    def _input_bias(self, b_ih, b_hh):
        b = b_ih.copy()
        b[:2] += b_hh[:2]           # b_hn stays inside r * (W_hn h + b_hn)
        return b

    def _loop(self, a, hs, wh_t, c0, b_hn, r):
        T, B, _, H = a.shape
        hn = np.empty((T, B, H), a.dtype)           # W_hn h_{t-1} + b_hn, kept for dL/dr
        if native.rnn_loops(a.dtype):               # the whole walk in one compiled call
            native.gru_forward(a, hs, hn, wh_t, np.ascontiguousarray(b_hn, a.dtype),
                               _block_rows(B, H, 3 * H), r)
            return hn
        tmp, nt = np.empty((B, 3, H), a.dtype), np.empty((B, H), a.dtype)
        tmp2, blocks = tmp.reshape(B, 3 * H), _row_blocks(B, H, 3 * H)
        for t in self._steps(T, r):
            z, h_prev = a[t], hs[t + r]
            _matmul(h_prev, wh_t, tmp2, blocks)
            rz = z[:, :2]
            np.add(rz, tmp[:, :2], out=rz)
            np.tanh(rz, out=rz)
            np.multiply(rz, 0.5, out=rz)            # r, z = sig(.):            ds/d. = s (1 - s)
            np.add(rz, 0.5, out=rz)
            np.add(tmp[:, 2], b_hn, out=hn[t])
            n = z[:, 2]
            np.multiply(z[:, 0], hn[t], out=nt)     # n = tanh(x_n + r hn):     dn/d. = 1 - n^2,
            np.add(n, nt, out=n)                    #   d(.)/dr = hn, d(.)/dhn = r
            np.tanh(n, out=n)
            np.subtract(h_prev, n, out=nt)          # h_t = n + z (h_{t-1} - n): dh_t/dn = 1 - z,
            np.multiply(z[:, 1], nt, out=nt)        #   dh_t/dz = h_{t-1} - n, dh_t/dh_{t-1} = z
            np.add(n, nt, out=hs[t + 1 - r])
        return hn

    def _bptt(self, g, wh, norms):
        a, hs, hn, r = self.a, self.hs, self.saved, self.r
        T, B, _, H = a.shape
        if native.rnn_loops(a.dtype):               # the whole walk in one compiled call
            dz, self.dn, dh_rec = native.gru_backward(
                a, hs, hn, np.ascontiguousarray(g, a.dtype), np.ascontiguousarray(wh), norms,
                _block_rows(B, 3 * H, H), r)
            return dz, dh_rec
        rr, zz, n = a[:, :, 0], a[:, :, 1], a[:, :, 2]
        dz = np.empty_like(a)                       # dL/dz of the hidden path, per step
        np.subtract(1, a[:, :, :2], out=dz[:, :, :2])
        np.multiply(dz[:, :, :2], a[:, :, :2], out=dz[:, :, :2])   # s (1 - s) for r, z
        dz[:, :, 0] *= hn                           # dz_r = dz_n hn r (1 - r)
        dz[:, :, 1] *= np.subtract(hs[r:T + r], n)  # dz_z = dh (h_{t-1} - n) z (1 - z)
        pn = np.multiply(n, n)
        np.subtract(1, pn, out=pn)
        pn *= 1 - zz                                # dz_n = dh (1 - z) (1 - n^2)
        dn = np.empty((T, B, H), a.dtype)           # dL/dz_n, the input path's n block
        self.dn = dn
        dh, tmp = np.empty((B, H), a.dtype), np.empty((B, H), a.dtype)
        dh_rec, blocks = np.zeros((B, H), a.dtype), _row_blocks(B, 3 * H, H)
        for t in self._steps_back(T):
            np.add(g[t + 1 - r], dh_rec, out=dh)    # dL/dh_t: output + step t+1
            if norms is not None:
                norms[t] = np.sqrt(np.vdot(dh, dh))
            d = dz[t]
            np.multiply(dh, pn[t], out=dn[t])
            np.multiply(d[:, 1], dh, out=d[:, 1])
            np.multiply(d[:, 0], dn[t], out=d[:, 0])
            np.multiply(dn[t], rr[t], out=d[:, 2])  # dL/d(W_hn h + b_hn) = dz_n r
            _matmul(d.reshape(B, 3 * H), wh, dh_rec, blocks)
            np.multiply(dh, zz[t], out=tmp)
            np.add(dh_rec, tmp, out=dh_rec)         # dL/dh_{t-1}: through W_hh, and directly
        return dz, dh_rec

    def _input_path(self, dz):
        dz[:, :, 2] = self.dn                       # the input path sees dz_n, not dz_n r
        return True


# --------------------------------------------------------------------- functional
def _check(op, gates, input, states, w_ih, w_hh, b_ih, b_hh):
    """Shapes of one layer's arguments, checked before any work, with the op named."""
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: give both b_ih and b_hh, or neither")
    if input.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D input (seq_len, batch, input_size), "
                         f"got shape {input.shape}")
    T, B, n_in = input.shape
    if T == 0:
        raise ValueError(f"{op}: expected a sequence of at least one step, got shape "
                         f"{input.shape}")
    if w_hh.ndim != 2 or w_hh.shape[0] % gates:
        raise ValueError(f"{op}: expected w_hh of shape ({gates} * hidden_size, hidden_size), "
                         f"got {w_hh.shape}")
    H = w_hh.shape[0] // gates
    expected = {"w_ih": (w_ih, (gates * H, n_in)), "w_hh": (w_hh, (gates * H, H)),
                "b_ih": (b_ih, (gates * H,)), "b_hh": (b_hh, (gates * H,))}
    expected.update({f"state {k}": (s, (B, H)) for k, s in enumerate(states)})
    for name, (t, shape) in expected.items():
        if t is not None and t.shape != shape:
            raise ValueError(f"{op}: expected {name} of shape {shape} for an input of shape "
                             f"{input.shape} and hidden size {H}, got {t.shape}")


def _zeros_like_state(state, input, w_hh):
    if state is not None:
        return state
    return Tensor(np.zeros((input.shape[1], w_hh.shape[-1]), input.dtype))


def _layer(fn, op, input, states, w_ih, w_hh, b_ih, b_hh, reverse, record, **options):
    """Run one fused layer; returns the packed array's views (output, h_n, [c_n])."""
    states = [_zeros_like_state(s, input, w_hh) for s in states]
    _check(op, len(fn.ORDER), input, states, w_ih, w_hh, b_ih, b_hh)
    biases = () if b_ih is None else (b_ih, b_hh)
    packed = fn.apply(input, *states, w_ih, w_hh, *biases, reverse=bool(reverse), record=record,
                      **options)
    T, r = input.shape[0], int(reverse)
    finals = [select(packed, 0, T * (1 - r))]
    if len(states) == 2:
        finals.append(select(packed, 0, T + 1))   # LSTM's c_n
    return narrow(packed, 0, 1 - r, T), finals


def rnn_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
              reverse=False, record=None):
    """One Elman RNN layer in one direction over input (T, B, In) from h0 (B, H) (None:
    zeros) as one graph node: returns (output (T, B, H), h_n (B, H))."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: unknown nonlinearity {nonlinearity!r} (tanh or relu)")
    output, (h_n,) = _layer(RNNLayer, "rnn_layer", input, [h0], w_ih, w_hh, b_ih, b_hh,
                            reverse, record, nonlinearity=nonlinearity)
    return output, h_n


def lstm_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, record=None):
    """One LSTM layer in one direction, hx = (h0, c0) (or None): (output, (h_n, c_n))."""
    h0, c0 = (None, None) if hx is None else hx
    output, (h_n, c_n) = _layer(LSTMLayer, "lstm_layer", input, [h0, c0], w_ih, w_hh, b_ih,
                                b_hh, reverse, record)
    return output, (h_n, c_n)


def gru_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, record=None):
    """One GRU layer in one direction over input (T, B, In): (output, h_n)."""
    output, (h_n,) = _layer(GRULayer, "gru_layer", input, [h0], w_ih, w_hh, b_ih, b_hh,
                            reverse, record)
    return output, h_n


def _cell(fn, op, input, states, w_ih, w_hh, b_ih, b_hh, **options):
    """A cell is its layer over a one-step sequence: the same node, the same math."""
    if input.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D input (batch, input_size), got shape "
                         f"{input.shape}")
    _, finals = _layer(fn, op, input.reshape(1, *input.shape), states, w_ih, w_hh, b_ih, b_hh,
                       False, None, **options)
    return finals


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) for input (B, In), hx (B, H) or None."""
    return _cell(RNNLayer, "rnn_tanh_cell", input, [hx], w_ih, w_hh, b_ih, b_hh,
                 nonlinearity="tanh")[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _cell(RNNLayer, "rnn_relu_cell", input, [hx], w_ih, w_hh, b_ih, b_hh,
                 nonlinearity="relu")[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, hx = (h, c) or None: returns (h', c')."""
    h, c = (None, None) if hx is None else hx
    return tuple(_cell(LSTMLayer, "lstm_cell", input, [h, c], w_ih, w_hh, b_ih, b_hh))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: returns h'."""
    return _cell(GRULayer, "gru_cell", input, [hx], w_ih, w_hh, b_ih, b_hh)[0]
