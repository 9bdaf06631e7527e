"""Metrics against hand-computed values and brute-force references.

scikit-learn is not a dependency, so the randomized checks compare against the
definitions written out as explicit Python loops over a small N.
"""
import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet import metrics as M

SCORES = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
TARGET = np.array([1, 1, 2, 0])


# ---- brute-force references: the textbook definitions, one sample at a time ----

def _brute_top_k(scores, target, k):
    hits = 0
    for row, t in zip(scores, target):
        kth_largest = sorted(row, reverse=True)[min(k, len(row)) - 1]
        hits += row[t] >= kth_largest
    return hits / len(target)


def _brute_confusion(target, predicted, n):
    cm = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(target, predicted):
        cm[t, p] += 1
    return cm


def _brute_prf(target, predicted, classes):
    per_class = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(target, predicted))
        fp = sum(t != c and p == c for t, p in zip(target, predicted))
        fn = sum(t == c and p != c for t, p in zip(target, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append((precision, recall, f1))
    return np.array(per_class).T


def _brute_auc(positive, scores):
    pairs = [(s_p > s_n) + 0.5 * (s_p == s_n) for s_p, s_n in
             itertools.product(scores[positive], scores[~positive])]
    return np.mean(pairs)


# ---- accuracy and top-k ----

@pytest.mark.parametrize("output, target, expected", [
    (SCORES, TARGET, 0.5),
    (gn.tensor(SCORES), gn.tensor(TARGET), 0.5),
    (np.array([1, 0, 2, 1]), TARGET, 0.5),
    (np.array([1.0, 1.0, 2.0, 0.0]), TARGET.astype(np.float32), 1.0),   # float labels
    (gn.tensor(SCORES.astype(np.float32)), [1, 0, 2, 1], 1.0),
    ([[0.0, 1.0]], [0], 0.0),
])
def test_accuracy(output, target, expected):
    assert M.accuracy(output, target) == expected
    assert isinstance(M.accuracy(output, target), float)


@pytest.mark.parametrize("output, target, match", [
    (SCORES, TARGET[:3], r"accuracy: 4 predictions for 3 targets \(output shape \(4, 3\)"),
    (SCORES[None], TARGET, r"accuracy: expected scores \(N, C\) or labels \(N,\), got \(1, 4, 3\)"),
    (SCORES, TARGET[:, None], r"accuracy: expected target labels of shape \(N,\), got \(4, 1\)"),
    ([0.5, 1.0], [0, 1], "accuracy: predicted labels must be whole numbers"),
    (np.zeros((0, 3)), np.zeros(0, np.int64), "accuracy: got no samples"),
])
def test_accuracy_errors(output, target, match):
    with pytest.raises(ValueError, match=match):
        M.accuracy(output, target)


@pytest.mark.parametrize("k, expected", [(1, 0.5), (2, 1.0), (3, 1.0), (10, 1.0)])
def test_top_k_accuracy_hand(k, expected):
    assert M.top_k_accuracy(SCORES, TARGET, k=k) == expected


def test_top_k_accuracy_ties_count_as_hits():
    scores = np.array([[0.3, 0.3, 0.3, 0.1], [0.9, 0.5, 0.5, 0.5], [0.2, 0.1, 0.1, 0.6]])
    # row 0: target tied with the top; row 1: target tied with the 2nd; row 2: 3rd of 4
    assert M.top_k_accuracy(scores, [2, 3, 1], k=1) == pytest.approx(1 / 3)
    assert M.top_k_accuracy(scores, [2, 3, 1], k=2) == pytest.approx(2 / 3)
    assert M.top_k_accuracy(scores, [2, 3, 1], k=3) == 1.0


@pytest.mark.parametrize("seed, n, c, k", [(0, 30, 5, 1), (1, 30, 5, 2), (2, 40, 10, 3),
                                           (3, 25, 4, 4), (4, 20, 3, 7), (5, 50, 8, 5)])
def test_top_k_accuracy_matches_brute_force(seed, n, c, k):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((n, c)), 1).astype(np.float32)   # plenty of ties
    target = rng.integers(0, c, n)
    assert M.top_k_accuracy(gn.tensor(scores), target, k) == pytest.approx(
        _brute_top_k(scores, target, k))


@pytest.mark.parametrize("scores, target, k, match", [
    (SCORES, TARGET, 0, "top_k_accuracy: k must be a positive integer, got 0"),
    (SCORES, TARGET, 1.5, "top_k_accuracy: k must be a positive integer"),
    (SCORES, [1, 1, 3, 0], 2, r"top_k_accuracy: target labels must lie in \[0, 3\)"),
    (SCORES, [1, 1, -1, 0], 2, r"top_k_accuracy: target labels must lie in \[0, 3\)"),
    (SCORES[:, 0], TARGET, 2, r"top_k_accuracy: expected scores \(N, C\) for 4 targets, "
                              r"got \(4,\)"),
    (SCORES, TARGET[:2], 2, r"top_k_accuracy: expected scores \(N, C\) for 2 targets, "
                            r"got \(4, 3\)"),
])
def test_top_k_accuracy_errors(scores, target, k, match):
    with pytest.raises(ValueError, match=match):
        M.top_k_accuracy(scores, target, k)


# ---- confusion matrix, precision / recall / F1 ----

def test_confusion_matrix_hand():
    cm = M.confusion_matrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    assert cm.dtype == np.int64
    cm = M.confusion_matrix(gn.tensor([1, 1]), gn.tensor([[0.0, 1.0], [1.0, 0.0]]), num_classes=3)
    np.testing.assert_array_equal(cm, [[0, 0, 0], [1, 1, 0], [0, 0, 0]])   # scores -> argmax
    np.testing.assert_array_equal(M.confusion_matrix([], [], num_classes=2), np.zeros((2, 2)))


@pytest.mark.parametrize("seed, n, c", [(0, 20, 3), (1, 50, 6), (2, 7, 10)])
def test_confusion_matrix_matches_brute_force(seed, n, c):
    rng = np.random.default_rng(seed)
    target, predicted = rng.integers(0, c, n), rng.integers(0, c, n)
    np.testing.assert_array_equal(M.confusion_matrix(target, predicted, num_classes=c),
                                  _brute_confusion(target, predicted, c))


@pytest.mark.parametrize("target, predicted, num_classes, match", [
    ([0, 1, 2], [0, 1, 3], 3, r"confusion_matrix: labels must lie in \[0, 3\), got range \[0, 3\]"),
    ([0, -1], [0, 1], None, r"confusion_matrix: labels must lie in \[0, 2\), got range \[-1, 1\]"),
    ([0, 1], [0, 1], 0, "confusion_matrix: num_classes must be a positive integer, got 0"),
    ([0, 1], [0, 1, 1], None, "confusion_matrix: 3 predictions for 2 targets"),
])
def test_confusion_matrix_errors(target, predicted, num_classes, match):
    with pytest.raises(ValueError, match=match):
        M.confusion_matrix(target, predicted, num_classes)


def test_precision_recall_f1_hand_with_class_never_predicted():
    target, predicted = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 0, 0])
    p, r, f = M.precision_recall_f1(target, predicted, average=None)
    np.testing.assert_allclose(p, [1 / 3, 2 / 3, 0])     # class 2 never predicted: 0
    np.testing.assert_allclose(r, [1 / 2, 2 / 3, 0])
    np.testing.assert_allclose(f, [0.4, 2 / 3, 0])
    assert M.precision_recall_f1(target, predicted) == pytest.approx((1 / 3, 7 / 18, 16 / 45))
    assert M.precision_recall_f1(target, predicted, "micro") == pytest.approx((0.5, 0.5, 0.5))
    assert all(isinstance(m, float) for m in M.precision_recall_f1(target, predicted, "micro"))


