"""torchvision.transforms.functional for glassnet: each function takes a PIL image or a
glassnet Tensor image (..., C, H, W) and sends it down one of two paths -- PIL images to
Pillow (_functional_pil: the calls torchvision itself makes), Tensors to NumPy math that
agrees with torch's ops (_functional_tensor). The arguments, defaults, size rules and
matrices are torchvision's (v1), so code written for torchvision runs unchanged:

    import glassnet.vision.transforms.functional as TF
    x = TF.to_tensor(pil_image)                 # (C, H, W) float32 in [0, 1]
    x = TF.rotate(x, 30, interpolation=TF.InterpolationMode.BILINEAR)
"""
import math
from collections.abc import Sequence

import numpy as np

from ...tensor import Tensor
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t
from ._color import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from ._utils import (InterpolationMode, PIL_FILTER, check_fill, check_sequence, describe,
                     dimensions, fail, image_kind, interpolation_mode, is_number, is_pil)

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
           "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize",
           "resize", "pad", "crop", "center_crop", "resized_crop", "hflip", "vflip", "rotate",
           "affine", "to_grayscale", "rgb_to_grayscale", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _interpolation_modes_from_int(i):
    return interpolation_mode(i, "interpolation")


# --------------------------------------------------------------------- dimensions

def get_dimensions(img):
    """[channels, height, width]."""
    return dimensions(img, "get_dimensions")


def get_image_size(img):
    """[width, height]."""
    _, h, w = dimensions(img, "get_image_size")
    return [w, h]


def get_image_num_channels(img):
    return dimensions(img, "get_image_num_channels")[0]


# --------------------------------------------------------------------- conversion

def hwc_to_chw(array):
    """(..., H, W, C) as a new C-contiguous (..., C, H, W) array; bytes become float32
    x / 255 (correctly rounded, as torch's div), other dtypes keep their values."""
    moved = np.moveaxis(array, -1, -3)
    if array.dtype != np.uint8:
        return np.ascontiguousarray(moved)
    out = np.empty(moved.shape, np.float32)
    return np.divide(moved, np.float32(255), out=out)


def to_tensor(pic):
    """PIL image or (H, W[, C]) ndarray -> (C, H, W) Tensor. Bytes (uint8 arrays; PIL modes
    L, LA, P, RGB, RGBA, CMYK, YCbCr, and '1' as 0/255) become float32 in [0, 1]; other
    arrays and PIL modes I (int32), I;16 (int16), F (float32) keep their values."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise fail(ValueError, "to_tensor", f"expected an ndarray image (H, W) or "
                                                f"(H, W, C), got {describe(pic)}")
        return F_t.wrap(hwc_to_chw(pic[:, :, None] if pic.ndim == 2 else pic))
    if is_pil(pic):
        return F_t.wrap(hwc_to_chw(F_pil.to_array(pic)))
    raise fail(TypeError, "to_tensor", f"expected a PIL image or an ndarray (H, W[, C]), got "
                                       f"{describe(pic)}")


def pil_to_tensor(pic):
    """PIL image -> (C, H, W) Tensor of the image's own dtype, values unchanged."""
    if not is_pil(pic):
        raise fail(TypeError, "pil_to_tensor", f"expected a PIL image, got {describe(pic)}")
    array = np.array(pic, copy=True)
    return F_t.wrap(np.ascontiguousarray(
        array.reshape(pic.size[1], pic.size[0], len(pic.getbands())).transpose(2, 0, 1)))


_MODES_BY_DTYPE = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                   np.dtype(np.int32): "I", np.dtype(np.float32): "F"}
_MODES_BY_CHANNELS = {2: (["LA"], "LA"), 3: (["RGB", "YCbCr", "HSV"], "RGB"),
                      4: (["RGBA", "CMYK", "RGBX"], "RGBA")}


