"""The Tensor half of the functional layer: images (..., C, H, W) as glassnet Tensors,
with torch's math. Flips, crops, padding and resizing run through glassnet's own ops
(flip, pad, interpolate), so they agree with torch.flip / F.pad / F.interpolate and keep
the autograd graph; rotations and affine maps sample through the batched warp of
glassnet.data.transforms with torchvision's grid (nearest rounds halves to even, as
F.grid_sample does) and its fill rule, and return values only (no graph).

Integer images are resampled as torchvision does: in float32, rounded back at the end.
"""
import numpy as np

from ...tensor import Tensor
from ...ops.shape import SourcePad, cat, flip, pad as _pad
from ...ops.upsample import interpolate
from ...data.transforms import affine as _warp
from ._utils import fail, is_number

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def wrap(array):
    """A Tensor over `array` (no copy, no history)."""
    return Tensor._make(array, False, None)


def _restore(array, dtype):
    """`array` (float) back in the image's dtype; integers are rounded half to even first."""
    if array.dtype == dtype:
        return array
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(array), info.min, info.max).astype(dtype)
    return array.astype(dtype)


# ----------------------------------------------------------------------- geometry

def hflip(img):
    # glassnet's flip is a view of its input; torch.flip (and so torchvision) copies
    return flip(img, [-1]).clone()


def vflip(img):
    return flip(img, [-2]).clone()


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); whatever lies outside the image is 0."""
    h, w = img.shape[-2:]
    r0, c0 = min(max(top, 0), h), min(max(left, 0), w)
    r1, c1 = max(min(top + height, h), r0), max(min(left + width, w), c0)
    out = img[..., r0:r1, c0:c1]
    pad_top, pad_left = min(max(-top, 0), height), min(max(-left, 0), width)
    pads = (pad_left, width - pad_left - (c1 - c0), pad_top, height - pad_top - (r1 - r0))
    return _pad(out, pads) if any(pads) else out


def pad(img, ltrb, fill, padding_mode, who):
    """Pad (left, top, right, bottom): constant / edge (replicate) / reflect as F.pad does,
    symmetric (the edge pixel repeated) as torchvision defines it."""
    if not is_number(fill):
        raise fail(TypeError, who, f"fill for a Tensor image must be a number, got {fill!r}")
    left, top, right, bottom = ltrb
    if padding_mode == "symmetric":
        return _pad_symmetric(img, ltrb)
    mode = _PAD_MODES[padding_mode]
    try:
        return _pad(img, (left, right, top, bottom), mode,
                    **({"value": float(fill)} if mode == "constant" else {}))
    except ValueError as e:   # e.g. reflect padding as wide as the image
        raise fail(ValueError, who, str(e)) from None


def _pad_symmetric(img, ltrb):
    """Mirror about the edges, edge pixel included: [1, 2, 3] padded by 2 -> 2 1 | 1 2 3 | 3 2."""
    left, top, right, bottom = ltrb
    h, w = img.shape[-2:]
    if min(ltrb) < 0:      # negative padding crops first, as in torchvision
        img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in ltrb)
    sources = []
    for axis, before, after in ((img.ndim - 2, top, bottom), (img.ndim - 1, left, right)):
        n = img.shape[axis]
        if (before or after) and n:
            # the mirrored sequence 0 1 .. n-1 n-1 .. 1 0 repeats with period 2n
            i = np.arange(-before, n + after) % (2 * n)
            sources.append((axis, np.where(i < n, i, 2 * n - 1 - i), before, n, 0))
    return SourcePad.apply(img, sources=tuple(sources)) if sources else img


def resize(img, size, mode, antialias, who):
    """F.interpolate to (h, w) with align_corners=False; integers resampled in float32."""
    if mode not in ("nearest", "nearest-exact", "bilinear"):
        raise fail(ValueError, who, f"interpolation {mode!r} is not available for Tensor "
                                    f"images; use NEAREST, NEAREST_EXACT or BILINEAR (or a PIL "
                                    f"image, which Pillow resamples)")
    dtype, lead = img.dtype, img.shape[:-2]
    x = img if dtype in _FLOATS else img.float()
    y = interpolate(x.reshape(1, -1, *img.shape[-2:]), size=list(size), mode=mode,
                    align_corners=False if mode == "bilinear" else None,
                    antialias=bool(antialias) and mode == "bilinear")
    y = y.reshape(*lead, *size)
    if y.dtype == dtype:
        return y
    return y.to(dtype) if np.issubdtype(dtype, np.floating) else wrap(_restore(y._array, dtype))


def _fill_array(fill, img, dtype, who):
    """fill as an array that broadcasts over the image's channels."""
    values = np.atleast_1d(np.asarray(fill, dtype=dtype))
    channels = 1 if img.ndim == 2 else img.shape[-3]
    if values.ndim != 1 or values.size not in (1, channels):
        raise fail(ValueError, who, f"fill has {values.size} values but the image has "
                                    f"{channels} channel{'s' * (channels != 1)}")
    return values.reshape(-1, 1, 1) if img.ndim > 2 else values.reshape(1, 1)