def test_precision_recall_f1_class_never_true():
    # class 2 predicted but absent from target: recall 0 (not nan), precision 0
    p, r, f = M.precision_recall_f1([0, 1, 1], [0, 1, 2], average=None)
    np.testing.assert_allclose(p, [1, 1, 0])
    np.testing.assert_allclose(r, [1, 0.5, 0])
    np.testing.assert_allclose(f, [1, 2 / 3, 0])


def test_precision_recall_f1_macro_over_present_classes_unless_num_classes():
    # labels 0 and 2 only: class 1 occurs nowhere, so macro skips it (scikit-learn's
    # unique_labels) -- unless num_classes says it exists
    assert M.precision_recall_f1([0, 2, 2], [0, 2, 0]) == pytest.approx((0.75, 0.75, 2 / 3))
    assert M.precision_recall_f1([0, 2, 2], [0, 2, 0], num_classes=3) == pytest.approx(
        (0.5, 0.5, 4 / 9))
    p, _, _ = M.precision_recall_f1([0, 2, 2], [0, 2, 0], average=None, num_classes=4)
    assert p.shape == (4,)


@pytest.mark.parametrize("seed, n, c", [(0, 20, 3), (1, 40, 5), (2, 12, 6), (3, 60, 4)])
def test_precision_recall_f1_match_brute_force(seed, n, c):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, c, n)
    predicted = np.where(rng.random(n) < 0.5, target, rng.integers(0, c - 1, n))  # c-1 rarer
    per_class = _brute_prf(target, predicted, range(c))
    np.testing.assert_allclose(M.precision_recall_f1(target, predicted, None, num_classes=c),
                               per_class)
    present = sorted(set(target) | set(predicted))
    np.testing.assert_allclose(M.precision_recall_f1(target, predicted, "macro"),
                               _brute_prf(target, predicted, present).mean(axis=1))
    micro = np.mean(target == predicted)   # single-label: micro P = R = F1 = accuracy
    np.testing.assert_allclose(M.precision_recall_f1(target, predicted, "micro"), [micro] * 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(average="weighted"), "precision_recall_f1: average must be 'macro', 'micro' or None"),
    (dict(target=[], predicted=[], num_classes=2), "precision_recall_f1: got no samples"),
])
def test_precision_recall_f1_errors(kwargs, match):
    kwargs = {"target": [0, 1], "predicted": [0, 0], **kwargs}
    with pytest.raises(ValueError, match=match):
        M.precision_recall_f1(**kwargs)


