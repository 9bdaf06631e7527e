"""keras.datasets: the notes' data sets as NumPy arrays, in Keras's shapes and dtypes.

    from glassnet.keras.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

Read from local files by glassnet's validating readers (`glassnet.data`), never downloaded
unless `load_data(download=True)` asks: the missing-data error says where glassnet looked.
"""
from . import cifar10, fashion_mnist, mnist  # noqa: F401

__all__ = ["mnist", "fashion_mnist", "cifar10"]
