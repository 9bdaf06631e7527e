"""Keras's losses by name, as functions (y_true, y_pred) -> one loss per sample, and as
classes. A model averages them over the batch (Keras's 'sum_over_batch_size').

From probabilities Keras computes the cross-entropies as TensorFlow does: probabilities
clipped to [1e-7, 1 - 1e-7]. When the probabilities come straight from a softmax (or
sigmoid) layer, the model hands the loss that layer's logits instead (`logits=`), and the
loss is glassnet's fused, stable log-softmax cross-entropy: the same value, one node.
"""
import numpy as np

from ..ops import loss as L
from ..tensor import Tensor

EPSILON = 1e-7


def _tensor(y, dtype=None):
    if isinstance(y, Tensor):
        return y
    array = np.asarray(y)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind == "f":
        array = array.astype(np.float32, copy=False)
    return Tensor(array)


def _rows(t):
    """(N, ..., C) as (N * ..., C) so the class axis is dim 1 for glassnet's losses."""
    return t if t.ndim == 2 else t.reshape(-1, t.shape[-1])


def _per_sample(values, like):
    """Per-row losses back to the samples' leading shape (N, ...) without the class axis."""
    return values if like.ndim == 2 else values.reshape(*like.shape[:-1])


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1,
                             logits=None):
    y_true = _tensor(y_true)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy: targets of shape {tuple(y_true.shape)} do "
                         f"not match predictions of shape {tuple(y_pred.shape)} (one-hot targets "
                         "are expected; for integer labels use sparse_categorical_crossentropy)")
    if from_logits or logits is not None:
        z = y_pred if from_logits else logits
        out = L.cross_entropy(_rows(z), _rows(y_true), reduction="none",
                              label_smoothing=label_smoothing)
        return _per_sample(out, z)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    p = y_pred / y_pred.sum(-1, keepdim=True)
    return -(y_true * p.clamp(EPSILON, 1 - EPSILON).log()).sum(-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1, logits=None):
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy: ignore_class is not "
                                  "supported yet")
    y_true = _tensor(y_true, np.int64)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(*y_true.shape[:-1])
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"sparse_categorical_crossentropy: integer targets of shape "
                         f"{tuple(y_true.shape)} do not match predictions of shape "
                         f"{tuple(y_pred.shape)}")
    z = y_pred if from_logits else logits
    if z is None:   # probabilities: the log of the clipped, renormalised probability
        z = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON).log()
        out = L.nll_loss(_rows(z), y_true.reshape(-1), reduction="none")
    else:
        out = L.cross_entropy(_rows(z), y_true.reshape(-1), reduction="none")
    return _per_sample(out, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1,
                        logits=None):
    y_true = _tensor(y_true, np.float32)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        if y_true.numel() != y_pred.numel():
            raise ValueError(f"binary_crossentropy: targets of shape {tuple(y_true.shape)} do "
                             f"not match predictions of shape {tuple(y_pred.shape)}")
        y_true = y_true.reshape(*y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits or logits is not None:
        z = y_pred if from_logits else logits
        return L.binary_cross_entropy_with_logits(z, y_true, reduction="none").mean(-1)
    p = y_pred.clamp(EPSILON, 1 - EPSILON)
    return -(y_true * (p + EPSILON).log() + (1 - y_true) * (1 - p + EPSILON).log()).mean(-1)


def _same_shape(y_true, y_pred, name):
    y_true = _tensor(y_true, np.float32)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        if y_true.numel() != y_pred.numel():
            raise ValueError(f"{name}: targets of shape {tuple(y_true.shape)} do not match "
                             f"predictions of shape {tuple(y_pred.shape)}")
        y_true = y_true.reshape(*y_pred.shape)
    return y_true


def mean_squared_error(y_true, y_pred, logits=None):
    return ((y_pred - _same_shape(y_true, y_pred, "mean_squared_error")) ** 2).mean(-1)


def mean_absolute_error(y_true, y_pred, logits=None):
    return (y_pred - _same_shape(y_true, y_pred, "mean_absolute_error")).abs().mean(-1)


mse, mae = mean_squared_error, mean_absolute_error
FUSES_LOGITS = {categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy}


class Loss:
    """A loss object: `fn` with its options, called as loss(y_true, y_pred)."""
    fn = None

    def __init__(self, reduction="sum_over_batch_size", name=None, **options):
        if reduction not in ("sum_over_batch_size", "auto", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}")
        self.reduction, self.options = reduction, options
        self.name = name or type(self).fn.__name__

    def per_sample(self, y_true, y_pred, logits=None):
        fn = type(self).fn
        extra = {"logits": logits} if fn in FUSES_LOGITS or logits is not None else {}
        return fn(y_true, y_pred, **self.options, **extra)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(y_true, _tensor(y_pred))
        if sample_weight is not None:
            values = values * _tensor(sample_weight, np.float32)
        if self.reduction == "none":
            return values
        return values.sum() if self.reduction == "sum" else values.mean()

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.options}


class _FunctionLoss(Loss):
    """A user's function(y_true, y_pred) as a Loss."""

    def __init__(self, fn):
        super().__init__(name=getattr(fn, "__name__", "loss"))
        self.function = fn

    def per_sample(self, y_true, y_pred, logits=None):
        return self.function(y_true, y_pred)


def _loss_class(name, fn, **defaults):
    def __init__(self, reduction="sum_over_batch_size", name=None, **options):
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) "
                            f"{', '.join(sorted(unknown))}")
        Loss.__init__(self, reduction, name, **{**defaults, **options})
    return type(name, (Loss,), {"fn": staticmethod(fn), "__init__": __init__})


CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy",
                                            sparse_categorical_crossentropy, from_logits=False)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, from_logits=False,
                                 label_smoothing=0.0)
MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error)

_BY_NAME = {"categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "binary_crossentropy": BinaryCrossentropy,
            "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
            "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError}


def get(identifier):
    """A Loss from a name ('categorical_crossentropy'), a Loss, or a function
    (y_true, y_pred) -> per-sample (or already averaged) losses."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"compile: unknown loss {identifier!r}; use one of "
                             f"{', '.join(sorted(_BY_NAME))}, a Loss or a function")
        return _BY_NAME[identifier]()
    if callable(identifier):
        return _FunctionLoss(identifier)
    raise TypeError(f"compile: a loss must be a name, a Loss or a function, got {identifier!r}")
