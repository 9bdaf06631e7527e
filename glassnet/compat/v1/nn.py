"""tf.nn: activations, dropout, softmax cross-entropies, and channels-last (NHWC)
convolution and pooling over glassnet's channels-first ones.

Layout: conv2d, bias_add, relu and the pools take and return NHWC tensors, as
TensorFlow's. Each permutes to NCHW, calls glassnet's op, and permutes back; the NCHW
value it computed is remembered next to the NHWC result, so that the next of these ops
reads it directly instead of permuting back again (conv -> bias_add -> relu -> max_pool
permutes twice in all, not eight times). A permute whose result nobody reads is never
run: a plan holds only the nodes its fetches need.
"""
import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from ... import graph as gg
from ...graph.core import SymbolicTensor
from ...keras.layers.convolutional import same_pads
from . import _ops, dtypes as _d
from ._ops import sigmoid, tanh  # noqa: F401


def _relu(x):
    return F.relu(x)


def _softmax(x, *, axis):
    return F.softmax(x, axis)


def _log_softmax(x, *, axis):
    return F.log_softmax(x, axis)


def softmax(logits, axis=None, name=None, dim=None):
    axis = -1 if axis is None and dim is None else (axis if axis is not None else dim)
    return _ops._op(_softmax, [logits], "Softmax", name, axis=int(axis))


def log_softmax(logits, axis=None, name=None, dim=None):
    axis = -1 if axis is None and dim is None else (axis if axis is not None else dim)
    return _ops._op(_log_softmax, [logits], "LogSoftmax", name, axis=int(axis))


def relu(features, name=None):
    twin = _nchw_of(features)
    if twin is not None:
        return _from_nchw(_ops._op(_relu, [twin], "Relu", name))
    return _ops._op(_relu, [features], "Relu", name)


# ------------------------------------------------------------------ dropout
def _dropout(x, keep, *, static_keep):
    keep = static_keep if keep is None else float(np.asarray(keep._array))
    if not 0 < keep <= 1:
        raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep}")
    return F.dropout(x, p=1.0 - keep, training=True)


def _dropout_static(x, *, static_keep):
    return _dropout(x, None, static_keep=static_keep)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF1's dropout: keep each element with probability keep_prob (a number or a
    tensor, e.g. a placeholder fed 0.5 in training and 1.0 in testing) and scale what is
    kept by 1 / keep_prob. `rate` = 1 - keep_prob may be given instead."""
    if noise_shape is not None:
        raise NotImplementedError("dropout: noise_shape is not supported")
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout: give exactly one of keep_prob and rate")
    x = _ops.as_tensor(x)
    spec = dict(output_shapes=x.shape, output_dtypes=[x.dtype])
    if rate is not None:
        if isinstance(rate, SymbolicTensor):
            keep_prob = _ops.subtract(1.0, rate)
        else:
            keep_prob = 1.0 - float(rate)
    if isinstance(keep_prob, SymbolicTensor):
        return gg.op(_dropout, [x, keep_prob], {"static_keep": None}, name=name,
                     type="Dropout", **spec)
    keep_prob = float(keep_prob)
    if not 0 < keep_prob <= 1:
        raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep_prob}")
    return gg.op(_dropout_static, [x], {"static_keep": keep_prob}, name=name, type="Dropout",
                 **spec)


# ------------------------------------------------------------------ cross-entropies
def _softmax_xent(labels, logits, *, axis):
    return gn.sum(gn.neg(labels * F.log_softmax(logits, axis)), dim=axis)


def softmax_cross_entropy_with_logits_v2(labels=None, logits=None, axis=-1, name=None,
                                         dim=None):
    """-sum(labels * log_softmax(logits)) over `axis`, one value per example; the
    gradient reaches the labels too (the _v2 behaviour)."""
    if labels is None or logits is None:
        raise ValueError("softmax_cross_entropy_with_logits: pass labels= and logits=")
    axis = dim if dim is not None else axis
    labels, logits = _ops._pair(labels, logits)
    return _ops._op(_softmax_xent, [labels, logits], "SoftmaxCrossEntropyWithLogits", name,
                    axis=int(axis))


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF1's version: as _v2, but no gradient flows into the labels."""
    if _sentinel is not None:
        raise ValueError("softmax_cross_entropy_with_logits: use labels= and logits= keywords")
    if labels is None or logits is None:
        raise ValueError("softmax_cross_entropy_with_logits: pass labels= and logits=")
    labels, logits = _ops._pair(labels, logits)
    return softmax_cross_entropy_with_logits_v2(gg.stop_gradient(labels), logits,
                                                axis=dim if axis is None else axis, name=name)


def _sparse_xent(labels, logits):
    return F.cross_entropy(logits, labels.astype(np.int64), reduction="none")


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    if labels is None or logits is None:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: pass labels= and logits=")
    logits = _ops.as_tensor(logits)
    labels = _ops.as_tensor(labels, dtype=_d.int32)
    if logits.ndim is not None and logits.ndim != 2:
        raise NotImplementedError("sparse_softmax_cross_entropy_with_logits: logits must be "
                                  "(batch, classes)")
    return _ops._op(_sparse_xent, [labels, logits], "SparseSoftmaxCrossEntropyWithLogits",
                    name)


