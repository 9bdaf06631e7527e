"""torchvision.transforms' classes (v1) for glassnet: the same names, arguments, defaults
and results, on PIL images and glassnet Tensors (the math is in `functional`). The
deterministic ones are here, the random ones in _random.py (imported below, so this
module holds them all, as torchvision's does).

Randomness: every random transform draws from glassnet's global generator, looked up at
draw time (`glassnet.random.default_generator()`), so `gn.manual_seed(s)` makes a run
repeat; `get_params` are static methods with torchvision's signatures.

Batches: a transform with `batchable = True` also has `apply_batch(batch)`, which takes
a whole batch as one NumPy array -- the raw images (N, H, W) / (N, H, W, C) a dataset
stores -- and gives exactly what applying it to each image and stacking would give, in
one vectorised pass: ToTensor, PILToTensor, Normalize, and a Compose whose members all run
on batches. The random flips and RandomCrop (constant fill) run on batches inside such a
Compose, before or after ToTensor (`batch_member`; on their own they would hand out PIL
images); Compose tells them which layout they receive. They draw one set of parameters
per image in the order the per-image calls would: alone they repeat those calls exactly;
with other random members the draws interleave differently (equal in distribution).
"""
from collections.abc import Sequence

import numpy as np

from . import functional as F
from ._base import Geometric, Transform, check_padding
from ._functional_tensor import channel_stats
from ._utils import InterpolationMode, fail, interpolation_mode, setup_size

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype",
           "Normalize", "Resize", "CenterCrop", "Pad", "Lambda", "Grayscale", "InterpolationMode"]


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def batch_member(self):
        """Every member can run on a batch."""
        return all(getattr(t, "batchable", False) or getattr(t, "batch_member", False)
                   for t in self.transforms)

    @property
    def makes_tensors(self):
        return any(getattr(t, "makes_tensors", False) for t in self.transforms)

    @property
    def batchable(self):
        """apply_batch gives what the per-image calls give, stacked: every member runs on a
        batch, and geometric members are followed by a conversion to tensors (alone they
        would hand out PIL images, which a batch array cannot stand for)."""
        geometric = any(isinstance(t, (Geometric, Compose)) for t in self.transforms)
        return self.batch_member and (self.makes_tensors or not geometric)

    def apply_batch(self, batch, channels_last=True):
        """Run every member's apply_batch on a batch of raw images (N, H, W[, C]) (or, with
        channels_last=False, of tensor images (N, C, H, W))."""
        if not self.batch_member:
            names = [type(t).__name__ for t in self.transforms
                     if not (getattr(t, "batchable", False) or getattr(t, "batch_member", False))]
            raise fail(TypeError, "Compose", f"apply_batch needs transforms that run on "
                                             f"batches; {', '.join(names)} do not")
        for t in self.transforms:
            if isinstance(t, (Geometric, Compose)):
                batch = t.apply_batch(batch, channels_last=channels_last)
            else:
                batch = t.apply_batch(batch)
            # raw image arrays until ToTensor / PILToTensor
            channels_last = channels_last and not getattr(t, "makes_tensors", False)
        return batch

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


# ---------------------------------------------------------------------- conversion

class ToTensor(Transform):
    """PIL image or (H, W[, C]) ndarray -> (C, H, W) Tensor; bytes become float32 in [0, 1]
    (x / 255), other dtypes and PIL modes I, I;16, F keep their values."""
    batchable = makes_tensors = True

    def forward(self, pic):
        return F.to_tensor(pic)

    def apply_batch(self, batch):
        """(N, H, W) or (N, H, W, C) -> (N, C, H, W), by the per-image rule."""
        batch = self._batch_array(batch)
        return F.hwc_to_chw(batch[..., None] if batch.ndim == 3 else batch)


class PILToTensor(Transform):
    """PIL image -> (C, H, W) Tensor of the image's own dtype."""
    batchable = makes_tensors = True

    def forward(self, pic):
        return F.pil_to_tensor(pic)

    def apply_batch(self, batch):
        batch = self._batch_array(batch)
        return np.ascontiguousarray(np.moveaxis(batch[..., None] if batch.ndim == 3 else batch,
                                                -1, -3))


class ToPILImage(Transform):
    """(C, H, W) Tensor or (H, W, C) ndarray -> PIL image (see functional.to_pil_image)."""

    def __init__(self, mode=None):
        self.mode = mode

    def forward(self, pic):
        return F.to_pil_image(pic, self.mode)

    def _repr_args(self):
        return {} if self.mode is None else {"mode": self.mode}


class ConvertImageDtype(Transform):
    """Tensor image -> `dtype`, values rescaled (floats in [0, 1], ints in [0, max])."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Transform):
    """output[c] = (input[c] - mean[c]) / std[c] on float Tensor images (..., C, H, W)."""
    batchable = True

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace
        if np.any(np.asarray(std, dtype=np.float64) == 0):
            raise self._fail(ValueError, f"std must not be 0, got {std!r}")

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def apply_batch(self, batch):
        """A float (N, C, H, W) array, normalised as each image would be."""
        batch = self._batch_array(batch, ndims=(4,))
        if batch.dtype.kind != "f":
            raise self._fail(TypeError, f"apply_batch expects float images (put ToTensor "
                                        f"first), got dtype {batch.dtype}")
        mean, std = channel_stats(self.mean, self.std, batch.shape[1], batch.dtype,
                                  type(self).__name__)
        out = np.subtract(batch, mean, out=batch if self.inplace else None)
        return np.divide(out, std, out=out)

    def _repr_args(self):
        return {"mean": self.mean, "std": self.std}


class Lambda(Transform):
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise self._fail(TypeError, f"lambd should be callable, got "
                                        f"{type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class Grayscale(Transform):
    """To grayscale (ITU-R 601-2 luma), with 1 or 3 equal output channels."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise self._fail(ValueError, f"num_output_channels should be 1 or 3, got "
                                         f"{num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def _repr_args(self):
        return {"num_output_channels": self.num_output_channels}


class Resize(Transform):
    """Resize to (h, w), or the smaller edge to `size` (the longer one int(size * long /
    short), at most max_size)."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        if not (isinstance(size, int) or isinstance(size, Sequence)) or isinstance(size, bool):
            raise self._fail(TypeError, f"size should be an int or a sequence, got {size!r}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise self._fail(ValueError, f"if size is a sequence, it should have 1 or 2 "
                                         f"values, got {len(size)}")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = interpolation_mode(interpolation, type(self).__name__)

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def _repr_args(self):
        return {"size": self.size, "interpolation": self.interpolation.value,
                "max_size": self.max_size, "antialias": self.antialias}


class CenterCrop(Transform):
    """The central (h, w) box (padded with 0 first if the image is smaller)."""

    def __init__(self, size):
        self.size = setup_size(size, type(self).__name__)

    def forward(self, img):
        return F.center_crop(img, self.size)

    def _repr_args(self):
        return {"size": self.size}


class Pad(Transform):
    """Pad every border (see functional.pad)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        check_padding(self, padding, fill, padding_mode)
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def _repr_args(self):
        return {"padding": self.padding, "fill": self.fill, "padding_mode": self.padding_mode}


# the random transforms live in _random.py; torchvision keeps them all in one namespace
from ._random import *  # noqa: E402,F401,F403
from ._random import __all__ as _random_names  # noqa: E402

__all__ += _random_names
