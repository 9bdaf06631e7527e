"""Metrics on predictions: plain NumPy, for Tensors or arrays, no graph.

Classification outputs may be class scores (N, C), of which the argmax is the
prediction, or predicted labels (N,). Targets are integer class labels (N,).
Confusion matrices put the true class in rows and the predicted class in columns
(scikit-learn's convention). Scalars come back as Python floats, per-class
results as NumPy arrays.
"""
import numpy as np

from .tensor import as_array

__all__ = ["accuracy", "binary_accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1", "roc_auc",
           "mse", "mae"]


def _as_labels(x, op, what):
    """Integer class labels (N,) from a label array of any numeric dtype."""
    if x.ndim != 1:
        raise ValueError(f"{op}: expected {what} labels of shape (N,), got {x.shape}")
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64, copy=False)
    if not np.issubdtype(x.dtype, np.floating) or not np.all(x == np.round(x)):
        raise ValueError(f"{op}: {what} labels must be whole numbers, got dtype {x.dtype}")
    return x.astype(np.int64)


def _labels(output, target, op):
    """(predicted, target) label arrays from scores (N, C) or labels (N,)."""
    output, target = as_array(output), as_array(target)
    if output.ndim not in (1, 2):
        raise ValueError(f"{op}: expected scores (N, C) or labels (N,), got {output.shape}")
    predicted = output.argmax(axis=1) if output.ndim == 2 else _as_labels(output, op, "predicted")
    target = _as_labels(target, op, "target")
    if predicted.shape != target.shape:
        raise ValueError(f"{op}: {predicted.shape[0]} predictions for {target.shape[0]} "
                         f"targets (output shape {output.shape}, target shape {target.shape})")
    return predicted, target


def _nonempty(n, op):
    if n == 0:
        raise ValueError(f"{op}: got no samples")


def accuracy(output, target):
    """The fraction of samples whose predicted class is the target."""
    predicted, target = _labels(output, target, "accuracy")
    _nonempty(target.size, "accuracy")
    return float(np.mean(predicted == target))


def binary_accuracy(output, target, threshold=0.5):
    """The fraction of samples whose probability (N,) falls on the target's side of
    `threshold` (predicted 1 where output > threshold); targets are 0/1 labels (N,)."""
    output, target = as_array(output), _as_labels(as_array(target), "binary_accuracy", "target")
    if output.shape != target.shape:
        raise ValueError(f"binary_accuracy: expected one probability per target {target.shape}, "
                         f"got output shape {output.shape}")
    _nonempty(target.size, "binary_accuracy")
    return float(np.mean((output > threshold) == (target == 1)))


def top_k_accuracy(output, target, k=5):
    """The fraction of samples whose target is among the k highest scores of (N, C).
    A target tied with the k-th highest score counts as a hit; k >= C scores 1."""
    scores, target = as_array(output), _as_labels(as_array(target), "top_k_accuracy", "target")
    if scores.ndim != 2 or scores.shape[0] != target.shape[0]:
        raise ValueError(f"top_k_accuracy: expected scores (N, C) for {target.shape[0]} "
                         f"targets, got {scores.shape}")
    if int(k) != k or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive integer, got {k!r}")
    n, c = scores.shape
    _nonempty(n, "top_k_accuracy")
    if target.min() < 0 or target.max() >= c:
        raise ValueError(f"top_k_accuracy: target labels must lie in [0, {c}) for scores "
                         f"{scores.shape}, got range [{target.min()}, {target.max()}]")
    k = min(int(k), c)
    rows = np.arange(n)
    # the k-th largest score sits at position c - k once each row is partitioned
    kth = scores[rows, np.argpartition(scores, c - k, axis=1)[:, c - k]]
    return float(np.mean(scores[rows, target] >= kth))


def confusion_matrix(target, predicted, num_classes=None):
    """(C, C) int64 counts: [i, j] = number of samples of true class i predicted as j.
    C is num_classes, or else one more than the largest label seen."""
    predicted, target = _labels(predicted, target, "confusion_matrix")
    seen_max = int(max(predicted.max(initial=-1), target.max(initial=-1)))
    if num_classes is None:
        num_classes = seen_max + 1
    elif int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"confusion_matrix: num_classes must be a positive integer, "
                         f"got {num_classes!r}")
    n = int(num_classes)
    seen_min = int(min(predicted.min(initial=0), target.min(initial=0)))
    if seen_min < 0 or seen_max >= n:
        raise ValueError(f"confusion_matrix: labels must lie in [0, {n}), "
                         f"got range [{seen_min}, {seen_max}]")
    return np.bincount(target * n + predicted, minlength=n * n).astype(np.int64).reshape(n, n)


