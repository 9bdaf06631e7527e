"""Normalisation and lookup: batch_norm, layer_norm, local_response_norm, embedding — each
one fused node.

Both normalisations compute x_hat = (x - mean) / sqrt(var + eps) over some axes
and y = x_hat * weight + bias. Their backward is the same identity, over the
axes that were averaged (n elements each):

    dL/dx = (1 / sigma) * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)),
    g_hat = dL/dy * weight,  dL/dweight = sum(dL/dy * x_hat),  dL/dbias = sum(dL/dy).
"""
import numpy as np

from .._kernels import native
from ..autograd.function import Function

__all__ = ["batch_norm", "layer_norm", "local_response_norm", "embedding"]


class _Normalize(Function):
    """x_hat over `axes` with the statistics given (`stats`) or computed from x."""

    def forward(self, x, weight=None, bias=None, *, axes, param_shape, param_axes, eps,
                stats=None, momentum=None, running=None):
        if stats is None:
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = np.mean(np.square(centered), axis=axes, keepdims=True)
            if running is not None:
                _update_running(running, mean, var, x.size // mean.size, momentum)
        else:
            mean, var = stats
            centered = x - mean
        inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
        x_hat = centered
        x_hat *= inv_std
        self.batch_stats = stats is None
        self.axes, self.param_shape, self.param_axes = axes, param_shape, param_axes
        self.x_hat, self.inv_std = x_hat, inv_std
        self.weight = weight
        out = x_hat if weight is None else x_hat * weight.reshape(param_shape)
        if bias is not None:
            out = out + bias.reshape(param_shape)
        return out if out is not x_hat else x_hat.copy()

    def backward(self, g):
        # see the module docstring: the normalisation's derivative over the averaged axes
        axes, x_hat, need = self.axes, self.x_hat, self.needs_input_grad
        g_hat = g if self.weight is None else g * self.weight.reshape(self.param_shape)
        gx = None
        if need[0]:
            if self.batch_stats:
                mean_g = g_hat.mean(axis=axes, keepdims=True)
                mean_gx = np.mean(g_hat * x_hat, axis=axes, keepdims=True)
                gx = (g_hat - mean_g - x_hat * mean_gx) * self.inv_std
            else:   # fixed (running) statistics: a plain affine map of x
                gx = g_hat * self.inv_std
        # weight and bias gradients: summed over every axis they were broadcast along
        shape = None if self.weight is None else self.weight.shape
        gw = np.sum(g * x_hat, axis=self.param_axes).reshape(shape) \
            if len(need) > 1 and need[1] else None
        gb = np.sum(g, axis=self.param_axes).reshape(shape) if len(need) > 2 and need[2] else None
        return (gx, gw, gb)[:len(need)]


class _BatchNormCompiled(Function):
    """batch_norm on the compiled loops (native_loops.h: bn_stats, bn_apply, bn_backward):
    two passes over x forward (the statistics, then y), two backward (the channel
    sums, then dL/dx), where NumPy's reductions over (N, H, W) take about ten. Backward
    recomputes x_hat from x, the mean and 1/sigma instead of keeping it. Same formulas
    as _Normalize (see the module docstring)."""

    def forward(self, x, weight=None, bias=None, *, eps, stats=None, momentum=None,
                running=None):
        x3 = native.rows(x)
        if stats is None:
            mean, var = native.bn_stats(x3)
            if running is not None:
                _update_running(running, mean, var, x3.shape[0] * x3.shape[2], momentum)
        else:
            mean, var = (np.ascontiguousarray(a, x.dtype).reshape(-1) for a in stats)
        invstd = (1 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype)
        w = None if weight is None else np.ascontiguousarray(weight)
        b = None if bias is None else np.ascontiguousarray(bias)
        y3 = native.like_planes(x3, x3.shape[2:], x3.dtype)       # in x's (N, C) order
        native.bn_apply(x3, mean, invstd, w, b, y3)
        self.x3, self.mean, self.invstd, self.w = x3, mean, invstd, w
        self.batch_stats, self.shape = stats is None, x.shape
        return y3.reshape(x.shape)

    def backward(self, g):
        # dL/dx = (1/sigma)(g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)), g_hat = dL/dy w;
        # dL/dw = sum dL/dy x_hat;  dL/db = sum dL/dy  (fixed statistics: dL/dx = g_hat/sigma)
        need, x3 = self.needs_input_grad, self.x3
        g3 = native.rows(g)
        if g3 is None:
            g3 = np.ascontiguousarray(g).reshape(x3.shape)
        dx3 = native.like_planes(x3, x3.shape[2:], x3.dtype) if need[0] else None
        dw, db = native.bn_backward(g3, x3, self.mean, self.invstd, self.w, self.batch_stats,
                                    dx3)
        grads = (None if dx3 is None else dx3.reshape(self.shape),
                 dw if len(need) > 1 and need[1] else None,
                 db if len(need) > 2 and need[2] else None)
        return grads[:len(need)]


def _compiled(x, *params):
    """Whether batch_norm can run on the compiled loops for this input."""
    return (native.supports(x) and x.ndim >= 2 and x.size > 0 and native.rows(x) is not None
            and all(p is None or p.dtype == x.dtype for p in params))


def _update_running(running, mean, var, n, momentum):
    """running = (1 - m) running + m batch, in place: (mean, var) with the unbiased
    variance (PyTorch), (mean, var, False) with the batch's own (Keras)."""
    running_mean, running_var, *corrected = running
    m = running_mean.dtype.type(momentum)
    running_mean *= 1 - m
    running_mean += m * mean.reshape(-1)
    var = var.reshape(-1)
    if corrected[0] if corrected else True:
        var = var * (n / max(n - 1, 1))
    running_var *= 1 - m
    running_var += m * var


def _affine(weight, bias):
    return tuple(t for t in (weight, bias) if t is not None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, unbiased_running_var=True):
    """Normalise each channel (dim 1) over the batch and every other dim.

    training=True uses the batch's statistics and, when running_mean/var are given,
    updates them in place (momentum m: running = (1 - m) running + m batch, with the
    unbiased variance, or the batch's biased one with unbiased_running_var=False as
    Keras keeps it); training=False uses the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of at least 2 dims (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: expected {name} of shape ({c},) for input "
                             f"{tuple(input.shape)}, got {tuple(t.shape)}")
    if weight is None and bias is not None:
        raise ValueError("batch_norm: a bias without a weight is not supported")
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        if input.numel() // c <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}")
        running = None if running_mean is None else (running_mean._array, running_var._array,
                                                      bool(unbiased_running_var))
        if _compiled(input._array, *(t._array for t in _affine(weight, bias))):
            return _BatchNormCompiled.apply(input, *_affine(weight, bias), eps=eps,
                                            momentum=momentum, running=running)
        return _Normalize.apply(input, *_affine(weight, bias), axes=axes,
                                param_shape=param_shape, param_axes=axes, eps=eps,
                                momentum=momentum, running=running)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    stats = (running_mean._array.reshape(param_shape), running_var._array.reshape(param_shape))
    if _compiled(input._array, *(t._array for t in _affine(weight, bias))):
        return _BatchNormCompiled.apply(input, *_affine(weight, bias), eps=eps, stats=stats)
    return _Normalize.apply(input, *_affine(weight, bias), axes=axes, param_shape=param_shape,
                            param_axes=axes, eps=eps, stats=stats)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims of each sample."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last dims "
                         f"of the input {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: expected {name} of shape {shape}, got "
                             f"{tuple(t.shape)}")
    if weight is None and bias is not None:
        raise ValueError("layer_norm: a bias without a weight is not supported")
    axes = tuple(range(input.ndim - k, input.ndim))
    return _Normalize.apply(input, *_affine(weight, bias), axes=axes, param_shape=shape,
                            param_axes=tuple(range(input.ndim - k)), eps=eps)


def _window_sums(a, before, after):
    """Along axis 1: out[c] = sum of a[c - before .. c + after], missing channels as 0
    (one cumulative sum, so the cost does not grow with the window)."""
    n = a.shape[1]
    padded = np.zeros((a.shape[0], n + 1) + a.shape[2:], np.float64)
    np.cumsum(a, axis=1, dtype=np.float64, out=padded[:, 1:])
    hi = np.minimum(np.arange(n) + after + 1, n)
    lo = np.maximum(np.arange(n) - before, 0)
    return (padded[:, hi] - padded[:, lo]).astype(a.dtype, copy=False)


class LocalResponseNorm(Function):
    """AlexNet's local response normalisation across channels (axis 1):

        d_c = k + alpha / size * sum_{c' = c - size//2 .. c + (size-1)//2} x_c'^2
        y_c = x_c * d_c^(-beta)
    """

    def forward(self, x, *, size, alpha, beta, k):
        self.before, self.after = size // 2, (size - 1) // 2
        self.scale, self.beta = alpha / size, beta
        d = _window_sums(np.square(x), self.before, self.after)
        d *= x.dtype.type(self.scale)
        d += x.dtype.type(k)
        y = x * d ** x.dtype.type(-beta)
        if self.needs_input_grad[0]:
            self.x, self.d, self.y = x, d, y
        return y

    def backward(self, g):
        # dL/dx_j = g_j d_j^-beta - 2 alpha beta / size * x_j * sum_{c: j in window(c)} g_c y_c / d_c
        # (j is in c's window when c runs from j - after to j + before)
        x, d, y = self.x, self.d, self.y
        coupled = _window_sums(g * y / d, self.after, self.before)
        dx = g * d ** x.dtype.type(-self.beta)
        dx -= x.dtype.type(2 * self.scale * self.beta) * x * coupled
        return dx


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """PyTorch's F.local_response_norm: each value divided by (k + alpha * mean of the
    squares over `size` neighbouring channels) ** beta. input: (N, C, ...)."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of at least 3 dims "
                         f"(N, C, ...), got shape {input.shape}")
    if int(size) != size or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta),
                                   k=float(k))


class Embedding(Function):
    def forward(self, indices, weight, *, padding_idx):
        self.indices, self.shape, self.padding_idx = indices, weight.shape, padding_idx
        return weight[indices]

    def backward(self, g):  # dL/dW[i] = sum of dL/dy over every position that looked up row i
        grad = np.zeros(self.shape, g.dtype)
        np.add.at(grad, self.indices.reshape(-1), g.reshape(-1, self.shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return None, grad


def embedding(input, weight, padding_idx=None):
    """Rows of weight (num_embeddings, dim) looked up by the integer tensor input."""
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    n = weight.shape[0]
    if input._array.size and (input._array.min() < 0 or input._array.max() >= n):
        bad = input._array.max() if input._array.max() >= n else input._array.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return Embedding.apply(input, weight, padding_idx=padding_idx)
