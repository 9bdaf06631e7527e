"""ImageFolder: a folder of image files with one sub-folder per class, decoded by Pillow.

    root/cat/001.png
    root/cat/002.jpg
    root/dog/a.png        -> classes ['cat', 'dog'], class_to_idx {'cat': 0, 'dog': 1}

Images are decoded when a sample or batch is asked for, to uint8 arrays: grayscale
('L') files stay (H, W), everything else becomes RGB (H, W, 3) — the layouts
`transforms.ToTensor` expects. `size=(h, w)` resizes every image on loading, so a
folder of mixed sizes can be batched; `mode='L'` or `'RGB'` converts every image to
one mode, so a folder mixing gray and colour files can be too. Decoding is
`images.open_image`'s, under its limits (pixels, PNG text, truncation, formats).
"""
import os

import numpy as np

from .dataset import Dataset
from .images import image_array

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_MODES = (None, "L", "RGB")


def pil_loader(path, size=None, mode=None):
    """Decode one image file to a uint8 array: (H, W) for grayscale, else (H, W, 3).

    size: (h, w) to resize to (bilinear), or None. mode: 'L' or 'RGB' to force one, or
    None to keep grayscale files gray and turn every other mode into RGB. A file that
    cannot be decoded is a DataFormatError naming it (see `images.open_image`).
    """
    return image_array(path, mode, size)


class ImageFolder(Dataset):
    """Images sorted into one sub-folder per class; samples are (uint8 image, int label).

    root: the folder of class folders. transform: applied to a batch of images (a one-
    image batch for `dataset[i]`). extensions: the file endings counted as images
    (case-insensitive). loader: `loader(path) -> array` replacing Pillow decoding (then
    `size` and `mode` are the loader's business). size: (h, w) (or one int) to resize
    every image to. mode: 'L' or 'RGB' to convert every image to.

    train (keyword): None reads `root` itself; True reads `root/train`, False `root/test`
    (or `root/val`) when such a folder exists, else `root` — the other data sets'
    (root, train, transform, download) convention. download: there is nothing to fetch;
    True is an error.

    Attributes: classes (sorted folder names), class_to_idx, samples (a list of
    (path, class index)), targets (the class indices), num_classes, input_shape.
    """
    task = "classification"

    def __init__(self, root, transform=None, extensions=IMG_EXTENSIONS, loader=None, size=None,
                 mode=None, *, train=None, download=False):
        if download:
            raise ValueError("ImageFolder: your own images cannot be downloaded; give root=, "
                             "the folder of class folders")
        if root and train is not None:
            for split in (("train",) if train else ("test", "val")):
                if os.path.isdir(os.path.join(root, split)):
                    root = os.path.join(root, split)
                    break
        self.train = train
        if mode not in _MODES:
            raise ValueError(f"ImageFolder: mode must be one of {_MODES}, got {mode!r}")
        if size is not None:
            size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(f"ImageFolder: size must be (h, w) of positive ints, got {size}")
        self.root, self.transform, self.size, self.mode = os.fspath(root), transform, size, mode
        self.extensions = tuple(e.lower() for e in extensions)
        self.loader = loader
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_samples(self.root, self.class_to_idx, self.extensions)
        self.targets = np.array([label for _, label in self.samples], dtype=np.int64)
        self.num_classes = len(self.classes)
        self._input_shape = None

    @staticmethod
    def find_classes(root):
        """Sorted class-folder names and their indices."""
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageFolder: {root} is not a folder")
        classes = sorted(e.name for e in os.scandir(root)
                         if e.is_dir() and not e.name.startswith("."))
        if not classes:
            raise FileNotFoundError(f"ImageFolder: {root} has no class folders (expected "
                                    f"root/<class>/<image> files)")
        return classes, {c: i for i, c in enumerate(classes)}

    @staticmethod
    def make_samples(root, class_to_idx, extensions, is_valid_file=None, allow_empty=None):
        """(path, class index) for every image file under each class folder, in sorted order.

        A file counts when its name ends with one of `extensions` (lower case) or, given
        `is_valid_file`, when `is_valid_file(path)` is true; hidden files never do.
        allow_empty: None raises FileNotFoundError only when no class has a file, False
        (torchvision's rule) when any class has none, True never.
        """
        def valid(folder, name):
            if name.startswith("."):
                return False
            if is_valid_file is not None:
                return bool(is_valid_file(os.path.join(folder, name)))
            return name.lower().endswith(extensions)

        samples, empty = [], []
        for name in sorted(class_to_idx):
            found = len(samples)
            for folder, _, files in sorted(os.walk(os.path.join(root, name), followlinks=True)):
                samples += [(os.path.join(folder, f), class_to_idx[name]) for f in sorted(files)
                            if valid(folder, f)]
            if len(samples) == found:
                empty.append(name)
        what = "valid files (is_valid_file)" if is_valid_file is not None else \
            f"images ({', '.join(extensions)})"
        if empty and allow_empty is False:
            raise FileNotFoundError(f"ImageFolder: no {what} in the class folders "
                                    f"{', '.join(empty)} of {root} (allow_empty=True accepts "
                                    f"empty classes)")
        if not samples and not allow_empty:
            raise FileNotFoundError(f"ImageFolder: no {what} in the class folders of {root}")
        return samples

    @property
    def input_shape(self):
        """One sample's shape as a model sees it, channels first (C, H, W); found by
        decoding the first image."""
        if self._input_shape is None:
            image = self._load(self.samples[0][0])
            self._input_shape = (1,) + image.shape if image.ndim == 2 else \
                (image.shape[2],) + image.shape[:2]
        return self._input_shape

    def _load(self, path):
        if self.loader is not None:
            return np.asarray(self.loader(path))
        return pil_loader(path, self.size, self.mode)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, label = self.samples[index]
        image = self._load(path)
        if self.transform is not None:
            image = self.transform(image[None])[0]
        return image, label

    def get_batch(self, indices):
        paths = [self.samples[int(i)][0] for i in indices]
        images = [self._load(p) for p in paths]
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(f"ImageFolder: images of different shapes {sorted(shapes)} cannot "
                             f"be batched (e.g. {paths[0]}); pass size=(h, w) to resize and "
                             f"mode='RGB' or 'L' to convert them all")
        images = np.stack(images)
        if self.transform is not None:
            images = self.transform(images)
        return images, self.targets[indices]
