"""ImageFolder and DatasetFolder as torchvision has them, on glassnet's folder walk and
image decoder (`glassnet.data.images`, with its limits for hostile files).

    root/cat/001.png
    root/dog/a.jpg      -> classes ['cat', 'dog'], samples [(root/cat/001.png, 0), ...]

A sample is (loader(path) put through `transform`, class index put through
`target_transform`); the default loader decodes an image to an RGB PIL image, as
torchvision's does, but only in the formats glassnet reads (PNG, JPEG, BMP, GIF, TIFF,
WebP, PPM/PGM; torchvision's tries every format Pillow has) and within its pixel limit.
Hidden files and folders (names starting with '.') are skipped.
"""
import os

import numpy as np

from ...data import folder as _folder
from ...data.images import open_image
from .vision import VisionDataset, as_array, take_targets

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path):
    """An image file as an RGB PIL image, read in full; a file that cannot be decoded
    within glassnet's limits (`glassnet.data.images`) is a DataFormatError naming it."""
    return open_image(path, "RGB")


default_loader = pil_loader     # torchvision's other backend (accimage) does not exist here


def has_file_allowed_extension(filename, extensions):
    """Whether `filename` ends with one of `extensions` (a string or a tuple), in any case."""
    return filename.lower().endswith(extensions if isinstance(extensions, str)
                                     else tuple(extensions))


def is_image_file(filename):
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """(sorted class-folder names, {name: index}); FileNotFoundError when there are none."""
    return _folder.ImageFolder.find_classes(os.fspath(directory))


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty=False):
    """[(path, class index)] of every file under the class folders that has one of
    `extensions` or passes `is_valid_file(path)` (give exactly one of the two). A class
    folder with no such file is a FileNotFoundError unless allow_empty."""
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        class_to_idx = find_classes(directory)[1]
    elif not class_to_idx:
        raise ValueError("make_dataset: class_to_idx is empty; it needs at least one class "
                         "to collect samples for")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("make_dataset: give exactly one of extensions= and is_valid_file= "
                         f"(got extensions={extensions!r}, is_valid_file={is_valid_file!r})")
    if extensions is not None:
        extensions = (extensions,) if isinstance(extensions, str) else tuple(extensions)
        extensions = tuple(e.lower() for e in extensions)
    return _folder.ImageFolder.make_samples(directory, class_to_idx, extensions, is_valid_file,
                                            allow_empty=bool(allow_empty))


class DatasetFolder(VisionDataset):
    """Files sorted into one sub-folder per class, each read by `loader(path)`.

    Attributes as torchvision's: `classes`, `class_to_idx`, `samples` ([(path, index)]),
    `targets` (the indices, a list), `loader`, `extensions`. Subclasses may override
    `find_classes(directory)` and `make_dataset(...)`, as in torchvision.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions,
                                         is_valid_file, allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.targets = [index for _, index in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):
        if class_to_idx is None:
            raise ValueError("DatasetFolder.make_dataset: class_to_idx cannot be None")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)

    def __len__(self):
        return len(self.samples)

    def get_batch(self, indices):
        """(transformed images, int64 labels) of the samples at `indices`, equal to making
        each sample and stacking, or None when samples must be made one by one (a custom
        loader, or see `batch_transform`). Images of one size are transformed as one batch."""
        apply = self.batch_transform()
        if apply is None or self.loader is not pil_loader:
            return None
        images = [self.loader(self.samples[int(i)][0]) for i in indices]
        arrays = [np.asarray(image) for image in images]
        if len({a.shape for a in arrays}) == 1:
            batch = as_array(apply(np.stack(arrays)))
        else:           # sizes differ: the transform has to make them equal, image by image
            batch = [as_array(self.transform(image)) for image in images]
            if len({b.shape for b in batch}) > 1:
                raise ValueError(f"{type(self).__name__}: images of different sizes "
                                 f"{sorted({a.shape for a in arrays})} stay different after "
                                 f"the transform {sorted({b.shape for b in batch})} and cannot "
                                 f"be batched; add Resize or CenterCrop to the transform")
            batch = np.stack(batch)
        return batch, take_targets(self.targets, indices)


class ImageFolder(DatasetFolder):
    """Images sorted into one sub-folder per class (files ending in IMG_EXTENSIONS, or
    those `is_valid_file(path)` accepts); a sample is (RGB PIL image, class index) through
    the transforms. Also `imgs`, the same list as `samples`."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
