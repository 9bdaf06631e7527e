"""Metrics on predictions: plain NumPy, for Tensors or arrays, no graph.

Classification outputs may be class scores (N, C), of which the argmax is the
prediction, or predicted labels (N,). Confusion matrices put the true class in
rows and the predicted class in columns (scikit-learn's convention).
"""
import numpy as np

from .tensor import Tensor

__all__ = ["accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1", "roc_auc",
           "mse", "mae"]


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _labels(output, target, op):
    output, target = _array(output), _array(target).reshape(-1)
    predicted = output.argmax(axis=1) if output.ndim == 2 else output.reshape(-1)
    if predicted.shape != target.shape:
        raise ValueError(f"{op}: {predicted.shape[0]} predictions for {target.shape[0]} "
                         f"targets (output shape {output.shape})")
    return predicted.astype(np.int64), target.astype(np.int64)


def accuracy(output, target):
    """The fraction of samples whose predicted class is the target."""
    predicted, target = _labels(output, target, "accuracy")
    return float(np.mean(predicted == target)) if target.size else float("nan")


def top_k_accuracy(output, target, k=5):
    """The fraction of samples whose target is among the k highest scores."""
    scores, target = _array(output), _array(target).reshape(-1).astype(np.int64)
    if scores.ndim != 2 or scores.shape[0] != target.shape[0]:
        raise ValueError(f"top_k_accuracy: expected scores (N, C) for {target.shape[0]} targets, "
                         f"got {scores.shape}")
    k = min(k, scores.shape[1])
    target_score = scores[np.arange(len(target)), target]
    higher = (scores > target_score[:, None]).sum(axis=1)   # ties count in the target's favour
    return float(np.mean(higher < k))


def confusion_matrix(target, predicted, num_classes=None):
    """counts[i, j] = number of samples of true class i predicted as class j."""
    predicted, target = _labels(predicted, target, "confusion_matrix")
    n = num_classes or int(max(predicted.max(initial=-1), target.max(initial=-1)) + 1)
    if target.size and (min(target.min(), predicted.min()) < 0 or
                        max(target.max(), predicted.max()) >= n):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {n})")
    return np.bincount(target * n + predicted, minlength=n * n).reshape(n, n)


def precision_recall_f1(target, predicted, average="macro", num_classes=None):
    """(precision, recall, F1): per class (average=None), their mean ('macro'), or
    from the pooled counts ('micro'). A class never predicted (or never present)
    scores 0 precision (recall)."""
    if average not in ("macro", "micro", None):
        raise ValueError(f"precision_recall_f1: average must be 'macro', 'micro' or None, "
                         f"got {average!r}")
    cm = confusion_matrix(target, predicted, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted_n, actual_n = cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        tp, predicted_n, actual_n = tp.sum(), predicted_n.sum(), actual_n.sum()
    precision = np.divide(tp, predicted_n, out=np.zeros_like(tp), where=predicted_n > 0)
    recall = np.divide(tp, actual_n, out=np.zeros_like(tp), where=actual_n > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    if average == "macro":
        return float(precision.mean()), float(recall.mean()), float(f1.mean())
    if average == "micro":
        return float(precision), float(recall), float(f1)
    return precision, recall, f1


def _average_ranks(values):
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(values)] - 1
    ranks = np.empty(len(values))
    ranks[order] = (first[group] + last[group]) / 2 + 1
    return ranks


def _binary_auc(positive, scores, op):
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"{op}: ROC AUC needs both positive and negative samples")
    ranks = _average_ranks(scores)
    # Mann-Whitney: the probability that a random positive outscores a random negative
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(target, scores, multi_class="ovr"):
    """Area under the ROC curve: binary (scores (N,) or (N, 2)), or one-vs-rest macro
    average over the classes of (N, C) scores."""
    target, scores = _array(target).reshape(-1), _array(scores).astype(np.float64)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    if scores.shape[0] != target.shape[0]:
        raise ValueError(f"roc_auc: {scores.shape[0]} scores for {target.shape[0]} targets")
    if scores.ndim == 1:
        return _binary_auc(target.astype(bool), scores, "roc_auc")
    if multi_class != "ovr":
        raise ValueError(f"roc_auc: only multi_class='ovr' is supported, got {multi_class!r}")
    return float(np.mean([_binary_auc(target == c, scores[:, c], f"roc_auc (class {c})")
                          for c in range(scores.shape[1])]))


def mse(output, target):
    """Mean squared error."""
    return float(np.mean((_array(output) - _array(target)) ** 2))


def mae(output, target):
    """Mean absolute error."""
    return float(np.mean(np.abs(_array(output) - _array(target))))