def precision_recall_f1(target, predicted, average="macro", num_classes=None):
    """(precision, recall, F1): per class as arrays (average=None), their unweighted
    mean ('macro'), or from the counts pooled over classes ('micro').

    A class never predicted (never present) scores 0 precision (recall), like
    scikit-learn's zero_division=0. Without num_classes, 'macro' averages over the
    classes that occur in target or predicted, as scikit-learn does; with it, over
    all num_classes classes."""
    if average not in ("macro", "micro", None):
        raise ValueError(f"precision_recall_f1: average must be 'macro', 'micro' or None, "
                         f"got {average!r}")
    cm = confusion_matrix(target, predicted, num_classes)
    _nonempty(cm.sum(), "precision_recall_f1")
    tp = np.diag(cm).astype(np.float64)
    predicted_n, actual_n = cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        tp, predicted_n, actual_n = tp.sum(), predicted_n.sum(), actual_n.sum()
    precision = _safe_divide(tp, predicted_n)
    recall = _safe_divide(tp, actual_n)
    f1 = _safe_divide(2 * tp, predicted_n + actual_n)   # = 2PR / (P + R)
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return float(precision), float(recall), float(f1)
    present = (predicted_n + actual_n > 0) if num_classes is None else slice(None)
    return tuple(float(m[present].mean()) for m in (precision, recall, f1))


def _safe_divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros(np.shape(numerator))
    return np.divide(numerator, denominator, out=out, where=np.asarray(denominator) > 0)


def _average_ranks(values):
    """Ranks 1..n of values, tied values sharing the mean of their ranks."""
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)
    return (last_rank - (counts - 1) / 2)[group.reshape(-1)]


def _binary_auc(positive, scores, op):
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"{op}: ROC AUC needs both positive and negative samples, got "
                         f"{n_pos} positive and {n_neg} negative")
    ranks = _average_ranks(scores)
    # Mann-Whitney U / (n_pos n_neg): the chance a random positive outscores a random
    # negative, ties counting one half
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(target, scores, multi_class="ovr"):
    """Area under the ROC curve. Binary: target 0/1 with scores (N,) or (N, 2)
    (column 1 scores the positive class). Multiclass: (N, C) scores, one-vs-rest,
    macro-averaged over the C classes."""
    if multi_class != "ovr":
        raise ValueError(f"roc_auc: only multi_class='ovr' is supported, got {multi_class!r}")
    target, scores = _as_labels(as_array(target), "roc_auc", "target"), as_array(scores)
    if scores.ndim not in (1, 2) or scores.shape[0] != target.shape[0]:
        raise ValueError(f"roc_auc: expected scores (N,) or (N, C) for {target.shape[0]} "
                         f"targets, got {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError(f"roc_auc: scores {scores.shape} contain NaN")
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    n_classes = 2 if scores.ndim == 1 else scores.shape[1]
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        raise ValueError(f"roc_auc: target labels must lie in [0, {n_classes}) for scores "
                         f"{scores.shape}, got range [{target.min()}, {target.max()}]")
    if scores.ndim == 1:
        return _binary_auc(target == 1, scores, "roc_auc")
    # a loop over classes, not samples: each class is one vectorised binary AUC
    return float(np.mean([_binary_auc(target == c, scores[:, c], f"roc_auc (class {c})")
                          for c in range(n_classes)]))


def _without_ones(shape):
    return tuple(d for d in shape if d != 1)


def _difference(output, target, op):
    """output - target, for equal shapes or shapes that differ only by size-1 axes
    ((N, 1) against (N,)), never broadcasting (N, 1) against (N,) into (N, N)."""
    output, target = as_array(output), as_array(target)
    if output.shape != target.shape:
        if _without_ones(output.shape) != _without_ones(target.shape):
            raise ValueError(f"{op}: output {output.shape} and target {target.shape} "
                             f"must have the same shape")
        output, target = output.reshape(-1), target.reshape(-1)
    _nonempty(output.size, op)
    return output - target


def mse(output, target):
    """Mean squared error."""
    return float(np.mean(np.square(_difference(output, target, "mse"))))


def mae(output, target):
    """Mean absolute error."""
    return float(np.mean(np.abs(_difference(output, target, "mae"))))
