"""torchvision.datasets' shape over glassnet's readers: MNIST, FashionMNIST, CIFAR10,
ImageFolder, DatasetFolder. Samples are (PIL image, int label) as in torchvision; a
DataLoader batches them in one vectorised call when the transform allows (`get_batch`)."""
from . import cifar, folder, mnist, vision  # noqa: F401  (torchvision code imports these)
from .cifar import CIFAR10  # noqa: F401
from .folder import DatasetFolder, ImageFolder  # noqa: F401
from .mnist import MNIST, FashionMNIST  # noqa: F401
from .vision import VisionDataset  # noqa: F401

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "DatasetFolder", "VisionDataset"]