def to_pil_image(pic, mode=None):
    """(C, H, W) Tensor or (H, W, C) ndarray -> PIL image. Floats are scaled by 255 and
    truncated to bytes unless mode='F'; with no mode, 1 channel picks by dtype (L, I;16,
    I, F), 2 -> LA, 3 -> RGB, 4 -> RGBA."""
    who = "to_pil_image"
    if isinstance(pic, Tensor):
        array = pic._array.transpose(1, 2, 0) if pic.ndim == 3 else pic._array
    elif isinstance(pic, np.ndarray):
        array = pic
    else:
        raise fail(TypeError, who, f"expected a Tensor (C, H, W) or an ndarray (H, W, C), "
                                   f"got {describe(pic)}")
    array = array[:, :, None] if array.ndim == 2 else array
    if array.ndim != 3 or array.shape[-1] > 4:
        raise fail(ValueError, who, f"expected an image with at most 4 channels, 2 or 3 dims, "
                                    f"got {describe(pic)}")
    if array.dtype.kind == "f" and mode != "F":
        array = (array * 255).astype(np.uint8)
    channels = array.shape[-1]
    if channels == 1:
        array, expected = array[:, :, 0], _MODES_BY_DTYPE.get(array.dtype)
        if mode is not None and mode != expected:
            raise fail(ValueError, who, f"mode {mode!r} does not suit one channel of dtype "
                                        f"{array.dtype}; expected {expected!r}")
        mode = expected
    else:
        permitted, default = _MODES_BY_CHANNELS[channels]
        if mode is not None and mode not in permitted:
            raise fail(ValueError, who, f"only modes {permitted} are supported for "
                                        f"{channels} channels, got {mode!r}")
        if mode is None and array.dtype == np.uint8:
            mode = default
    if mode is None:
        raise fail(TypeError, who, f"input type {array.dtype} is not supported")
    return F_pil.from_array(array, mode)


