"""Data: datasets (MNIST, Fashion-MNIST, CIFAR-10, image folders, generated sets), their
download and cache, the registry by name, the DataLoader and the batch transforms."""
from .dataset import (Dataset, ImageDataset, TensorDataset, Subset, ClassSubset,  # noqa: F401
                      AlternatingFlips, random_split)
from .loader import DataLoader  # noqa: F401
from .mnist import MNIST, FashionMNIST, read_idx, DataFormatError  # noqa: F401
from .cifar import CIFAR10  # noqa: F401
from .folder import ImageFolder, pil_loader, IMG_EXTENSIONS  # noqa: F401
from .images import set_max_image_pixels, max_image_pixels  # noqa: F401
from .synthetic import Blobs, Sine  # noqa: F401
from .download import DownloadError, ChecksumError, cache_dir, fetch, extract_tar  # noqa: F401
from .registry import (get_dataset, available_datasets, dataset_names,  # noqa: F401
                       default_transform)
from . import transforms  # noqa: F401
# PyTorch's torch.utils.data names (also under glassnet.utils.data)
from .dataset import IterableDataset, ConcatDataset, ChainDataset  # noqa: F401
from .sampler import (Sampler, SequentialSampler, RandomSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler, BatchSampler)
from .collate import default_collate, default_convert  # noqa: F401
from .workers import get_worker_info, WorkerInfo  # noqa: F401