# ------------------------------------------------------------------ channels-last layout
def _nchw_of(t):
    """The NCHW value an NHWC tensor was permuted from, if this module made it."""
    if not isinstance(t, SymbolicTensor):
        return None
    twins = getattr(t.graph, "_tf_nchw", None)
    entry = twins.get(id(t)) if twins else None
    return entry[1] if entry is not None and entry[0] is t else None


def _to_nchw_fn(x):
    return x.permute(0, 3, 1, 2)


def _to_nhwc_fn(x):
    return x.permute(0, 2, 3, 1)


def _to_nchw(t):
    twin = _nchw_of(t)
    if twin is not None:
        return twin
    t = _ops.as_tensor(t)
    if t.ndim is not None and t.ndim != 4:
        raise ValueError(f"expected a 4-D NHWC input, got shape {t.shape}")
    return gg.op(_to_nchw_fn, [t], type="Transpose", name="ToNCHW")


def _from_nchw(t):
    out = gg.op(_to_nhwc_fn, [t], type="Transpose", name="ToNHWC")
    g = out.graph
    if not hasattr(g, "_tf_nchw"):
        g._tf_nchw = {}
    g._tf_nchw[id(out)] = (out, t)
    return out


def _hw(values, what):
    """[1, h, w, 1] or [h, w] (or one int) -> (h, w)."""
    values = [int(values)] * 2 if np.ndim(values) == 0 else [int(v) for v in values]
    if len(values) == 4:
        if values[0] != 1 or values[3] != 1:
            raise NotImplementedError(f"{what} over the batch or channel dims is not "
                                      f"supported, got {values}")
        return values[1], values[2]
    if len(values) == 2:
        return values[0], values[1]
    if len(values) == 1:
        return values[0], values[0]
    raise ValueError(f"{what} must have 1, 2 or 4 elements, got {values}")


def _pads(shape, kernel, stride, padding, dilation=(1, 1)):
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding != "SAME":
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    if shape is None or shape[1] is None or shape[2] is None:
        raise ValueError("SAME padding needs the input's height and width to be known")
    return tuple(same_pads(n, k, s, d) for n, k, s, d in
                 zip(shape[1:3], kernel, stride, dilation))


def _conv(x, w, *, stride, pads, dilation):
    return F.conv2d(x, w.permute(3, 2, 0, 1), stride=stride, padding=pads, dilation=dilation)


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=None, name=None, filters=None):
    """NHWC input, HWIO filter; padding 'SAME' (TensorFlow's, the odd pixel after) or
    'VALID'."""
    if data_format != "NHWC":
        raise NotImplementedError("conv2d: only data_format='NHWC' is supported")
    filter = filter if filter is not None else filters
    x = _ops.as_tensor(input)
    w = _ops.as_tensor(filter, dtype=x.dtype)
    stride = _hw(strides, "strides")
    dilation = (1, 1) if dilations is None else _hw(dilations, "dilations")
    if w.shape is None or len(w.shape) != 4:
        raise ValueError(f"conv2d: the filter must be 4-D (height, width, in, out), got "
                         f"{w.shape}")
    pads = _pads(x.shape, w.shape[:2], stride, padding, dilation)
    out = gg.op(_conv, [_to_nchw(x), w], {"stride": stride, "pads": pads,
                                          "dilation": dilation}, name=name, type="Conv2D")
    return _from_nchw(out)


def _bias_nchw(x, b):
    return x + b.reshape((-1, 1, 1))


def _bias_last(x, b):
    return x + b


def bias_add(value, bias, data_format=None, name=None):
    """value + bias along the last (channels) axis."""
    twin = _nchw_of(value)
    value, bias = _ops._pair(value, bias)
    if twin is not None:
        return _from_nchw(gg.op(_bias_nchw, [twin, bias], name=name, type="BiasAdd"))
    return gg.op(_bias_last, [value, bias], name=name, type="BiasAdd")


def _max_pool(x, *, kernel, stride, pads):
    (t, b), (l, r) = pads
    if t or b or l or r:
        x = F.pad(x, (l, r, t, b), value=-np.inf)
    return F.max_pool2d(x, kernel, stride)


def _avg_pool(x, *, kernel, stride, pads):
    (t, b), (l, r) = pads
    if not (t or b or l or r):
        return F.avg_pool2d(x, kernel, stride)
    # TensorFlow divides by the window's real (unpadded) elements: the mean of the
    # zero-padded input over the mean of a padded mask of ones
    ones = gn.ones(1, 1, *x.shape[-2:], dtype=x.dtype)
    total = F.avg_pool2d(F.pad(x, (l, r, t, b)), kernel, stride)
    share = F.avg_pool2d(F.pad(ones, (l, r, t, b)), kernel, stride)
    return total / share


def _pool(fn, type, value, ksize, strides, padding, data_format, name):
    if data_format not in ("NHWC", None):
        raise NotImplementedError(f"{type}: only data_format='NHWC' is supported")
    x = _ops.as_tensor(value)
    kernel, stride = _hw(ksize, "ksize"), _hw(strides, "strides")
    pads = _pads(x.shape, kernel, stride, padding)
    out = gg.op(fn, [_to_nchw(x)], {"kernel": kernel, "stride": stride, "pads": pads},
                name=name, type=type)
    return _from_nchw(out)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    return _pool(_max_pool, "MaxPool", value if input is None else input, ksize, strides,
                 padding, data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    return _pool(_avg_pool, "AvgPool", value if input is None else input, ksize, strides,
                 padding, data_format, name)


max_pool2d, avg_pool2d = max_pool, avg_pool
