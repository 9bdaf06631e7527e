"""Keras's array helpers for labels and feature vectors: `to_categorical`, `normalize`.

Keras 2 kept them in `keras.utils.np_utils` (the spelling the notes use:
`from keras.utils import np_utils; np_utils.to_categorical(y, 10)`); Keras 3 has them in
`keras.utils`. Both spellings reach these functions.

They work on NumPy arrays and return NumPy arrays, float32 unless asked otherwise: the
one-hot matrix goes straight into `model.fit` next to float32 images, and a float64 copy
of a 60,000 x 10 label matrix would only be converted back.
"""
import numbers

import numpy as np

__all__ = ["to_categorical", "normalize"]


def _integer_labels(y):
    """y as an int64 array, refusing what is not a whole number (Keras would truncate 2.7 to
    2 without a word, which hides a mix-up of labels and scores)."""
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"to_categorical: y must hold integer class labels, got an array of "
                        f"{arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or (arr != np.floor(arr)).any():
            bad = arr[~np.isfinite(arr) | (arr != np.floor(arr))].flat[0]
            raise ValueError(f"to_categorical: y must hold whole-number class labels, got "
                             f"{bad}")
    return arr.astype(np.int64)


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows for integer class labels: label k becomes a row with a 1 in column k.

    y: labels 0..num_classes-1, any shape; a last axis of size 1 is dropped first, as Keras
    does, so CIFAR-10's (N, 1) labels give (N, 10) and not (N, 1, 10).
    num_classes: the number of columns; None (or 0) means max(y) + 1, as in Keras. Give it
    explicitly for a subset of the data that may lack the largest class.
    dtype: of the result, float32 by default (Keras 2's default; Keras 3 returns float64).
    Negative labels and labels >= num_classes are an error here (in Keras a -1 silently
    marks the last class, and a too-large label fails inside NumPy's indexing).
    """
    labels = _integer_labels(y)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is not None and not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"to_categorical: num_classes must be an int, got {num_classes!r}")
    if not num_classes:
        if flat.size == 0:
            raise ValueError("to_categorical: y is empty, so num_classes cannot be inferred; "
                             "give num_classes=")
        num_classes = int(flat.max()) + 1
    num_classes = int(num_classes)
    if num_classes < 0:
        raise ValueError(f"to_categorical: num_classes must be positive, got {num_classes}")
    if flat.size and flat.min() < 0:
        raise ValueError(f"to_categorical: class labels must be >= 0, got {flat.min()}")
    if flat.size and flat.max() >= num_classes:
        raise ValueError(f"to_categorical: label {flat.max()} is out of range for "
                         f"num_classes={num_classes} (labels run 0..{num_classes - 1})")
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (L2 by default), so each vector has norm 1;
    an all-zero vector stays zero instead of becoming NaN. Float input keeps its dtype;
    integer input becomes float32.

    (Keras's own version mixes up axis=0 with axis=-1 when it puts the norm's axis back;
    here the norm keeps its axis, so every axis means what it says.)
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    if x.ndim == 0:
        raise ValueError("normalize: x must have at least one axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"normalize: axis {axis} is out of range for x of shape {x.shape}")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm.astype(x.dtype, copy=False)
