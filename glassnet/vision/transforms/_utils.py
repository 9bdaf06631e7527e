"""What the functional layer and the transform classes share: the InterpolationMode enum,
the checks of image inputs and arguments, and the errors they raise.

Errors. A function raises `TypeError`/`ValueError` subclasses whose message starts with
the function's name ("normalize: ..."); a transform class that called it re-raises the
same kind of error under its own name ("Normalize: ..."), so the user reads the name of
the thing they wrote, never an internal helper's.
"""
import enum
import numbers
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ...tensor import Tensor


class InterpolationMode(enum.Enum):
    """How a resampling transform reads between pixels (torchvision's names and values)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # Pillow's other filters (PIL images only)
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer filter constants, accepted in place of the enum as torchvision does
_FROM_PIL = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
PIL_FILTER = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
              InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
              InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
              InterpolationMode.LANCZOS: 1}


# ------------------------------------------------------------------------- errors

class ImageTypeError(TypeError):
    """An input of the wrong type (a PIL image where a Tensor is needed, a string, ...)."""


class ImageValueError(ValueError):
    """An input of the wrong shape, or an argument out of its range."""


def fail(error, who, detail):
    """The exception to raise: `who: detail`, of kind TypeError or ValueError."""
    kind = ImageTypeError if error is TypeError else ImageValueError
    exc = kind(f"{who}: {detail}")
    exc.detail = detail
    return exc


def relabel(exc, who):
    """The same error told under another name (a transform class's)."""
    return fail(TypeError if isinstance(exc, TypeError) else ValueError, who, exc.detail)


# ------------------------------------------------------------------------- inputs

def is_pil(img):
    return isinstance(img, Image.Image)


def describe(img):
    """What was given, in a few words, for error messages."""
    if is_pil(img):
        return f"a PIL image (mode {img.mode!r}, size {img.size[0]}x{img.size[1]})"
    if isinstance(img, (Tensor, np.ndarray)):
        kind = "a Tensor" if isinstance(img, Tensor) else "an ndarray"
        return f"{kind} of shape {tuple(img.shape)} and dtype {np.dtype(img.dtype).name}"
    return f"{type(img).__module__}.{type(img).__qualname__}".replace("builtins.", "")


def image_kind(img, who, tensor_only=False):
    """'pil' or 'tensor' for an image `who` can take, else a TypeError/ValueError."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise fail(ValueError, who, f"expected a Tensor image (..., H, W), got "
                                        f"{describe(img)}")
        return "tensor"
    if is_pil(img) and not tensor_only:
        return "pil"
    expected = "a Tensor image (..., C, H, W)" if tensor_only else \
        "a PIL image or a Tensor image (..., C, H, W)"
    raise fail(TypeError, who, f"expected {expected}, got {describe(img)}")


def dimensions(img, who):
    """[channels, height, width] of a PIL or Tensor image."""
    if image_kind(img, who) == "pil":
        return [len(img.getbands()), img.size[1], img.size[0]]
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def interpolation_mode(value, who):
    """An InterpolationMode from the enum or a Pillow filter constant."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, numbers.Integral) and int(value) in _FROM_PIL:
        return _FROM_PIL[int(value)]
    raise fail(TypeError, who, f"interpolation should be an InterpolationMode or a Pillow "
                               f"filter constant, got {value!r}")


# ------------------------------------------------------------------------- arguments

def is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_sequence(x, name, sizes, who):
    if not isinstance(x, Sequence) or isinstance(x, str):
        raise fail(TypeError, who, f"{name} should be a sequence of length "
                                   f"{' or '.join(map(str, sizes))}, got {x!r}")
    if len(x) not in sizes:
        raise fail(ValueError, who, f"{name} should be a sequence of length "
                                    f"{' or '.join(map(str, sizes))}, got {len(x)} values")


def setup_size(size, who):
    """(h, w) from an int, a 1-sequence or a 2-sequence of positive ints."""
    if is_number(size):
        size = (int(size), int(size))
    else:
        check_sequence(size, "size", (1, 2), who)
        size = (size[0], size[0]) if len(size) == 1 else tuple(size)
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in size):
        raise fail(ValueError, who, f"size should hold positive ints (h, w), got {size}")
    return tuple(int(s) for s in size)


def setup_angle(x, name, sizes, who):
    """A number d -> [-d, d] (d must be >= 0); a sequence of `sizes` numbers as floats."""
    if is_number(x):
        if x < 0:
            raise fail(ValueError, who, f"if {name} is a single number, it must be >= 0, "
                                        f"got {x}")
        return [-float(x), float(x)]
    check_sequence(x, name, sizes, who)
    return [float(d) for d in x]


def check_fill(fill, who):
    """None, a number or a sequence of numbers (one per channel, or one for all)."""
    if fill is None:
        return 0
    if is_number(fill):
        return fill
    if isinstance(fill, Sequence) and not isinstance(fill, str) and all(map(is_number, fill)):
        return fill
    raise fail(TypeError, who, f"fill should be a number or a sequence of numbers, got "
                               f"{fill!r}")
