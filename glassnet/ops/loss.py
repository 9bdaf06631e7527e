"""Loss functions: how far predictions are from targets, per element or reduced.

Each loss is one Function: the per-element terms, their reduction and the
gradient all happen in a single node, so a training step records one node for
its loss and every log or exponential is taken in a form that cannot overflow.

`reduction` is 'none' (one loss per element or position), 'sum', or 'mean'. For
the class-index losses (nll_loss, cross_entropy) 'mean' divides by the summed
weights of the targets that are not `ignore_index`, as PyTorch does.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import binary_operands
from .activation import _sigmoid, _softmax_parts

__all__ = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "nll_loss", "cross_entropy"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction, divisor):
    """The per-element losses summed, averaged (sum / divisor) or left as they are."""
    if reduction == "none":
        return loss
    total = np.sum(loss)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):  # nothing to average: nan, as PyTorch
        return np.asarray(total / divisor)


def _per_element_grad(g, reduction, divisor):
    """dL/d(each element's loss) from dL/d(the reduced loss)."""
    if reduction != "mean":
        return g
    return g / divisor if divisor else np.zeros_like(g)


class _PointwiseLoss(Function):
    """Losses that score each element on its own. `score` returns the per-element loss and,
    for each input that needs a gradient, d(loss)/d(input) elementwise."""

    def forward(self, *arrays, reduction, **params):
        loss, self.local = self.score(*arrays, **params)
        self.reduction, self.divisor = reduction, loss.dtype.type(loss.size)
        return _reduce(loss, reduction, self.divisor)

    def backward(self, g):  # dL/dx = dL/d(loss) * d(loss)/dx, elementwise
        g = _per_element_grad(g, self.reduction, self.divisor)
        return tuple(None if d is None else g * d for d in self.local)

    def derivatives(self, *pairs):
        """Keep (d/dinput, d/dtarget), each only if that input needs a gradient."""
        return tuple(d() if need else None for need, d in zip(self.needs_input_grad, pairs))


class MSELoss(_PointwiseLoss):
    def score(self, x, t):
        d = x - t  # loss = d^2: d/dx = 2 d, d/dt = -2 d
        return d * d, self.derivatives(lambda: 2 * d, lambda: -2 * d)


class L1Loss(_PointwiseLoss):
    def score(self, x, t):
        d = x - t  # loss = |d|: d/dx = sign(d), d/dt = -sign(d)
        return np.abs(d), self.derivatives(lambda: np.sign(d), lambda: -np.sign(d))


class BCELoss(_PointwiseLoss):
    def score(self, x, t, weight):
        with np.errstate(divide="ignore"):  # log 0 = -inf, clamped at -100 as PyTorch does
            log_x = np.maximum(np.log(x), x.dtype.type(-100))
            log_1mx = np.maximum(np.log1p(-x), x.dtype.type(-100))
        loss = -(t * log_x + (1 - t) * log_1mx)
        # d/dx = (x - t) / (x (1 - x)), its denominator kept >= 1e-12;  d/dt = log(1-x) - log x
        dx, dt = self.derivatives(
            lambda: (x - t) / np.maximum(x * (1 - x), x.dtype.type(1e-12)),
            lambda: log_1mx - log_x)
        return _weighted(loss, dx, dt, weight)


class BCEWithLogitsLoss(_PointwiseLoss):
    def score(self, x, t, weight, pos_weight):
        # With sp = softplus(-x) = log(1 + e^-|x|) + max(-x, 0) = -log sigmoid(x) and
        # l = 1 + (pos_weight - 1) t:  loss = (1 - t) x + l sp
        e = np.exp(-np.abs(x))
        sp = np.log1p(e) + np.maximum(-x, x.dtype.type(0))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + log_weight * sp
        # d/dx = (1 - t) - l sigmoid(-x);  d/dt = -x + (pos_weight - 1) sp
        dx, dt = self.derivatives(
            lambda: (1 - t) - log_weight * _sigmoid(-x, e),
            lambda: -x if pos_weight is None else (pos_weight - 1) * sp - x)
        return _weighted(loss, dx, dt, weight)


def _weighted(loss, dx, dt, weight):
    if weight is None:
        return loss, (dx, dt)
    return loss * weight, tuple(None if d is None else d * weight for d in (dx, dt))


# ------------------------------------------------------- class-index losses
def _batched(x, t):
    """An unbatched (C,) input and its 0-d target as a batch of one."""
    return (x[None], t[None]) if x.ndim == 1 else (x, t)


def _class_weights(x, t, weight, ignore_index, op):
    """For every position: the target index (as a size-1 dim 1, ready for take_along_axis),
    the target's weight (0 where ignored) and whether it counts at all."""
    classes = x.shape[1]
    counted = t != ignore_index
    bad = counted & ((t < 0) | (t >= classes))
    if bad.any():
        raise ValueError(f"{op}: target class {t[bad].flat[0]} is out of range for "
                         f"{classes} classes")
    index = np.where(counted, t, 0)
    keep = counted.astype(x.dtype)
    wt = keep if weight is None else weight[index] * keep
    return np.expand_dims(index, 1), wt, keep


def _class_axis_shape(weight, ndim):
    """A (C,) weight shaped (1, C, 1, ...) to broadcast against an (N, C, d1, ...) input."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


class _ClassLoss(Function):
    """Shared bookkeeping of nll_loss and cross_entropy: batching, reduction, shapes."""

    def finish(self, x_shape, loss, reduction, divisor):
        self.x_shape, self.positions = x_shape, loss.shape
        self.reduction, self.divisor = reduction, divisor
        out = _reduce(loss, reduction, divisor)
        return out.reshape(()) if reduction == "none" and len(x_shape) == 1 else out

    def position_grad(self, g, wt=None):
        """dL/d(each position's loss), times wt if given, as a size-1 dim 1 of the batch."""
        g = _per_element_grad(g, self.reduction, self.divisor)
        return np.expand_dims(np.broadcast_to(g, self.positions) if wt is None else g * wt, 1)


class NLLLoss(_ClassLoss):
    def forward(self, x, t, weight, ignore_index, reduction):
        shape = x.shape
        x, t = _batched(x, t)
        index, wt, _ = _class_weights(x, t, weight, ignore_index, "nll_loss")
        if self.needs_input_grad[0]:
            self.index, self.wt, self.batched_shape = index, wt, x.shape
        loss = -wt * np.take_along_axis(x, index, 1)[:, 0]
        return self.finish(shape, loss, reduction, np.sum(wt))

    def backward(self, g):  # dL/dx[i, c] = -w_c dL/dloss_i where c is the target of i, else 0
        gx = np.zeros(self.batched_shape, g.dtype)
        np.put_along_axis(gx, self.index, -self.position_grad(g, self.wt), 1)
        return gx.reshape(self.x_shape), None


class CrossEntropyIndex(_ClassLoss):
    """log_softmax + NLL on class indices in one node. With p = softmax(x) along dim 1 and
    the target distribution q_c = (1 - s) w_t [c = t] + (s / C) w_c (s the label smoothing),
    loss = -sum_c q_c log p_c  and  dL/dx = (sum_c q_c) p - q."""

    def forward(self, x, t, weight, ignore_index, reduction, label_smoothing):
        shape, smooth = x.shape, label_smoothing
        x, t = _batched(x, t)
        classes = x.shape[1]
        index, wt, keep = _class_weights(x, t, weight, ignore_index, "cross_entropy")
        shifted, e, total = _softmax_parts(x, 1)
        log_total = np.log(total)
        loss = (smooth - 1) * wt * (np.take_along_axis(shifted, index, 1) - log_total)[:, 0]
        class_w = None if weight is None else _class_axis_shape(weight, x.ndim)
        if smooth:
            log_p = shifted - log_total
            loss -= (smooth / classes) * keep * np.sum(
                log_p if class_w is None else log_p * class_w, axis=1)
        if self.needs_input_grad[0]:
            all_w = classes if weight is None else np.sum(weight)
            e /= total  # e becomes p = softmax(x)
            self.p, self.index, self.wt, self.keep = e, index, wt, keep
            self.q_total = (1 - smooth) * wt + (smooth / classes) * all_w * keep
            self.class_w, self.smooth = class_w, smooth
        return self.finish(shape, loss, reduction, np.sum(wt))

    def backward(self, g):  # dL/dx = (sum_c q_c) p - q, per position
        grad = self.p * self.position_grad(g, self.q_total)
        classes = grad.shape[1]
        if self.smooth:
            spread = self.position_grad(g, self.keep) * (self.smooth / classes)
            grad -= spread if self.class_w is None else spread * self.class_w
        target_part = self.position_grad(g, self.wt) * (1 - self.smooth)
        np.put_along_axis(grad, self.index,
                          np.take_along_axis(grad, self.index, 1) - target_part, 1)
        return grad.reshape(self.x_shape), None


class CrossEntropyProb(_ClassLoss):
    """log_softmax + cross-entropy against class probabilities in one node. With
    q = w (t (1 - s) + s / C):  loss = -sum_c q_c log p_c,  dL/dx = (sum_c q_c) p - q,
    dL/dt = -(1 - s) w log p."""

    def forward(self, x, t, weight, reduction, label_smoothing):
        shape, smooth = x.shape, label_smoothing
        x, t = _batched(x, t)
        classes = x.shape[1]
        class_w = None if weight is None else _class_axis_shape(weight, x.ndim)
        q = t * (1 - smooth) + smooth / classes if smooth else t
        if class_w is not None:
            q = q * class_w
        shifted, e, total = _softmax_parts(x, 1)
        log_p = shifted - np.log(total)
        loss = -np.sum(q * log_p, axis=1)
        need_x, need_t = self.needs_input_grad
        if need_x:
            e /= total  # e becomes p = softmax(x)
        self.p, self.q = (e, q) if need_x else (None, None)
        self.log_p, self.class_w, self.smooth = (log_p if need_t else None), class_w, smooth
        return self.finish(shape, loss, reduction, x.dtype.type(loss.size))

    def backward(self, g):
        gx = gt = None
        if self.needs_input_grad[0]:  # dL/dx = (sum_c q_c) p - q
            gx = self.p * np.sum(self.q, axis=1, keepdims=True) - self.q
            gx = (gx * self.position_grad(g)).reshape(self.x_shape)
        if self.needs_input_grad[1]:  # dL/dt = -(1 - s) w log p
            gt = self.log_p * (self.position_grad(g) * (self.smooth - 1))
            gt = (gt if self.class_w is None else gt * self.class_w).reshape(self.x_shape)
        return gx, gt


# ----------------------------------------------------------------- functions
def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _as_tensor(value, op, what):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, list, tuple)):
        return Tensor(value)
    raise TypeError(f"{op}: {what} must be a Tensor, got {type(value).__name__}")


