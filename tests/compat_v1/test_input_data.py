"""glassnet.compat.v1.examples.tutorials.mnist.input_data: TF1's MNIST reader, on small
IDX files written in tmp_path (TensorFlow 2 no longer ships this module, so its
behaviour is checked against what TF1's source documents: splits, scaling, one-hot,
shapes, and next_batch's epochs)."""
import numpy as np
import pytest

from glassnet.compat.v1.examples.tutorials.mnist import input_data
from test_notes_examples import _learnable_digits, _mnist_folder


@pytest.fixture
def folder(tmp_path):
    _mnist_folder(tmp_path / "MNIST_data", 60, 20)
    return str(tmp_path / "MNIST_data")


def test_splits_scaling_and_labels(folder):
    images, labels = _learnable_digits(60, 0)
    m = input_data.read_data_sets(folder, validation_size=10)
    assert (m.train.num_examples, m.validation.num_examples, m.test.num_examples) == (50, 10, 20)
    # validation is the first 10 training images, in file order, until shuffled by next_batch
    np.testing.assert_array_equal(m.validation.images,
                                  (images[:10].reshape(10, 784).astype(np.float32)
                                   * np.float32(1 / 255)))
    np.testing.assert_array_equal(m.validation.labels, labels[:10])
    assert m.train.images.dtype == np.float32 and m.train.images.shape == (50, 784)
    assert m.train.labels.dtype == np.uint8
    assert 0.0 <= m.train.images.min() and m.train.images.max() == 1.0


def test_one_hot_uint8_and_unflattened(folder):
    m = input_data.read_data_sets(folder, one_hot=True, dtype=np.uint8, reshape=False,
                                  validation_size=0)
    images, labels = _learnable_digits(60, 0)
    assert m.validation.num_examples == 0 and m.train.num_examples == 60
    assert m.train.images.dtype == np.uint8 and m.train.images.shape == (60, 28, 28, 1)
    np.testing.assert_array_equal(m.train.images[..., 0], images)
    assert m.train.labels.dtype == np.float64 and m.train.labels.shape == (60, 10)
    np.testing.assert_array_equal(m.train.labels.argmax(1), labels)
    assert (m.train.labels.sum(1) == 1).all()


def test_next_batch_sees_every_image_once_per_epoch(folder):
    m = input_data.read_data_sets(folder, one_hot=True, validation_size=10, seed=3)
    everything = {row.tobytes() for row in m.train.images}
    seen = []
    for _ in range(3):                           # 3 x 20 = 60 > 50: crosses one epoch end
        x, y = m.train.next_batch(20)
        assert x.shape == (20, 784) and y.shape == (20, 10)
        seen += [row.tobytes() for row in x]
    assert m.train.epochs_completed == 1
    assert set(seen[:50]) == everything and len(set(seen[:50])) == 50    # first epoch: all
    # the batch that crossed the end: the old order's last 10, then 10 of a new order
    assert len(set(seen[50:])) == 10 and set(seen[50:]) <= everything
    x, _ = m.train.next_batch(40)                  # the new epoch's other 40
    assert set(seen[50:]) | {row.tobytes() for row in x} == everything


def test_next_batch_shuffles_with_the_seed_and_not_without_shuffle(folder):
    a = input_data.read_data_sets(folder, validation_size=10, seed=1)
    b = input_data.read_data_sets(folder, validation_size=10, seed=1)
    c = input_data.read_data_sets(folder, validation_size=10)
    first_a, first_b = a.train.next_batch(50)[0], b.train.next_batch(50)[0]
    np.testing.assert_array_equal(first_a, first_b)
    plain = c.train.next_batch(5, shuffle=False)[0]
    np.testing.assert_array_equal(plain, c.train.images[:5])
    assert not np.array_equal(first_a, c.train.images)    # shuffled: not the file order


def test_errors_name_the_problem(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "empty"))     # no MNIST anywhere
    m = input_data.read_data_sets(folder, validation_size=10)
    with pytest.raises(ValueError, match="batch_size must be in 1..50"):
        m.train.next_batch(51)
    with pytest.raises(ValueError, match="validation_size should be between 0 and 60"):
        input_data.read_data_sets(folder, validation_size=61)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        input_data.read_data_sets(str(tmp_path / "nowhere"))


def test_dense_to_one_hot():
    np.testing.assert_array_equal(input_data.dense_to_one_hot(np.array([2, 0]), 3),
                                  [[0, 0, 1], [1, 0, 0]])
