"""CIFAR-10 as torchvision has it, read by glassnet's safe CIFAR reader.

The batches are looked for in torchvision's `root/cifar-10-batches-py`, in
`root/cifar10/cifar-10-batches-py`, in `root` itself and in glassnet's cache. They are read
by `glassnet.data.cifar`, whose unpickler can only rebuild arrays (no pickled code runs),
and checked by format rather than by MD5: a dev split (data_batch_1..4 and test_batch, see
`glassnet.data.cifar.train_batches`) trains on its four batches.
"""
from ...data import cifar as _batches
from .vision import ImageArrayDataset, split_repr


class CIFAR10(ImageArrayDataset):
    """CIFAR-10: `ds[i]` is (32x32 PIL image of mode 'RGB', int label), each put through
    `transform` / `target_transform` when given.

    Attributes as torchvision's: `data` (uint8 ndarray (N, 32, 32, 3)), `targets` (a list
    of ints), `classes` (from batches.meta), `class_to_idx`, `train`, `root`; also
    `folder`, where the batches were found. Samples are read from `data` and `targets`, so
    replacing them subsets the set. download=True fetches and unpacks the archive into
    `root/cifar10` after checking its MD5 sum.
    """
    base_folder = _batches.FOLDER
    source = _batches.CIFAR10
    mode = "RGB"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        self.data, labels, classes, self.folder = self.source.read_split(self.root, train,
                                                                         download)
        self.targets = labels.tolist()
        self.classes = classes if classes is not None else list(self.source.classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def extra_repr(self):
        return split_repr(self.train)