def affine(img, matrix, mode, fill, who, out_size=None):
    """Resample with torchvision's inverse map `matrix` = [a, b, c, d, e, f]: output pixel
    with centred coordinates (x, y) reads the source at (a x + b y + c, d x + e y + f),
    coordinates measured from the image centres. With a fill, the in-range coverage m of
    each output pixel decides: nearest takes fill where m < 0.5, bilinear blends
    value * m + (1 - m) * fill (torchvision's rule); without one, outside reads 0."""
    if mode not in ("nearest", "bilinear"):
        raise fail(ValueError, who, f"interpolation {mode!r} is not available for Tensor "
                                    f"images; use NEAREST or BILINEAR")
    array, (H, W) = img._array, img.shape[-2:]
    work = array if array.dtype in _FLOATS else array.astype(np.float32)
    planes = work.reshape(1, -1, H, W)
    if fill is not None:
        fill = _fill_array(fill, img, work.dtype, who)
        planes = np.concatenate([planes, np.ones((1, 1, H, W), work.dtype)], axis=1)
    # torch holds the matrix in the image's precision; (x, y) maps become (row, col) ones
    a, b, c, d, e, f = np.asarray(matrix, work.dtype).astype(np.float64)
    out = _warp(planes, [[[e, d], [b, a]]], [[f, c]], fill=0.0, interpolation=mode,
                out_size=out_size, ties="even")
    values = out[0, :planes.shape[1] - (fill is not None)].reshape(img.shape[:-2] +
                                                                   out.shape[-2:])
    if fill is not None:
        cover = out[0, -1]
        if mode == "nearest":
            values = np.where(cover < 0.5, fill, values)
        else:
            values = values * cover + (work.dtype.type(1) - cover) * fill
    return wrap(_restore(values, array.dtype))


def expanded_size(matrix, width, height):
    """(w, h) that holds the whole rotated image (torchvision's float32 arithmetic: the
    corners mapped, their extent truncated to 1e-4 before rounding outwards)."""
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]],
                       np.float32)
    mapped = corners @ np.asarray(matrix, np.float32).reshape(2, 3).T
    centre = np.array([width * 0.5, height * 0.5], np.float32)
    lo, hi = mapped.min(0) + centre, mapped.max(0) + centre
    tol = np.float32(1e-4)
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


# ----------------------------------------------------------------------- colour

def rgb_to_grayscale(img, num_output_channels, who):
    """0.2989 R + 0.587 G + 0.114 B in float32 for integer images, truncated back (torchvision's
    tensor rule); a 1-channel image is copied."""
    if img.ndim < 3 or img.shape[-3] not in (1, 3):
        raise fail(ValueError, who, f"expected a Tensor image (..., 1 or 3, H, W), got shape "
                                    f"{tuple(img.shape)}")
    if img.shape[-3] == 1:
        gray = img.clone()
    else:
        x = img if img.dtype.kind == "f" else img.float()
        r, g, b = (x.narrow(-3, k, 1) for k in range(3))
        gray = (r * 0.2989 + g * 0.587 + b * 0.114).to(img.dtype)
    return cat([gray] * 3, dim=-3) if num_output_channels == 3 else gray


def normalize(img, mean, std, inplace, who):
    """(img - mean[c]) / std[c] in the image's float type, as torchvision's sub_ then div_."""
    if img.dtype.kind != "f":
        raise fail(TypeError, who, f"expected a float Tensor image (use ToTensor or "
                                   f"ConvertImageDtype first), got dtype {img.dtype}")
    if img.ndim < 3:
        raise fail(ValueError, who, f"expected a Tensor image (..., C, H, W), got shape "
                                    f"{tuple(img.shape)}")
    mean, std = channel_stats(mean, std, img.shape[-3], img.dtype, who)
    if inplace:
        return img.sub_(mean).div_(std)
    return (img - wrap(mean)) / wrap(std)


def channel_stats(mean, std, channels, dtype, who):
    """mean and std as (C or 1, 1, 1) arrays of `dtype`, checked against the channel count."""
    out = []
    for name, values in (("mean", mean), ("std", std)):
        try:
            values = np.asarray(values, dtype=dtype)
        except (TypeError, ValueError):
            raise fail(TypeError, who, f"{name} should be a number or a sequence of numbers, "
                                       f"got {values!r}") from None
        if values.ndim > 1 or values.size not in (1, channels):
            raise fail(ValueError, who, f"{name} has {values.size} values but the image has "
                                        f"{channels} channel{'s' * (channels != 1)}")
        out.append(values.reshape(-1, 1, 1))
    if (out[1] == 0).any():
        raise fail(ValueError, who, f"std evaluated to zero after conversion to {np.dtype(dtype)}"
                                    f", leading to division by zero: {np.ravel(std).tolist()}")
    return out


def convert_image_dtype(img, dtype, who):
    """Change dtype and rescale: ints span [0, max], floats [0, 1] (torchvision's rules)."""
    src, dst = img.dtype, np.dtype(dtype)
    if src == dst:
        return img
    if src.kind == "f" and dst.kind == "f":
        return img.to(dst)
    a = img._array
    if src.kind == "f":
        if (src == np.float32 and dst in (np.int32, np.int64)) or \
                (src == np.float64 and dst == np.int64):
            raise fail(ValueError, who, f"the cast from {src} to {dst} cannot be performed "
                                        f"safely")
        # max + 1 - eps spreads [0, 1] evenly over the integers, 1.0 landing on max
        return wrap((a * (float(np.iinfo(dst).max) + 1.0 - 1e-3)).astype(dst))
    if dst.kind == "f":
        return wrap(a.astype(dst) / dst.type(np.iinfo(src).max))
    in_max, out_max = np.iinfo(src).max, np.iinfo(dst).max
    if in_max > out_max:
        return wrap((a // ((in_max + 1) // (out_max + 1))).astype(dst))
    return wrap(a.astype(dst) * dst.type((out_max + 1) // (in_max + 1)))
