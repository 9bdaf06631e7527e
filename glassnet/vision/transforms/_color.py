"""Colour adjustments (what ColorJitter draws from): brightness, contrast, saturation and
hue of a PIL image (Pillow's ImageEnhance and an HSV shift, as torchvision) or a Tensor
image (..., 1 or 3, H, W) (torchvision's tensor formulas, in NumPy; values only, no graph).

Brightness, contrast and saturation blend the image with a reference -- black, the mean
grey level, the image's own grey -- as ratio * img + (1 - ratio) * reference, clamped to
the image's range ([0, 1] for floats, [0, 255] for bytes, which are computed in float32
and truncated back). Hue turns the H of HSV by a fraction of the circle.
"""
import numpy as np

from . import _functional_pil as F_pil
from ._functional_tensor import convert_image_dtype, rgb_to_grayscale, wrap
from ._utils import fail, image_kind

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue"]


def _colour_image(img, factor, who):
    """'pil' or 'tensor'; a Tensor must have 1 or 3 channels; the factor must be >= 0."""
    kind = image_kind(img, who)
    if factor < 0:
        raise fail(ValueError, who, f"the factor must be >= 0, got {factor}")
    if kind == "tensor" and (img.ndim < 3 or img.shape[-3] not in (1, 3)):
        raise fail(ValueError, who, f"expected a Tensor image (..., 1 or 3, H, W), got shape "
                                    f"{tuple(img.shape)}")
    return kind


def _blend(img, reference, ratio):
    """ratio * img + (1 - ratio) * reference, clamped to the image's range, in its dtype."""
    a = img._array
    work = a if a.dtype.kind == "f" else a.astype(np.float32)
    ref = reference if np.ndim(reference) == 0 else np.asarray(reference, work.dtype)
    out = np.clip(ratio * work + (1.0 - ratio) * ref, 0, 1 if a.dtype.kind == "f" else 255)
    return wrap(out.astype(a.dtype, copy=False))


def adjust_brightness(img, brightness_factor):
    """0 gives black, 1 the image, 2 twice as bright."""
    who = "adjust_brightness"
    if _colour_image(img, brightness_factor, who) == "pil":
        return F_pil.enhance(img, "Brightness", brightness_factor)
    return _blend(img, 0.0, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """0 gives the mean grey, 1 the image, 2 twice the contrast."""
    who = "adjust_contrast"
    if _colour_image(img, contrast_factor, who) == "pil":
        return F_pil.enhance(img, "Contrast", contrast_factor)
    grey = img if img.shape[-3] == 1 else rgb_to_grayscale(img, 1, who)
    work = grey._array if grey.dtype.kind == "f" else grey._array.astype(np.float32)
    return _blend(img, work.mean(axis=(-3, -2, -1), keepdims=True), contrast_factor)


def adjust_saturation(img, saturation_factor):
    """0 gives the grey image, 1 the image, 2 twice the saturation."""
    who = "adjust_saturation"
    if _colour_image(img, saturation_factor, who) == "pil":
        return F_pil.enhance(img, "Color", saturation_factor)
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img, 1, who)._array, saturation_factor)


def adjust_hue(img, hue_factor):
    """Turn the hue by hue_factor of a full circle, in [-0.5, 0.5]."""
    who = "adjust_hue"
    if not -0.5 <= hue_factor <= 0.5:
        raise fail(ValueError, who, f"hue_factor should be in [-0.5, 0.5], got {hue_factor}")
    if _colour_image(img, 0, who) == "pil":
        return F_pil.adjust_hue(img, hue_factor)
    if img.shape[-3] == 1:
        return img
    h, s, v = _rgb_to_hsv(convert_image_dtype(img, np.float32, who)._array)
    rgb = _hsv_to_rgb((h + np.float32(hue_factor)) % np.float32(1.0), s, v)
    return convert_image_dtype(wrap(rgb), img.dtype, who)


def _rgb_to_hsv(rgb):
    """Hue in [0, 1), saturation and value of (..., 3, H, W) floats; grey pixels (max ==
    min) get hue and saturation 0 without dividing by zero."""
    r, g, b = (rgb[..., k, :, :] for k in range(3))
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    grey = maxc == minc
    span = maxc - minc
    s = span / np.where(grey, 1, maxc)
    span = np.where(grey, 1, span)
    rc, gc, bc = (maxc - r) / span, (maxc - g) / span, (maxc - b) / span
    h = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
         + ((maxc != g) & (maxc != r)) * (4.0 + gc - rc))
    return np.fmod(h / 6.0 + 1.0, 1.0), s, maxc


def _hsv_to_rgb(h, s, v):
    """(..., 3, H, W) from hue sectors of 60 degrees: each channel is v, p, q or t."""
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    return np.stack([np.choose(i, [v, q, p, p, t, v]), np.choose(i, [t, v, v, q, p, p]),
                     np.choose(i, [p, p, t, v, v, q])], axis=-3)