def convert_image_dtype(image, dtype=np.float32):
    """Change a Tensor image's dtype and rescale its values (floats in [0, 1], ints in
    [0, max of the dtype])."""
    image_kind(image, "convert_image_dtype", tensor_only=True)
    return F_t.convert_image_dtype(image, dtype, "convert_image_dtype")


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] for each channel c of a float Tensor image (..., C, H, W)."""
    image_kind(tensor, "normalize", tensor_only=True)
    return F_t.normalize(tensor, mean, std, inplace, "normalize")


# --------------------------------------------------------------------- geometry

def _compute_resized_output_size(image_size, size, max_size=None):
    """[h, w] for Resize: (h, w) as given, or one int for the smaller edge with the longer
    edge int(size * long / short), capped at max_size."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if len(size) == 2:
        return [size[0], size[1]]
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise fail(ValueError, "resize", f"max_size = {max_size} must be strictly greater "
                                             f"than the requested size for the smaller edge "
                                             f"size = {size[0]}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if w <= h else [new_short, new_long]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to (h, w), or the smaller edge to `size` keeping the aspect ratio. Tensors
    use F.interpolate (antialiased bilinear by default, as PIL always is)."""
    who = "resize"
    interpolation = interpolation_mode(interpolation, who)
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size]
    elif not isinstance(size, Sequence) or len(size) not in (1, 2):
        raise fail(TypeError, who, f"size should be an int or a sequence of 1 or 2 ints, got "
                                   f"{size!r}")
    if max_size is not None and len(size) != 1:
        raise fail(ValueError, who, "max_size should only be passed if size specifies the "
                                    "length of the smaller edge (an int)")
    _, h, w = dimensions(img, who)
    out = _compute_resized_output_size((h, w), list(size), max_size)
    if min(out) <= 0:
        raise fail(ValueError, who, f"the output size {tuple(out)} must be positive")
    if [h, w] == out:
        return img
    if is_pil(img):
        return F_pil.resize(img, out, PIL_FILTER[interpolation])
    return F_t.resize(img, out, interpolation.value, antialias, who)


def _parse_padding(padding, who):
    """(left, top, right, bottom) from an int, (all,), (left/right, top/bottom) or 4 ints."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return [padding] * 4
    if not isinstance(padding, Sequence) or isinstance(padding, str) or \
            not all(isinstance(p, int) for p in padding):
        raise fail(TypeError, who, f"padding should be an int or a sequence of ints, got "
                                   f"{padding!r}")
    if len(padding) not in (1, 2, 4):
        raise fail(ValueError, who, f"padding must be an int or a 1, 2, or 4 element sequence, "
                                    f"not a {len(padding)} element sequence")
    if len(padding) == 1:
        return list(padding) * 4
    return list(padding) * 2 if len(padding) == 2 else list(padding)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad every border: padding is an int, (left/right, top/bottom) or (left, top, right,
    bottom); padding_mode 'constant' (with fill), 'edge', 'reflect' (edge not repeated) or
    'symmetric' (edge repeated)."""
    who = "pad"
    kind = image_kind(img, who)
    ltrb = _parse_padding(padding, who)
    if padding_mode not in _PAD_MODES:
        raise fail(ValueError, who, f"padding_mode should be one of {_PAD_MODES}, got "
                                    f"{padding_mode!r}")
    fill = check_fill(fill, who)
    if kind == "pil":
        return F_pil.pad(img, ltrb, fill, padding_mode, who)
    return F_t.pad(img, ltrb, fill, padding_mode, who)


def crop(img, top, left, height, width):
    """The (height, width) box whose top-left corner is (top, left); outside is 0."""
    if image_kind(img, "crop") == "pil":
        return F_pil.crop(img, top, left, height, width)
    return F_t.crop(img, top, left, height, width)


def center_crop(img, output_size):
    """The central (h, w) box; an image smaller than it is first padded with 0 around."""
    who = "center_crop"
    if is_number(output_size):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, Sequence) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = dimensions(img, who)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        pad_w, pad_h = max(crop_width - image_width, 0), max(crop_height - image_height, 0)
        img = pad(img, [pad_w // 2, pad_h // 2, (pad_w + 1) // 2, (pad_h + 1) // 2], fill=0)
        _, image_height, image_width = dimensions(img, who)
        if crop_width == image_width and crop_height == image_height:
            return img
    top = int(round((image_height - crop_height) / 2.0))
    left = int(round((image_width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop, then resize to `size`."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    """Mirror left-right."""
    if image_kind(img, "hflip") == "pil":
        return F_pil.hflip(img)
    return F_t.hflip(img)


def vflip(img):
    """Mirror top-bottom."""
    if image_kind(img, "vflip") == "pil":
        return F_pil.vflip(img)
    return F_t.vflip(img)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """torchvision's output -> source map [a, b, c, d, e, f] (x_s = a x + b y + c, y_s = d x
    + e y + f) of M = T * C * R(angle) S(scale) ShY ShX * C^-1, angles in degrees:

        RotateScaleShear = [ s cos(a - sy)/cos(sy),  s(-cos(a - sy) tan(sx)/cos(sy) - sin a) ]
                           [ s sin(a - sy)/cos(sy),  s(-sin(a - sy) tan(sx)/cos(sy) + cos a) ]

    whose determinant without the scale is 1, so its inverse is the adjugate / s."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    (cx, cy), (tx, ty) = center, translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if not inverted:
        m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
        m[2] += m[0] * -cx + m[1] * -cy
        m[5] += m[3] * -cx + m[4] * -cy
        m[2] += cx + tx
        m[5] += cy + ty
        return m
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    # RSS^-1 * C^-1 * T^-1, then the centre back: C * RSS^-1 * C^-1 * T^-1
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _grid_filter(interpolation, kind, who):
    """The interpolation checked for rotate/affine: Pillow and the tensor path both sample
    with NEAREST or BILINEAR (Pillow also BICUBIC)."""
    interpolation = interpolation_mode(interpolation, who)
    allowed = ("nearest", "bilinear", "bicubic") if kind == "pil" else ("nearest", "bilinear")
    if interpolation.value not in allowed:
        raise fail(ValueError, who, f"interpolation {interpolation.value!r} is not available for "
                                    f"{'PIL' if kind == 'pil' else 'Tensor'} images here; use "
                                    f"one of {allowed}")
    return interpolation


