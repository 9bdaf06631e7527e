"""keras.utils: to_categorical and normalize against real Keras (when installed), their
errors, the Sequence base class and set_random_seed."""
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet.keras import utils
from glassnet.keras.utils import Sequence, normalize, np_utils, to_categorical


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


LABELS = [
    ([0, 2, 1, 3], None),
    (np.array([[3], [0], [9]]), None),               # CIFAR's (N, 1): the 1 is dropped
    (np.array([[1, 2], [0, 1]]), 5),                 # (N, 2) keeps both axes
    (np.array([[[1]], [[0]]], np.uint8), 2),         # only the last size-1 axis goes
    (np.array(4), 6),                                # a scalar
    (np.array([1.0, 0.0, 2.0]), None),               # whole-number floats are labels
    ([True, False], None),
]


@pytest.mark.parametrize("y, num_classes", LABELS)
def test_to_categorical_matches_keras(keras, y, num_classes):
    want = keras.utils.to_categorical(y, num_classes)
    got = to_categorical(y, num_classes)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_to_categorical_one_hot_rows_and_dtype():
    out = to_categorical([2, 0], 3, dtype="uint8")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    assert to_categorical([], num_classes=4).shape == (0, 4)
    assert np_utils.to_categorical is to_categorical      # the notes' Keras 2 spelling
    assert utils.to_categorical(np.arange(10).reshape(-1, 1)).shape == (10, 10)


@pytest.mark.parametrize("y, num_classes, error, match", [
    ([0, -1, 2], None, ValueError, "class labels must be >= 0, got -1"),
    ([0, 3], 3, ValueError, r"label 3 is out of range for num_classes=3 \(labels run 0..2\)"),
    ([0.5, 1], None, ValueError, "whole-number class labels, got 0.5"),
    ([np.nan], None, ValueError, "whole-number"),
    ([], None, ValueError, "y is empty"),
    (["a", "b"], None, TypeError, "integer class labels"),
    ([1, 2], 2.5, TypeError, "num_classes must be an int"),
])
def test_to_categorical_errors_name_the_value(y, num_classes, error, match):
    with pytest.raises(error, match=match) as caught:
        to_categorical(y, num_classes)
    assert str(caught.value).startswith("to_categorical: ")


@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 1), (-1, np.inf), (2, 2)])
def test_normalize_matches_keras(keras, axis, order):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    x[1, 2] = 0                                              # a zero vector stays zero
    want = keras.utils.normalize(x, axis=axis, order=order)
    got = normalize(x, axis=axis, order=order)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_normalize_axis_zero_and_integers():
    x = np.array([[3, 1], [4, 0]])
    got = normalize(x, axis=0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [[0.6, 1.0], [0.8, 0.0]])
    np.testing.assert_allclose(np.linalg.norm(normalize(x), axis=-1), [1, 1])
    with pytest.raises(ValueError, match="normalize: axis 2 is out of range"):
        normalize(x, axis=2)


class Squares(Sequence):
    """A Sequence as the Keras docs write one: batches of (x, x**2), shuffled per epoch."""

    def __init__(self, n, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.batch_size = np.arange(n), batch_size
        self.epochs = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        x = self.x[i * self.batch_size:(i + 1) * self.batch_size]
        return x, x ** 2

    def on_epoch_end(self):
        self.epochs += 1
        self.x = self.x[::-1]


def test_sequence_len_getitem_iteration_and_epoch_end():
    seq = Squares(10, 4, workers=2)
    assert len(seq) == seq.num_batches == 3 and seq.workers == 2
    batches = list(seq)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), np.arange(10))
    np.testing.assert_array_equal(seq[2][1], [64, 81])
    seq.on_epoch_end()
    assert seq.epochs == 1 and seq[0][0].tolist() == [9, 8, 7, 6]
    assert utils.PyDataset is Sequence


def test_sequence_written_for_keras_2_without_super_init():
    class Old(Sequence):
        def __init__(self):        # Keras 2 subclasses often skip super().__init__()
            self.data = [1, 2, 3]

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return self.data[i]

    old = Old()
    assert (old.workers, old.use_multiprocessing, old.max_queue_size) == (1, False, 10)
    assert list(old) == [1, 2, 3]
    old.on_epoch_begin()
    old.on_epoch_end()


def test_sequence_without_len_is_endless_and_base_methods_say_what_is_missing():
    class Endless(Sequence):
        def __getitem__(self, i):
            return i

    first = []
    for batch in Endless():
        first.append(batch)
        if len(first) == 5:
            break
    assert first == [0, 1, 2, 3, 4] and Endless().num_batches is None
    with pytest.raises(NotImplementedError, match=r"Sequence.__getitem__\(index\)"):
        Sequence()[0]


def test_set_random_seed_repeats_numpy_and_glassnet_draws():
    def draws():
        return np.random.random(3).tolist(), gn.randn(3).numpy().tolist()
    utils.set_random_seed(7)
    first = draws()
    utils.set_random_seed(7)
    assert draws() == first
    with pytest.raises(ValueError, match="set_random_seed: seed must be an int"):
        utils.set_random_seed(1.5)
