"""keras.datasets.fashion_mnist: `(x_train, y_train), (x_test, y_test) = load_data()`, read
by glassnet's IDX reader (`glassnet.data.mnist.FashionMNIST`)."""
from ...data.mnist import FashionMNIST
from .mnist import load_idx

__all__ = ["load_data"]


def load_data(path=None, download=False):
    """Zalando's Fashion-MNIST: `(x_train, y_train), (x_test, y_test)`, x uint8 (N, 28, 28),
    y uint8 (N,) classes 0..9 (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
    Sneaker, Bag, Ankle boot); 60,000 and 10,000 with the full files.

    path (not in Keras, which takes none): a folder holding the four IDX files (also in its
    `fashion-mnist/` or `FashionMNIST/raw/` sub-folder) or one of those files, read first.
    Then `$GLASSNET_DATA/fashion-mnist` (default `~/.cache/glassnet/fashion-mnist`), Debian's
    dataset-fashion-mnist package (`/usr/share/datasets/fashion-mnist`) and Keras's download
    folder (`~/.keras/datasets/fashion-mnist`).
    download: fetch the files when they are found nowhere (glassnet never downloads unasked).
    """
    return load_idx(FashionMNIST, path, download, "fashion_mnist.load_data")