def _centre_offset(center, img, who):
    """A centre in pixel coordinates (origin top-left) as an offset from the image centre."""
    if center is None:
        return [0.0, 0.0]
    check_sequence(center, "center", (2,), who)
    _, height, width = dimensions(img, who)
    return [float(c) - s * 0.5 for c, s in zip(center, (width, height))]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate by `angle` degrees counter-clockwise about `center` (default: the image
    centre); expand=True grows the output to hold the whole rotated image."""
    who = "rotate"
    kind = image_kind(img, who)
    interpolation = _grid_filter(interpolation, kind, who)
    if not is_number(angle):
        raise fail(TypeError, who, f"angle should be a number, got {angle!r}")
    if kind == "pil":
        if center is not None:
            check_sequence(center, "center", (2,), who)
        return F_pil.rotate(img, angle, PIL_FILTER[interpolation], expand, center, fill, who)
    matrix = _get_inverse_affine_matrix(_centre_offset(center, img, who), -angle, [0.0, 0.0],
                                        1.0, [0.0, 0.0])
    out_size = None
    if expand:
        ow, oh = F_t.expanded_size(matrix, img.shape[-1], img.shape[-2])
        out_size = (oh, ow)
    return F_t.affine(img, matrix, interpolation.value, fill, who, out_size)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Rotate by `angle` (degrees, clockwise), scale, shear (degrees; a number is an
    x-shear) about the centre, then translate by (dx, dy) pixels; the image keeps its size."""
    who = "affine"
    kind = image_kind(img, who)
    interpolation = _grid_filter(interpolation, kind, who)
    if not is_number(angle):
        raise fail(TypeError, who, f"angle should be a number, got {angle!r}")
    check_sequence(translate, "translate", (2,), who)
    if not is_number(scale) or scale <= 0:
        raise fail(ValueError, who, f"scale should be a positive number, got {scale!r}")
    if is_number(shear):
        shear = [shear, 0.0]
    check_sequence(shear, "shear", (1, 2), who)
    shear = [float(shear[0])] * 2 if len(shear) == 1 else [float(s) for s in shear]
    if kind == "pil":
        # Pillow's pixel centres sit at +0.5; the rotation centre (w/2, h/2) matches the
        # tensor path's and torch.rot90's
        _, height, width = dimensions(img, who)
        centre = [width * 0.5, height * 0.5] if center is None else list(center)
        matrix = _get_inverse_affine_matrix(centre, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, PIL_FILTER[interpolation], fill, who)
    matrix = _get_inverse_affine_matrix(_centre_offset(center, img, who), float(angle),
                                        [float(t) for t in translate], scale, shear)
    return F_t.affine(img, matrix, interpolation.value, fill, who)


# --------------------------------------------------------------------- colour

def to_grayscale(img, num_output_channels=1):
    """PIL image of any mode -> 'L' (or 'RGB' with three equal bands)."""
    if not is_pil(img):
        raise fail(TypeError, "to_grayscale", f"expected a PIL image, got {describe(img)}")
    return rgb_to_grayscale(img, num_output_channels)


def rgb_to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma: Pillow's L = (299 R + 587 G + 114 B) / 1000 for PIL images,
    0.2989 R + 0.587 G + 0.114 B for Tensors (torchvision's two rules)."""
    who = "rgb_to_grayscale"
    kind = image_kind(img, who)
    if num_output_channels not in (1, 3):
        raise fail(ValueError, who, f"num_output_channels should be either 1 or 3, got "
                                    f"{num_output_channels!r}")
    if kind == "pil":
        return F_pil.to_grayscale(img, num_output_channels)
    return F_t.rgb_to_grayscale(img, num_output_channels, who)