# ---- ROC AUC ----

@pytest.mark.parametrize("target, scores, expected", [
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
    ([0, 1, 0, 1], [0.2, 0.9, 0.1, 0.8], 1.0),
    ([1, 0], [0.2, 0.9], 0.0),
    ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),                # all tied
    ([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9], 0.875),              # one tied pair counts 1/2
    ([False, True, True], [[0.6, 0.4], [0.3, 0.7], [0.9, 0.1]], 0.5),   # (N, 2): column 1
])
def test_roc_auc_hand(target, scores, expected):
    assert M.roc_auc(target, scores) == pytest.approx(expected)


@pytest.mark.parametrize("seed, n", [(0, 60), (1, 15), (2, 100)])
def test_roc_auc_binary_with_ties_matches_brute_force(seed, n):
    rng = np.random.default_rng(seed)
    target = np.r_[0, 1, rng.integers(0, 2, n - 2)]
    scores = np.round(rng.random(n), 1).astype(np.float32)   # many ties
    expected = _brute_auc(target == 1, scores)
    assert M.roc_auc(target, scores) == pytest.approx(expected)
    assert M.roc_auc(gn.tensor(target), gn.tensor(np.stack([1 - scores, scores], 1))) == \
        pytest.approx(expected)


@pytest.mark.parametrize("seed, n, c", [(0, 50, 3), (1, 40, 5), (2, 30, 4)])
def test_roc_auc_one_vs_rest_matches_brute_force(seed, n, c):
    rng = np.random.default_rng(seed)
    target = np.r_[np.arange(c), rng.integers(0, c, n - c)]
    scores = np.round(rng.random((n, c)), 1)
    expected = np.mean([_brute_auc(target == k, scores[:, k]) for k in range(c)])
    assert M.roc_auc(target, scores) == pytest.approx(expected)


@pytest.mark.parametrize("target, scores, kwargs, match", [
    (np.ones(5), np.arange(5.0), {}, "roc_auc: ROC AUC needs both positive and negative samples, "
                                      "got 5 positive and 0 negative"),
    ([0, 0], [0.1, 0.2], {}, "needs both positive and negative"),
    ([0, 0, 1], np.eye(3), {}, r"roc_auc \(class 2\): ROC AUC needs both positive and negative"),
    ([0, 1, 2], [0.1, 0.2, 0.3], {}, r"roc_auc: target labels must lie in \[0, 2\)"),
    ([0, 1], [0.1, 0.2, 0.3], {}, r"roc_auc: expected scores \(N,\) or \(N, C\) for 2 targets, "
                                  r"got \(3,\)"),
    ([0, 1], [0.1, np.nan], {}, "roc_auc: scores .* contain NaN"),
    ([0, 1, 2], np.eye(3), dict(multi_class="ovo"), "roc_auc: only multi_class='ovr'"),
])
def test_roc_auc_errors(target, scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        M.roc_auc(target, scores, **kwargs)


# ---- regression ----

@pytest.mark.parametrize("output, target, mse, mae", [
    (gn.tensor([1.0, 2.0]), [0.0, 4.0], 2.5, 1.5),
    ([[1.0], [2.0]], np.array([0.0, 4.0]), 2.5, 1.5),          # (N, 1) vs (N,): no (N, N)
    (np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]]), 0.0, 0.0),
    (np.array([1, 2, 3], np.float32), np.array([2, 2, 2], np.float32), 2 / 3, 2 / 3),
])
def test_regression_errors(output, target, mse, mae):
    assert M.mse(output, target) == pytest.approx(mse)
    assert M.mae(output, target) == pytest.approx(mae)
    assert isinstance(M.mse(output, target), float)


@pytest.mark.parametrize("fn", [M.mse, M.mae])
@pytest.mark.parametrize("output, target, match", [
    (np.zeros(3), np.zeros(4), r"output \(3,\) and target \(4,\) must have the same shape"),
    (np.zeros((2, 3)), np.zeros((3, 2)), r"output \(2, 3\) and target \(3, 2\) must have"),
    (np.zeros(0), np.zeros(0), "got no samples"),
])
def test_regression_errors_bad_input(fn, output, target, match):
    with pytest.raises(ValueError, match=f"{fn.__name__}: {match}"):
        fn(output, target)
