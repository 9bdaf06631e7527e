"""keras.datasets.cifar10: `(x_train, y_train), (x_test, y_test) = cifar10.load_data()`.

The batches are read by glassnet's CIFAR reader (`glassnet.data.cifar`), whose unpickler
rebuilds arrays and nothing else: no code in a downloaded file can run.
"""
import numpy as np

from ...data.cifar import CIFAR10
from .mnist import read_splits

__all__ = ["load_data"]


def load_data(path=None, download=False):
    """CIFAR-10: `(x_train, y_train), (x_test, y_test)`, x uint8 (N, 32, 32, 3) channels last,
    y uint8 (N, 1) classes 0..9 (airplane, automobile, bird, cat, deer, dog, frog, horse,
    ship, truck), as Keras returns them: 50,000 and 10,000 with the full files.

    A dev split (data_batch_1..4 beside test_batch, as `make-dev-split DIR` writes) loads
    as 40,000 training images and its held-out batch as the test set.

    path (not in Keras, which takes none): a folder holding `cifar-10-batches-py/` (or the
    batch files themselves), or one of the batch files, read first. Then
    `$GLASSNET_DATA/cifar10/cifar-10-batches-py` (default under `~/.cache/glassnet`), then
    Keras's download folder (`~/.keras/datasets/cifar-10-batches-py`).
    download: fetch and unpack the archive when the batches are found nowhere (glassnet
    never downloads unasked).
    """
    train, test = read_splits(_read, path, download, "cifar10.load_data")
    return tuple((images, labels.astype(np.uint8).reshape(-1, 1)) for images, labels in
                 (train, test))


def _read(root, train, download):
    images, labels, _, _ = CIFAR10.read_split(root, train, download)
    return images, labels
