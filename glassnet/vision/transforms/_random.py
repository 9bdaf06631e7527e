"""torchvision's random transforms for glassnet: crops, flips, rotations, affine maps,
resized crops and colour jitter. Each draws its parameters from glassnet's global
generator at call time (see transforms.py for the batched forms of the flips and crops)."""
import math

import numpy as np

from ...tensor import Tensor
from ...data.transforms import crop as _crop_batch
from . import functional as F
from ._base import Geometric, Transform, check_padding, rng as _rng
from ._utils import (InterpolationMode, check_fill, check_sequence, fail, interpolation_mode,
                     is_number, setup_angle, setup_size)

__all__ = ["RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop",
           "RandomRotation", "RandomAffine", "ColorJitter"]


class RandomCrop(Geometric):
    """Pad (optionally), then cut a random (h, w) box. pad_if_needed pads an image smaller
    than the box by the shortfall on both sides (torchvision's rule)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = setup_size(size, type(self).__name__)
        if padding is not None:
            check_padding(self, padding, fill, padding_mode)
        else:
            check_padding(self, 0, fill, padding_mode)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, h, w) of a uniformly random box of `output_size` inside `img`."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise fail(ValueError, "RandomCrop", f"required crop size {(th, tw)} is larger than "
                                                 f"the input image size {(h, w)} (use padding "
                                                 f"or pad_if_needed=True)")
        if w == tw and h == th:
            return 0, 0, h, w
        rng = _rng()
        return int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1)), th, tw

    def _padding(self, height, width):
        """(left, top, right, bottom) applied to an image of this size, pad_if_needed included."""
        ltrb = [0] * 4 if self.padding is None else F._parse_padding(self.padding, "RandomCrop")
        ltrb = list(ltrb)
        short_w = self.size[1] - (width + ltrb[0] + ltrb[2])
        short_h = self.size[0] - (height + ltrb[1] + ltrb[3])
        if self.pad_if_needed and short_w > 0:
            ltrb[0], ltrb[2] = ltrb[0] + short_w, ltrb[2] + short_w
        if self.pad_if_needed and short_h > 0:
            ltrb[1], ltrb[3] = ltrb[1] + short_h, ltrb[3] + short_h
        return ltrb

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    @property
    def batch_member(self):
        # the batched gather reads outside the image as a single fill value
        return self.padding_mode == "constant" and is_number(self.fill)

    def apply_batch(self, batch, channels_last=False):
        """One random box per image, drawn as get_params would draw them in turn."""
        images, back = self._spatial_first(self._batch_array(batch), channels_last)
        n, (height, width) = images.shape[0], images.shape[-2:]
        left, top, right, bottom = self._padding(height, width)
        (th, tw), H, W = self.size, height + top + bottom, width + left + right
        if H < th or W < tw:
            raise self._fail(ValueError, f"required crop size {(th, tw)} is larger than the "
                                         f"padded image size {(H, W)}")
        corners = np.zeros((n, 2), np.intp)
        if (H, W) != (th, tw):
            # (top, left) of image 0, then of image 1, ...: NumPy draws these in the order
            # get_params would, so alone this transform repeats the per-image results
            corners = _rng().integers(0, [H - th + 1, W - tw + 1], size=(n, 2))
        return back(_crop_batch(images, corners[:, 0] - top, corners[:, 1] - left, self.size,
                                fill=self.fill))

    def _repr_args(self):
        return {"size": self.size, "padding": self.padding}


class _RandomFlip(Geometric):
    flip = None     # the functional flip
    axis = None     # the axis it mirrors in (N, C, H, W): -1 width, -2 height

    def __init__(self, p=0.5):
        if not is_number(p) or not 0 <= p <= 1:
            raise self._fail(ValueError, f"p should be a probability in [0, 1], got {p!r}")
        self.p = p

    def forward(self, img):
        F.get_dimensions(img)   # checks the input even when it is not flipped
        return type(self).flip(img) if _rng().random() < self.p else img

    def apply_batch(self, batch, channels_last=False):
        """Each image flipped with probability p (one draw per image, in order)."""
        images, back = self._spatial_first(self._batch_array(batch), channels_last)
        chosen = _rng().random(images.shape[0]) < self.p
        out = images.copy()
        out[chosen] = np.flip(images[chosen], axis=self.axis)
        return back(out)

    def _repr_args(self):
        return {"p": self.p}


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability p."""
    flip, axis = staticmethod(F.hflip), -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability p."""
    flip, axis = staticmethod(F.vflip), -2


def _fill_for(img, fill):
    """Tensors take a fill per channel (floats), PIL images the fill as given."""
    if not isinstance(img, Tensor):
        return fill
    channels = F.get_dimensions(img)[0]
    return [float(fill)] * channels if is_number(fill) else [float(f) for f in fill]


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from (-degrees, degrees) or (min, max)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        who = type(self).__name__
        self.degrees = setup_angle(degrees, "degrees", (2,), who)
        self.interpolation = interpolation_mode(interpolation, who)
        if center is not None:
            check_sequence(center, "center", (2,), who)
        self.expand, self.center, self.fill = expand, center, check_fill(fill, who)

    @staticmethod
    def get_params(degrees):
        return float(_rng().uniform(float(degrees[0]), float(degrees[1])))

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        return F.rotate(img, self.get_params(self.degrees), self.interpolation, self.expand,
                        self.center, fill)

    def _repr_args(self):
        return {"degrees": self.degrees, "interpolation": self.interpolation.value,
                "expand": self.expand, "fill": self.fill}


class RandomAffine(Transform):
    """A random affine map keeping the centre: rotation from degrees, translation up to a
    fraction of the size, scale from a range, shear from degrees."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        who = type(self).__name__
        self.degrees = setup_angle(degrees, "degrees", (2,), who)
        if translate is not None:
            check_sequence(translate, "translate", (2,), who)
            if not all(is_number(t) and 0.0 <= t <= 1.0 for t in translate):
                raise self._fail(ValueError, f"translation values should be between 0 and 1, "
                                             f"got {translate!r}")
        if scale is not None:
            check_sequence(scale, "scale", (2,), who)
            if not all(is_number(s) and s > 0 for s in scale):
                raise self._fail(ValueError, f"scale values should be positive, got {scale!r}")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else setup_angle(shear, "shear", (2, 4), who)
        self.interpolation = interpolation_mode(interpolation, who)
        if center is not None:
            check_sequence(center, "center", (2,), who)
        self.fill, self.center = check_fill(fill, who), center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) for an image of img_size (w, h)."""
        rng = _rng()
        angle = float(rng.uniform(float(degrees[0]), float(degrees[1])))
        tx = ty = 0
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx = int(round(rng.uniform(-max_dx, max_dx)))
            ty = int(round(rng.uniform(-max_dy, max_dy)))
        scale = 1.0 if scale_ranges is None else float(rng.uniform(*scale_ranges))
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(rng.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(rng.uniform(shears[2], shears[3]))
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                 [width, height])
        return F.affine(img, *params, interpolation=self.interpolation, fill=fill,
                        center=self.center)

    def _repr_args(self):
        args = {"degrees": self.degrees}
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                args[name] = getattr(self, name)
        return {**args, "interpolation": self.interpolation.value, "fill": self.fill}


class RandomResizedCrop(Transform):
    """A random box of random area (a `scale` fraction) and aspect ratio, resized to size."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        who = type(self).__name__
        self.size = setup_size(size, who)
        check_sequence(scale, "scale", (2,), who)
        check_sequence(ratio, "ratio", (2,), who)
        if scale[0] > scale[1] or ratio[0] > ratio[1] or min(scale) <= 0 or min(ratio) <= 0:
            raise self._fail(ValueError, f"scale and ratio should be positive (min, max) pairs, "
                                         f"got scale={scale!r}, ratio={ratio!r}")
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self.interpolation = interpolation_mode(interpolation, who)

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, h, w): up to 10 tries at a box of area U(scale) * area and log-uniform
        aspect ratio that fits; else the central box of the closest allowed ratio."""
        _, height, width = F.get_dimensions(img)
        area, rng = height * width, _rng()
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = int(rng.integers(0, height - h + 1))
                return top, int(rng.integers(0, width - w + 1)), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def _repr_args(self):
        return {"size": self.size, "scale": tuple(self.scale), "ratio": tuple(self.ratio),
                "interpolation": self.interpolation.value, "antialias": self.antialias}


class ColorJitter(Transform):
    """Change brightness, contrast, saturation and hue by random factors, in a random order.
    A number x means factors in [max(0, 1 - x), 1 + x] (hue: [-x, x], x <= 0.5); a pair is
    taken as (min, max); 0 leaves that property alone."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first=False)

    def _check_input(self, value, name, center=1, bound=(0, float("inf")), clip_first=True):
        if is_number(value):
            if value < 0:
                raise self._fail(ValueError, f"if {name} is a single number, it must be >= 0, "
                                             f"got {value}")
            value = [center - float(value), center + float(value)]
            if clip_first:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2 and all(map(is_number, value)):
            value = [float(value[0]), float(value[1])]
        else:
            raise self._fail(TypeError, f"{name} should be a number or a (min, max) pair, got "
                                        f"{value!r}")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise self._fail(ValueError, f"{name} values should lie in {list(bound)} as (min, "
                                         f"max), got {value}")
        return None if value[0] == value[1] == center else tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order of the four adjustments, and each factor or None)."""
        rng = _rng()
        order = rng.permutation(4)
        factors = [None if r is None else float(rng.uniform(r[0], r[1]))
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def forward(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for k in order:
            if factors[k] is not None:
                img = adjust[k](img, factors[k])
        F.get_dimensions(img)      # checks the input even when nothing was drawn
        return img

    def _repr_args(self):
        return {name: getattr(self, name) for name in ("brightness", "contrast", "saturation",
                                                        "hue")}
