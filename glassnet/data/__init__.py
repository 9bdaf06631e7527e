"""Data: datasets, the DataLoader, and the MNIST-format readers."""
from .dataset import Dataset, TensorDataset, Subset, random_split  # noqa: F401
from .loader import DataLoader  # noqa: F401
from .mnist import MNIST, FashionMNIST, read_idx, DataFormatError  # noqa: F401
from . import transforms  # noqa: F401
