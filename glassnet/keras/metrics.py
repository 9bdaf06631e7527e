"""Keras's metrics by name: functions (y_true, y_pred) -> one value per sample, on NumPy
arrays (a metric needs no gradient). `resolve` turns compile's metric names into them the
way Keras does: 'accuracy' means binary accuracy for one output unit, sparse categorical
accuracy for integer labels, categorical accuracy for one-hot targets.
"""
import numpy as np

from ..tensor import Tensor


def _array(y):
    return y._array if isinstance(y, Tensor) else np.asarray(y)


def categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == y_pred.argmax(-1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = y_true.reshape(y_pred.shape)
    return ((y_pred > threshold) == (y_true > 0.5)).astype(np.float32).mean(-1)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_true, y_pred = _array(y_true), _array(y_pred)
    target = y_pred[np.arange(len(y_pred)), y_true.argmax(-1)]
    return ((y_pred > target[:, None]).sum(-1) < k).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    y_pred = _array(y_pred)
    return np.square(y_pred - _array(y_true).reshape(y_pred.shape)).mean(-1)


def mean_absolute_error(y_true, y_pred):
    y_pred = _array(y_pred)
    return np.abs(y_pred - _array(y_true).reshape(y_pred.shape)).mean(-1)


_BY_NAME = {"categorical_accuracy": categorical_accuracy,
            "sparse_categorical_accuracy": sparse_categorical_accuracy,
            "binary_accuracy": binary_accuracy,
            "top_k_categorical_accuracy": top_k_categorical_accuracy,
            "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
            "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error}


def _accuracy_for(y_true_shape, y_pred_shape):
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


def resolve(metric, y_true_shape, y_pred_shape):
    """(name, fn) for one entry of compile(metrics=[...])."""
    if isinstance(metric, str):
        if metric in ("accuracy", "acc"):
            return metric, _accuracy_for(tuple(y_true_shape), tuple(y_pred_shape))
        if metric not in _BY_NAME:
            raise ValueError(f"compile: unknown metric {metric!r}; use 'accuracy' or one of "
                             f"{', '.join(sorted(_BY_NAME))}, or a function")
        return metric, _BY_NAME[metric]
    if callable(metric):
        name = getattr(metric, "name", None) or getattr(metric, "__name__", "metric")
        return name, metric
    raise TypeError(f"compile: a metric must be a name or a function, got {metric!r}")


def mean_value(fn, y_true, y_pred):
    """The batch mean of a metric (a user's function may take and return tensors)."""
    if fn in _BY_NAME.values():
        return float(np.mean(fn(y_true, y_pred)))
    value = fn(y_true if isinstance(y_true, Tensor) else Tensor(np.asarray(y_true)), y_pred)
    return float(np.mean(_array(value)))
