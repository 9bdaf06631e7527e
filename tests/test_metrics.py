"""Metrics against hand-computed values and brute-force references."""
import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet import metrics as M


def test_accuracy_and_top_k():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    target = np.array([1, 1, 2, 0])
    assert M.accuracy(gn.tensor(scores), gn.tensor(target)) == 0.5
    assert M.accuracy(np.array([1, 0, 2, 1]), target) == 0.5
    assert M.top_k_accuracy(scores, target, k=2) == 1.0
    assert M.top_k_accuracy(scores, target, k=1) == 0.5
    with pytest.raises(ValueError, match="accuracy: 4 predictions for 3 targets"):
        M.accuracy(scores, target[:3])


def test_confusion_and_precision_recall_f1():
    target = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 0])
    cm = M.confusion_matrix(target, predicted)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    p, r, f = M.precision_recall_f1(target, predicted, average=None)
    np.testing.assert_allclose(p, [1 / 3, 2 / 3, 0])     # class 2 never predicted: 0
    np.testing.assert_allclose(r, [1 / 2, 2 / 3, 0])
    np.testing.assert_allclose(f, [0.4, 2 / 3, 0])
    assert M.precision_recall_f1(target, predicted) == pytest.approx((1 / 3, 7 / 18, 16 / 45))
    assert M.precision_recall_f1(target, predicted, "micro") == pytest.approx((0.5, 0.5, 0.5))


def _brute_auc(positive, scores):
    pairs = [(s_p > s_n) + 0.5 * (s_p == s_n) for s_p, s_n in
             itertools.product(scores[positive], scores[~positive])]
    return np.mean(pairs)


def test_roc_auc_with_ties_binary_and_one_vs_rest():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 2, 60)
    scores = np.round(rng.random(60), 1)          # many ties
    assert M.roc_auc(target, scores) == pytest.approx(_brute_auc(target == 1, scores))
    assert M.roc_auc(target, np.stack([1 - scores, scores], 1)) == pytest.approx(
        _brute_auc(target == 1, scores))
    multi, scores3 = rng.integers(0, 3, 50), rng.random((50, 3))
    expected = np.mean([_brute_auc(multi == c, scores3[:, c]) for c in range(3)])
    assert M.roc_auc(multi, scores3) == pytest.approx(expected)
    with pytest.raises(ValueError, match="needs both positive and negative"):
        M.roc_auc(np.ones(5), np.arange(5.0))


def test_regression_errors():
    assert M.mse(gn.tensor([1.0, 2.0]), [0.0, 4.0]) == 2.5
    assert M.mae([1.0, 2.0], [0.0, 4.0]) == 1.5
