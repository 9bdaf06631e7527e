"""The PIL-image half of the functional layer: the same Pillow calls torchvision makes
(Image.transpose, crop, resize, rotate, transform with the inverse affine matrix,
ImageOps.expand, convert), so a PIL image comes out as it would under torchvision.
"""
import numbers

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from ._utils import fail

# torchvision's dtype for the modes whose pixels are not bytes (ToTensor keeps them unscaled)
_MODE_DTYPE = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def to_array(pic):
    """The pixels as an (H, W, bands) array; mode '1' as 0/255 bytes, 'I'/'I;16'/'F' in their
    own integer/float types, every other mode as bytes."""
    array = np.array(pic, _MODE_DTYPE.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        array *= 255
    return array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))


def from_array(array, mode):
    """Image.fromarray, with int16 pixels stored as Pillow's unsigned 'I;16'."""
    if mode == "I;16":
        return Image.fromarray(array.astype(np.uint16))
    return Image.fromarray(array, mode=mode)


def hflip(img):
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def crop(img, top, left, height, width):
    # Pillow fills whatever lies outside the image with zeros
    return img.crop((left, top, left + width, top + height))


def resize(img, size, filter_):
    """size is (h, w); Pillow's resize antialiases its bilinear and bicubic filters."""
    return img.resize((size[1], size[0]), filter_)


def parse_fill(fill, img, who, name="fillcolor"):
    """Pillow's fill keyword: one value per band (a number repeats), ints unless mode 'F'."""
    bands = len(img.getbands())
    fill = 0 if fill is None else fill
    if isinstance(fill, numbers.Number) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise fail(ValueError, who, f"fill has {len(fill)} values but the image has {bands} "
                                        f"bands (mode {img.mode!r})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, ltrb, fill, padding_mode, who):
    """Pad by (left, top, right, bottom): ImageOps.expand for 'constant', NumPy's np.pad
    (edge/reflect/symmetric) otherwise; palette images keep their palette."""
    palette = img.getpalette() if img.mode == "P" else None
    if padding_mode == "constant":
        out = ImageOps.expand(img, border=tuple(ltrb), **parse_fill(fill, img, who, "fill"))
    else:
        cut = [max(-p, 0) for p in ltrb]   # negative padding crops first, as in torchvision
        if any(cut):
            img = img.crop((cut[0], cut[1], img.width - cut[2], img.height - cut[3]))
        left, top, right, bottom = (max(p, 0) for p in ltrb)
        array = np.asarray(img)
        widths = ((top, bottom), (left, right)) + ((0, 0),) * (array.ndim - 2)
        out = Image.fromarray(np.pad(array, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def affine(img, matrix, filter_, fill, who):
    """Image.transform with the inverse map (output pixel -> source pixel)."""
    return img.transform(img.size, Image.Transform.AFFINE, matrix, filter_,
                         **parse_fill(fill, img, who))


def rotate(img, angle, filter_, expand, center, fill, who):
    return img.rotate(angle, filter_, expand, center, **parse_fill(fill, img, who))


def to_grayscale(img, num_output_channels):
    """Pillow's 'L' conversion (ITU-R 601-2 luma: L = R*299/1000 + G*587/1000 + B*114/1000)."""
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    plane = np.asarray(gray)
    return Image.fromarray(np.dstack([plane, plane, plane]), mode="RGB")


def enhance(img, kind, factor):
    """Pillow's ImageEnhance (Brightness, Contrast, Color) by `factor`."""
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_hue(img, hue_factor):
    """Shift the H band of the HSV image by hue_factor turns (bytes wrap around)."""
    if img.mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    shifted = np.array(h, dtype=np.uint8) + np.uint8(np.int32(hue_factor * 255) % 256)
    return Image.merge("HSV", (Image.fromarray(shifted, "L"), s, v)).convert(img.mode)
