"""TensorFlow 1's MNIST reader: `mnist = input_data.read_data_sets("MNIST_data/", one_hot=True)`,
then `mnist.train.next_batch(100)`, `mnist.test.images`, `mnist.validation.labels`.

What TF1's reader gave, kept here because the notes' programs depend on it:
- three DataSets, `train`, `validation` and `test`; validation is the first 5,000 training
  images (`validation_size`) and train the 55,000 after them;
- images float32 scaled to [0, 1] and flattened to 784 values (`reshape=True`), or
  uint8 0..255 unscaled with `dtype=uint8`; `reshape=False` keeps (N, 28, 28, 1);
- labels uint8 digits, or with `one_hot=True` float64 rows of ten (numpy's default type,
  as TF1 built them);
- `next_batch(n)` shuffles the set before its first batch and at the end of every epoch;
  a batch that crosses the end of an epoch is the rest of the old order followed by the
  start of a new one, so every image is seen once per epoch.

The IDX files are found where glassnet looks for MNIST (`train_dir`, `train_dir/mnist`,
`$GLASSNET_DATA/mnist`, ...; `glassnet datasets` lists them) and read by glassnet's
checked IDX reader. Nothing is downloaded unless `download=True` (TF1 always tried to).
"""
import collections

import numpy as np

from glassnet.data.mnist import MNIST

__all__ = ["DataSet", "Datasets", "read_data_sets", "dense_to_one_hot"]

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


def dense_to_one_hot(labels_dense, num_classes=10):
    """Class indices (N,) as one-hot rows (N, num_classes), float64 as in TF1."""
    labels_dense = np.asarray(labels_dense)
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.ravel().astype(np.int64)] = 1
    return one_hot


class DataSet:
    """One split: `images`, `labels`, `num_examples`, `epochs_completed`, `next_batch`."""

    def __init__(self, images, labels, dtype=np.float32, reshape=True, seed=None):
        dtype = np.dtype(dtype)
        if dtype not in (np.uint8, np.float32):
            raise TypeError(f"DataSet: dtype must be uint8 or float32, got {dtype}")
        images = np.asarray(images)
        if images.shape[0] != np.asarray(labels).shape[0]:
            raise ValueError(f"DataSet: {images.shape[0]} images but "
                             f"{np.asarray(labels).shape[0]} labels")
        if images.ndim == 3:                       # (N, 28, 28) from the IDX file
            images = images[..., None]
        if reshape:
            if images.shape[3] != 1:
                raise ValueError(f"DataSet: reshape=True needs one channel, got images of "
                                 f"shape {images.shape}")
            images = images.reshape(images.shape[0], -1)
        if dtype == np.float32:
            images = images.astype(np.float32) * np.float32(1.0 / 255.0)
        self._images, self._labels = images, np.asarray(labels)
        self._num_examples = images.shape[0]
        self._epochs_completed = self._index_in_epoch = 0
        self._rng = np.random.default_rng(seed)

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: self._num_examples)
    epochs_completed = property(lambda self: self._epochs_completed)

    def _shuffle(self):
        order = self._rng.permutation(self._num_examples)
        self._images, self._labels = self._images[order], self._labels[order]

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """The next `batch_size` (images, labels); see the module's note on epochs."""
        if fake_data:
            raise NotImplementedError("next_batch: fake_data is not supported")
        batch_size = int(batch_size)
        if not 0 < batch_size <= self._num_examples:
            raise ValueError(f"next_batch: batch_size must be in 1..{self._num_examples} "
                             f"(the examples in this set), got {batch_size}")
        start = self._index_in_epoch
        if start == 0 and self._epochs_completed == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch = start + batch_size
            return self._images[start:start + batch_size], self._labels[start:start + batch_size]
        self._epochs_completed += 1
        rest_images, rest_labels = self._images[start:], self._labels[start:]
        if shuffle:
            self._shuffle()
        self._index_in_epoch = batch_size - len(rest_images)
        end = self._index_in_epoch
        return (np.concatenate([rest_images, self._images[:end]]),
                np.concatenate([rest_labels, self._labels[:end]]))


def read_data_sets(train_dir=None, fake_data=False, one_hot=False, dtype=np.float32,
                   reshape=True, validation_size=5000, seed=None, download=False,
                   source_url=None):
    """The MNIST splits as TF1's tutorial reader gave them (see the module's note)."""
    if fake_data:
        raise NotImplementedError("read_data_sets: fake_data is not supported")
    (train_x, train_y, _), (test_x, test_y, _) = (
        MNIST.read_split(train_dir, True, download), MNIST.read_split(train_dir, False, False))
    if not 0 <= validation_size <= len(train_x):
        raise ValueError(f"read_data_sets: validation_size should be between 0 and "
                         f"{len(train_x)}, got {validation_size}")
    if one_hot:
        train_y, test_y = dense_to_one_hot(train_y), dense_to_one_hot(test_y)
    else:
        train_y, test_y = train_y.astype(np.uint8), test_y.astype(np.uint8)
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(train=DataSet(train_x[validation_size:], train_y[validation_size:], **options),
                    validation=DataSet(train_x[:validation_size], train_y[:validation_size],
                                       **options),
                    test=DataSet(test_x, test_y, **options))


load_mnist = read_data_sets