def _float_input(input, op):
    input = _as_tensor(input, op, "input")
    if input._array.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {input._array.dtype}")
    return input


def _same_shape_operands(input, target, op):
    """input and a float target of input's shape (ints and bools are cast), dtypes promoted."""
    input, target = _float_input(input, op), _as_tensor(target, op, "target")
    if target.shape != input.shape:
        raise ValueError(f"{op}: target of shape {target.shape} does not match input of shape "
                         f"{input.shape}")
    if target._array.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must hold numbers, got {target._array.dtype}")
    if target._array.dtype.kind != "f":
        target = Tensor._make(target._array.astype(input._array.dtype), False, None)
    return binary_operands(input, target, op)


def _constant(value, dtype, shape, op, what):
    """A weight as an array of the input's dtype that broadcasts to `shape` (not differentiable)."""
    if value is None:
        return None
    array = np.asarray(value._array if isinstance(value, Tensor) else value, dtype=dtype)
    try:
        fits = np.broadcast_shapes(array.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {what} of shape {array.shape} does not broadcast to the "
                         f"input's shape {tuple(shape)}")
    return array


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, per element or reduced."""
    _check_reduction(reduction, "mse_loss")
    return MSELoss.apply(*_same_shape_operands(input, target, "mse_loss"), reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target|, per element or reduced."""
    _check_reduction(reduction, "l1_loss")
    return L1Loss.apply(*_same_shape_operands(input, target, "l1_loss"), reduction=reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1], each log >= -100."""
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    input, target = _same_shape_operands(input, target, op)
    x = input._array
    if not np.all((x >= 0) & (x <= 1)):
        raise ValueError(f"{op}: all elements of input should be probabilities in [0, 1], "
                         f"got values from {np.nanmin(x):g} to {np.nanmax(x):g} (for logits "
                         "use binary_cross_entropy_with_logits)")
    weight = _constant(weight, x.dtype, x.shape, op, "weight")
    return BCELoss.apply(input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) from logits, stable for any magnitude:
    max(x, 0) - x t + log(1 + e^-|x|), with pos_weight scaling the positive term."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input, target = _same_shape_operands(input, target, op)
    dtype, shape = input._array.dtype, input.shape
    return BCEWithLogitsLoss.apply(
        input, target, weight=_constant(weight, dtype, shape, op, "weight"),
        pos_weight=_constant(pos_weight, dtype, shape, op, "pos_weight"), reduction=reduction)


def _class_operands(input, target, weight, op):
    """Checks shared by nll_loss and cross_entropy; returns (input, target, weight array)."""
    input, target = _float_input(input, op), _as_tensor(target, op, "target")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dim, (C,) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    classes = input.shape[1 if input.ndim > 1 else 0]
    if weight is not None:
        weight = np.asarray(weight._array if isinstance(weight, Tensor) else weight,
                            dtype=input._array.dtype)
        if weight.shape != (classes,):
            raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},), "
                             f"got {weight.shape}")
    return input, target, weight


def _check_index_target(input, target, op):
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if target._array.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers (int64), got "
                        f"{target._array.dtype} of shape {target.shape} for input of shape "
                        f"{input.shape}")
    if target.shape != expected:
        raise ValueError(f"{op}: for input of shape {input.shape} the class-index target must "
                         f"have shape {expected}, got {target.shape}")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w_t input[t] for each position's target class t: the negative log-likelihood of
    log-probabilities in dim 1 of an (N, C, d1, ...) or (C,) input."""
    _check_reduction(reduction, "nll_loss")
    input, target, weight = _class_operands(input, target, weight, "nll_loss")
    _check_index_target(input, target, "nll_loss")
    return NLLLoss.apply(input, target, weight=weight, ignore_index=ignore_index,
                         reduction=reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between softmax(input) along dim 1 and the target: class indices
    (integers, input's shape without dim 1) or class probabilities (floats, input's shape).
    One node from logits to loss, stable for logits of any size."""
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, "
                         f"got {label_smoothing}")
    input, target, weight = _class_operands(input, target, weight, op)
    if target._array.dtype.kind == "f":
        if target.shape != input.shape:
            raise ValueError(f"{op}: a floating-point target holds class probabilities and "
                             f"must have the input's shape {input.shape}, got {target.shape} "
                             "(class indices must be int64)")
        input, target = binary_operands(input, target, op)
        return CrossEntropyProb.apply(input, target, weight=weight, reduction=reduction,
                                      label_smoothing=label_smoothing)
    _check_index_target(input, target, op)
    return CrossEntropyIndex.apply(input, target, weight=weight, ignore_index=ignore_index,
                                   reduction=reduction, label_smoothing=label_smoothing)
