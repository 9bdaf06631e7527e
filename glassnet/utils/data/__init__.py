"""torch.utils.data's names over glassnet's one data pipeline (`glassnet.data`), so that
`from glassnet.utils import data` stands in for `from torch.utils import data`."""
from ...data.dataset import (Dataset, IterableDataset, TensorDataset, Subset,  # noqa: F401
                             ConcatDataset, ChainDataset, random_split)
from ...data.sampler import (Sampler, SequentialSampler, RandomSampler,  # noqa: F401
                             SubsetRandomSampler, WeightedRandomSampler, BatchSampler)
from ...data.loader import DataLoader  # noqa: F401
from ...data.collate import default_collate, default_convert  # noqa: F401
from ...data.workers import get_worker_info  # noqa: F401

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "DataLoader",
           "default_collate", "default_convert", "get_worker_info"]
