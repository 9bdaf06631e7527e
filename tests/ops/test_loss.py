"""Losses against PyTorch: every reduction, weights, ignore_index, label smoothing,
probability targets, spatial shapes, target gradients, errors, and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from parity import check_op, gradcheck_op

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)


def pair(name, **kwargs):
    """The same loss call in PyTorch and in glassnet; arrays among the kwargs become tensors."""
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    gkw = {k: gn.tensor(v, dtype=v.dtype) if isinstance(v, np.ndarray) else v
           for k, v in kwargs.items()}
    return (lambda *a: getattr(TF, name)(*a, **tkw), lambda *a: getattr(gn, name)(*a, **gkw))


def uniform(shape, low, high, dtype=np.float32):
    return rng.uniform(low, high, shape).astype(dtype)


def class_targets(input_shape, ignore_index=None, seed=0):
    """Random class indices for an (N, C, d1, ...) or (C,) input, a few set to ignore_index."""
    r = np.random.default_rng(seed)
    classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    shape = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    t = r.integers(0, classes, shape)
    if ignore_index is not None and t.size > 1:
        t.flat[r.choice(t.size, max(1, t.size // 4), replace=False)] = ignore_index
    return np.asarray(t, np.int64)


# ------------------------------------------------------------- pointwise losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (6,), (3, 4), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses(name, shape, reduction):
    check_op([shape, shape], *pair(name, reduction=reduction))  # target gradients too


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3, 4), (4,), (3, 1), ()], ids=str)
def test_binary_cross_entropy(weight_shape, reduction):
    kw = {} if weight_shape is None else {"weight": uniform(weight_shape, 0.1, 2)}
    check_op([], *pair("binary_cross_entropy", reduction=reduction, **kw),
             values=[uniform((3, 4), 0.02, 0.98), uniform((3, 4), 0, 1)])


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3], np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = check_op([], *pair("binary_cross_entropy", reduction="none"), values=[x, t],
                       requires_grad=[True, False])[0]
    np.testing.assert_allclose(out._array[:2], [100.0, 100.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [{}, {"weight": (3, 5)}, {"weight": (5,)}, {"pos_weight": (5,)},
                                     {"weight": (3, 1), "pos_weight": (5,)},
                                     {"pos_weight": (3, 5)}], ids=str)
def test_binary_cross_entropy_with_logits(weights, reduction):
    kw = {k: uniform(s, 0.2, 3) for k, s in weights.items()}
    check_op([], *pair("binary_cross_entropy_with_logits", reduction=reduction, **kw),
             values=[uniform((3, 5), -6, 6), uniform((3, 5), 0, 1)])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_integer_targets_are_cast(name):
    x = uniform((4,), -1, 1)
    check_op([], *pair(name), values=[x, np.array([0, 1, 1, 0])])


def test_integer_targets_for_logits():  # PyTorch refuses these; glassnet reads them as 0.0/1.0
    x, t = gn.tensor(uniform((4,), -1, 1)), np.array([0, 1, 1, 0])
    assert gn.binary_cross_entropy_with_logits(x, gn.tensor(t)).item() == \
        gn.binary_cross_entropy_with_logits(x, gn.tensor(t.astype(np.float32))).item()


def test_float64_loss_stays_float64():
    out = check_op([], *pair("mse_loss"), values=[uniform((5,), -1, 1, np.float64)] * 2)[0]
    assert out.dtype == np.float64


# ---------------------------------------------------------- class-index losses
CLASS_SHAPES = [(6, 4), (4,), (3, 4, 5), (2, 4, 3, 2)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "ignore", "ignore_2", "weight_ignore"])
@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
def test_nll_loss(shape, options, reduction):
    kw = {"reduction": reduction}
    ignore = {"ignore": -100, "ignore_2": 2, "weight_ignore": -100}.get(options)
    if ignore is not None and ignore != -100:
        kw["ignore_index"] = ignore
    if "weight" in options:
        kw["weight"] = uniform((4,), 0.1, 2)
    check_op([], *pair("nll_loss", **kw),
             values=[uniform(shape, -3, 0), class_targets(shape, ignore)])


CE_OPTIONS = {
    "plain": {}, "weight": {"weight": True}, "ignore": {"ignore_index": -100},
    "ignore_1": {"ignore_index": 1}, "smooth": {"label_smoothing": 0.1},
    "smooth_weight": {"label_smoothing": 0.35, "weight": True},
    "all": {"label_smoothing": 0.2, "weight": True, "ignore_index": 3},
    "smooth_1": {"label_smoothing": 1.0, "ignore_index": -100},
}


def _ce_kwargs(options, reduction):
    kw = {"reduction": reduction}
    for k, v in CE_OPTIONS[options].items():
        if k == "weight":
            kw["weight"] = uniform((4,), 0.1, 2)
        elif not (k == "ignore_index" and v == -100):
            kw[k] = v
    return kw, CE_OPTIONS[options].get("ignore_index")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
def test_cross_entropy_class_indices(shape, options, reduction):
    kw, ignore = _ce_kwargs(options, reduction)
    check_op([], *pair("cross_entropy", **kw),
             values=[uniform(shape, -4, 4), class_targets(shape, ignore)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "smooth", "smooth_weight"])
@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
def test_cross_entropy_probability_targets(shape, options, reduction):
    kw, _ = _ce_kwargs(options, reduction)
    p = rng.random(shape).astype(np.float32)
    p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    check_op([], *pair("cross_entropy", **kw), values=[uniform(shape, -4, 4), p])  # d/dtarget too


def test_cross_entropy_one_hot_equals_class_indices():
    x, t = gn.tensor(uniform((5, 3), -2, 2)), gn.tensor(np.array([0, 2, 1, 1, 0]))
    one_hot = gn.tensor(np.eye(3, dtype=np.float32)[t._array])
    np.testing.assert_allclose(gn.cross_entropy(x, one_hot).item(),
                               gn.cross_entropy(x, t).item(), rtol=1e-6)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_target_ignored(name, reduction):
    # 'mean' over no targets is nan (0 / 0) in PyTorch too; the gradient is all zero
    extra = {"label_smoothing": 0.2} if name == "cross_entropy" else {}
    values = [uniform((3, 4), -2, 0), np.full(3, -100)]
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        check_op([], *pair(name, reduction=reduction, weight=uniform((4,), 0.5, 1)), values=values)
        check_op([], *pair(name, reduction=reduction, **extra), values=values)


# ----------------------------------------------------------- finite differences
def _f64(shape, low, high):
    return rng.uniform(low, high, shape)


GRADCHECKS = {
    "mse": (lambda x, t: gn.mse_loss(x, t), [_f64((3, 4), -1, 1), _f64((3, 4), -1, 1)]),
    "l1_none": (lambda x, t: gn.l1_loss(x, t, reduction="none"),
                [_f64((3, 4), -1, 1), _f64((3, 4), 1.5, 2)]),
    "bce": (lambda x, t: gn.binary_cross_entropy(x, t, weight=gn.tensor([0.5, 2.0, 1.0])),
            [_f64((2, 3), 0.1, 0.9), _f64((2, 3), 0, 1)]),
    "bce_logits": (lambda x, t: gn.binary_cross_entropy_with_logits(
        x, t, weight=gn.tensor([[0.5], [2.0]]), pos_weight=gn.tensor([0.3, 1.0, 3.0]),
        reduction="sum"), [_f64((2, 3), -3, 3), _f64((2, 3), 0, 1)]),
    "nll": (lambda x, t: gn.nll_loss(x, t, weight=gn.tensor([1.0, 2.0, 0.5, 1.5])),
            [_f64((5, 4), -3, 0), np.array([0, 3, -100, 1, 3])]),
    "ce_index": (lambda x, t: gn.cross_entropy(x, t, weight=gn.tensor([1.0, 2.0, 0.5, 1.5]),
                                               ignore_index=2, label_smoothing=0.2),
                 [_f64((5, 4), -3, 3), np.array([0, 3, 2, 1, 3])]),
    "ce_spatial": (lambda x, t: gn.cross_entropy(x, t, reduction="none", label_smoothing=0.1),
                   [_f64((2, 3, 2, 2), -3, 3), class_targets((2, 3, 2, 2))]),
    "ce_prob": (lambda x, t: gn.cross_entropy(x, t, weight=gn.tensor([1.0, 2.0, 0.5]),
                                              label_smoothing=0.3),
                [_f64((4, 3), -3, 3), _f64((4, 3), 0, 1)]),
    "ce_unbatched": (lambda x, t: gn.cross_entropy(x, t, label_smoothing=0.1),
                     [_f64((5,), -3, 3), np.array(2)]),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_loss_gradcheck(name):
    fn, values = GRADCHECKS[name]
    gradcheck_op([], fn, values=values)


# ------------------------------------------------------------------- errors
def test_errors_speak_plainly():
    x = gn.zeros(4, 10)
    with pytest.raises(ValueError, match="cross_entropy: target class 10 is out of range for 10 "
                                         "classes"):
        gn.cross_entropy(x, gn.tensor([0, 10, 3, 3]))
    with pytest.raises(ValueError, match="nll_loss: target class -3 is out of range"):
        gn.nll_loss(x, gn.tensor([0, -3, 3, 3]))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\), got \(4, 1\)"):
        gn.cross_entropy(x, gn.tensor(np.zeros((4, 1), np.int64)))
    with pytest.raises(ValueError, match=r"must have the input's shape \(4, 10\), got \(4,\)"):
        gn.cross_entropy(x, gn.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="class-index targets must be integers"):
        gn.nll_loss(x, gn.tensor([True, False, True, True]))
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating-point tensor"):
        gn.cross_entropy(gn.tensor([[1, 2]]), gn.tensor([0]))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(10,\)"):
        gn.cross_entropy(x, gn.tensor([0, 1, 2, 3]), weight=gn.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        gn.cross_entropy(x, gn.tensor([0, 1, 2, 3]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        gn.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(4, 1\) does not match input "
                                         r"of shape \(4,\)"):
        gn.mse_loss(gn.zeros(4), gn.zeros(4, 1))
    with pytest.raises(ValueError, match=r"should be probabilities in \[0, 1\], got values from "
                                         r"-0.5 to 2"):
        gn.binary_cross_entropy(gn.tensor([-0.5, 2.0]), gn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast"):
        gn.binary_cross_entropy_with_logits(gn.zeros(2, 4), gn.zeros(2, 4), pos_weight=gn.ones(3))
    with pytest.raises(ValueError, match="input must have a class dim"):
        gn.cross_entropy(gn.tensor(1.0), gn.tensor(0))


def test_cross_entropy_is_one_node():
    x = gn.tensor(uniform((4, 3), -1, 1), requires_grad=True)
    loss = gn.cross_entropy(x, gn.tensor([0, 1, 2, 0]), label_smoothing=0.1)
    assert loss.grad_fn.parents[0] is x
