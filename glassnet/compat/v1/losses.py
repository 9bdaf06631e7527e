"""tf.losses (TF1): losses reduced as TensorFlow's default SUM_BY_NONZERO_WEIGHTS does
with unit weights, i.e. the mean."""
import numpy as np

import glassnet.nn.functional as F
from . import _ops, dtypes as _d


def _sparse_mean(labels, logits):
    return F.cross_entropy(logits, labels.astype(np.int64))


def _mse(labels, predictions):
    return F.mse_loss(predictions, labels)


def _unit(weights):
    if not (isinstance(weights, (int, float)) and weights == 1.0):
        raise NotImplementedError("losses: only weights=1.0 is supported")


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, **kwargs):
    _unit(weights)
    logits = _ops.as_tensor(logits)
    labels = _ops.as_tensor(labels, dtype=_d.int32)
    return _ops._op(_sparse_mean, [labels, logits], "SparseSoftmaxCrossEntropy", scope)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          **kwargs):
    _unit(weights)
    if label_smoothing:
        raise NotImplementedError("losses.softmax_cross_entropy: label_smoothing")
    from .nn import softmax_cross_entropy_with_logits
    return _ops.reduce_mean(softmax_cross_entropy_with_logits(labels=onehot_labels,
                                                              logits=logits))


def mean_squared_error(labels, predictions, weights=1.0, scope=None, **kwargs):
    _unit(weights)
    labels, predictions = _ops._pair(labels, predictions)
    if labels.dtype != predictions.dtype:
        labels = _ops.cast(labels, predictions.dtype)
    return _ops._op(_mse, [labels, predictions], "MeanSquaredError", scope)
