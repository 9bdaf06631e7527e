"""keras.preprocessing.image.ImageDataGenerator: random shifts, flips, rotations and zooms of
training images, and feature-wise standardisation, as the notes use them:

    datagen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
                                 horizontal_flip=True)
    datagen.fit(x_train)
    model.fit(datagen.flow(x_train, y_train, batch_size=32), ...)

Keras transforms one image at a time (a scipy call per channel); here one call of
glassnet's batched `data.transforms.affine` warps a whole batch, each image by its own
matrix, and every other step is one array operation over the batch.

Keras's semantics: shift ranges below 1 are fractions of the width/height, 1 or more are
pixels (an int r: whole pixels in (-r, r); a list: its entries, either sign); rotation and
shear in degrees, uniform in [-r, r]; zoom factors uniform in [lo, hi] (z means [1 - z,
1 + z]) for width and height independently, > 1 zooming out. Per image: the affine warp
(bilinear; fill_mode 'nearest' repeats the edge pixel), the channel shift, the flips; then
`standardize`: preprocessing_function, rescale, sample-wise, feature-wise steps.

Where Keras 3.15 departs from its documentation, the documentation is followed: its draw
gives width_shift_range to the vertical shift and height_shift_range to the horizontal
(keras-team/keras#17398), and it turns and zooms non-square images about a transposed
centre; 'wrap' tiles with period W here (scipy, under Keras: W - 1); 'constant' blends
with cval across the one-pixel rim that scipy fills outright. On square images all else
agrees with Keras to float32 rounding.
"""
import difflib
import inspect
import numbers
import warnings

import numpy as np

from ... import random as _random
from ...data import transforms as _transforms
from .iterator import NumpyArrayIterator

__all__ = ["ImageDataGenerator", "NumpyArrayIterator"]


# Keras's fill modes in np.pad's words, as `transforms.affine` takes them
_FILL_MODES = {"nearest": "edge", "constant": "constant", "reflect": "symmetric",
               "wrap": "wrap"}
_INTERPOLATION_ORDERS = {0: "nearest", 1: "bilinear"}
_EPSILON = 1e-6                 # added to every std before dividing, as Keras does
_IDENTITY = (("theta", 0), ("tx", 0), ("ty", 0), ("shear", 0), ("zx", 1), ("zy", 1))
_FIT_CHUNK = 1024               # images per pass of `fit`, to keep its float64 copy small


def _generator(seed):
    """A generator of one's own for a seed; else glassnet's, looked up now (manual_seed and
    keras.utils.set_random_seed replace it)."""
    return _random.default_generator() if seed is None else np.random.default_rng(seed)


def _draw_shift(value, size, n, rng):
    """n shifts in pixels for Keras's width/height_shift_range `value` over `size` pixels."""
    values = np.asarray(value)
    if values.ndim == 0 and not values:
        return np.zeros(n)
    if values.ndim == 0 and np.issubdtype(values.dtype, np.floating):
        shifts = rng.uniform(-float(value), float(value), n)
    else:           # an int r: whole pixels 0..r-1; a list: its entries; either with a sign
        choices = np.arange(int(value)) if values.ndim == 0 else values.reshape(-1)
        shifts = rng.choice(choices, n) * rng.choice([-1, 1], n)
    return shifts * size if values.max() < 1 else shifts.astype(np.float64)


def _affine_maps(params):
    """Per-image (matrices (N, 2, 2), offsets (N, 2)) in (row, col) for `transforms.affine`.

    Keras composes, in (x, y) = (col, row) about the centre, the map from an output pixel p
    to the source pixel it reads: R(theta) (Shear(shear) Zoom(zx, zy) p + (tx, ty)).
    """
    theta, shear = np.deg2rad(params["theta"]), np.deg2rad(params["shear"])
    c, s = np.cos(theta), np.sin(theta)
    zero, one = np.zeros_like(c), np.ones_like(c)
    rotation = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1)
    shearing = np.stack([np.stack([one, -np.sin(shear)], -1),
                         np.stack([zero, np.cos(shear)], -1)], 1)
    zooming = np.stack([np.stack([params["zx"] * one, zero], -1),
                        np.stack([zero, params["zy"] * one], -1)], 1)
    linear = rotation @ shearing @ zooming
    offset = (rotation @ np.stack([params["tx"] * one, params["ty"] * one], -1)[..., None])
    # (x, y) -> (row, col): swap both axes of the matrix and the offset's two entries
    return linear[:, ::-1, ::-1], offset[:, ::-1, 0]


def _per_image(value, n, default):
    """A transform parameter as n values (None -> default; scalar -> repeated)."""
    return np.broadcast_to(np.asarray(default if value is None else value, np.float64), (n,))


class ImageDataGenerator:
    """Keras's ImageDataGenerator with its constructor arguments and attributes.

    Not supported (a NotImplementedError says so): zca_whitening, brightness_range,
    interpolation_order other than 0 and 1, `flow(save_to_dir=...)`, `flow_from_directory`
    (use `glassnet.data.ImageFolder`). An argument Keras does not have is a TypeError that
    names the closest one (the notes' `width_shift=0.1` is width_shift_range).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None, **unknown):
        if unknown:
            self._refuse_unknown(unknown)
        settings = {k: v for k, v in locals().items() if k not in ("self", "unknown")}
        self._check_unsupported(settings)
        vars(self).update(settings)
        self.dtype = "float32" if dtype is None else np.dtype(dtype).name
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"ImageDataGenerator: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        last = self.data_format == "channels_last"
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if last else (1, 2, 3)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"ImageDataGenerator: validation_split must be strictly between "
                             f"0 and 1, got {validation_split}")
        self._validation_split = validation_split
        self.zoom_range = self._zoom_pair(zoom_range)
        self.mean = self.std = self.zca_whitening_matrix = None
        for implied, setting in (("featurewise_center", "featurewise_std_normalization"),
                                 ("samplewise_center", "samplewise_std_normalization")):
            if getattr(self, setting) and not getattr(self, implied):
                setattr(self, implied, True)        # dividing by a std needs the mean out
                warnings.warn(f"ImageDataGenerator: {setting}=True also sets {implied}=True",
                              stacklevel=2)

    @classmethod
    def _refuse_unknown(cls, unknown):
        known = [p for p in inspect.signature(cls.__init__).parameters
                 if p not in ("self", "unknown")]
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]}?)" if close else ""))
        raise TypeError(f"ImageDataGenerator: unexpected keyword argument "
                        f"{', '.join(hints)}; its arguments are {', '.join(known)}")

    @staticmethod
    def _check_unsupported(settings):
        refused = {"zca_whitening": settings["zca_whitening"],
                   "brightness_range": settings["brightness_range"] is not None,
                   "interpolation_order": settings["interpolation_order"]
                   not in _INTERPOLATION_ORDERS}
        for name, bad in refused.items():
            if bad:
                raise NotImplementedError(f"ImageDataGenerator: {name}={settings[name]!r} is "
                                          f"not supported by glassnet.keras")
        for name in ("rotation_range", "shear_range", "channel_shift_range",
                     "width_shift_range", "height_shift_range"):
            v, listed = np.asarray(settings[name]), name[0] in "wh"    # shifts may be lists
            if not np.issubdtype(v.dtype, np.number) or v.ndim > listed or not v.size \
                    or (v.ndim == 0 and v < 0):
                raise ValueError(f"ImageDataGenerator: {name} must be a number >= 0"
                                 f"{' or a list of them' * listed}, got {settings[name]!r}")
        if settings["fill_mode"] not in _FILL_MODES:
            raise ValueError(f"ImageDataGenerator: fill_mode must be one of "
                             f"{list(_FILL_MODES)}, got {settings['fill_mode']!r}")

    @staticmethod
    def _zoom_pair(zoom_range):
        def number(v):
            return isinstance(v, numbers.Real) and not isinstance(v, bool)
        if number(zoom_range):
            return [1 - zoom_range, 1 + zoom_range]
        if isinstance(zoom_range, (list, tuple)) and len(zoom_range) == 2 and \
                all(number(v) for v in zoom_range):
            return [zoom_range[0], zoom_range[1]]
        raise ValueError(f"ImageDataGenerator: zoom_range must be a number or a pair "
                         f"[lo, hi], got {zoom_range!r}")

    # ------------------------------------------------------------------ random transforms
    def _draw(self, n, shape, rng):
        """Parameters for n images of batch shape `shape`, Keras's names, one value each."""
        height, width = shape[self.row_axis], shape[self.col_axis]
        lo, hi = self.zoom_range

        def symmetric(r):
            return rng.uniform(-r, r, n) if r else np.zeros(n)
        zx, zy = (np.ones(n), np.ones(n)) if lo == hi == 1 else rng.uniform(lo, hi, (2, n))
        return {"theta": symmetric(self.rotation_range),
                "tx": _draw_shift(self.width_shift_range, width, n, rng),
                "ty": _draw_shift(self.height_shift_range, height, n, rng),
                "shear": symmetric(self.shear_range), "zx": zx, "zy": zy,
                "flip_horizontal": (rng.random(n) < 0.5) & bool(self.horizontal_flip),
                "flip_vertical": (rng.random(n) < 0.5) & bool(self.vertical_flip),
                "channel_shift_intensity":
                    symmetric(self.channel_shift_range) if self.channel_shift_range else None}

    def _apply(self, x, params):
        """Warp, channel-shift and flip the batch x (float) by per-image `params`."""
        n = len(x)
        p = {k: _per_image(params.get(k), n, d) for k, d in _IDENTITY}
        planes = x if self.data_format == "channels_first" else np.moveaxis(x, -1, 1)
        if any((p[k] != d).any() for k, d in _IDENTITY):
            matrices, offsets = _affine_maps(p)
            planes = _transforms.affine(planes, matrices, offsets, fill=self.cval,
                                        interpolation=_INTERPOLATION_ORDERS[
                                            self.interpolation_order],
                                        padding_mode=_FILL_MODES[self.fill_mode])
        if params.get("channel_shift_intensity") is not None:
            # one intensity for all channels of an image, kept inside its own value range
            shift = _per_image(params["channel_shift_intensity"], n, 0).reshape(-1, 1, 1, 1)
            low = planes.min(axis=(1, 2, 3), keepdims=True)
            high = planes.max(axis=(1, 2, 3), keepdims=True)
            planes = np.clip(planes + shift.astype(planes.dtype), low, high)
        for key, axis in (("flip_horizontal", -1), ("flip_vertical", -2)):
            chosen = np.broadcast_to(np.asarray(params.get(key, False), bool), (n,))
            if chosen.any():
                planes = np.where(chosen[:, None, None, None], np.flip(planes, axis), planes)
        out = planes if self.data_format == "channels_first" else np.moveaxis(planes, 1, -1)
        return np.ascontiguousarray(out, dtype=x.dtype)

    def _augment(self, x, rng):
        return self._apply(x, self._draw(len(x), x.shape, rng))

    def _as_images(self, x, who):
        """x as a float array of this generator's dtype: one image or a batch of them."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim not in (3, 4):
            raise ValueError(f"ImageDataGenerator.{who}: expected one image (H, W, C) or a "
                             f"batch (N, H, W, C) (channels first: C before H, W), got shape "
                             f"{x.shape}")
        return x

    def get_random_transform(self, img_shape, seed=None):
        """Random parameters for one image of shape `img_shape` (rank 3), as a dict of
        Keras's keys: theta, tx, ty, shear, zx, zy, flip_horizontal, flip_vertical,
        channel_shift_intensity, brightness. tx moves columns (x), ty rows (y)."""
        params = self._draw(1, (1,) + tuple(img_shape), _generator(seed))
        out = {k: (None if v is None else v[0].item()) for k, v in params.items()}
        out["brightness"] = None
        return out

    def apply_transform(self, x, transform_parameters):
        """One image (rank 3) transformed by known parameters (`get_random_transform`'s
        keys; missing ones mean no change): Keras's apply_transform, returned as floats."""
        if transform_parameters.get("brightness") is not None:
            raise NotImplementedError("ImageDataGenerator.apply_transform: brightness is not "
                                      "supported by glassnet.keras")
        x = self._as_images(x, "apply_transform")
        return self._apply(x[None], transform_parameters)[0] if x.ndim == 3 else \
            self._apply(x, transform_parameters)

    def random_transform(self, x, seed=None):
        """x randomly shifted, rotated, zoomed, sheared, channel-shifted and flipped as the
        settings say: one image (H, W, C), or a batch, each image drawn on its own; `seed`
        makes the draw repeatable."""
        x = self._as_images(x, "random_transform")
        batch = x[None] if x.ndim == 3 else x
        out = self._augment(batch, _generator(seed))
        return out[0] if x.ndim == 3 else out

    # ------------------------------------------------------------------ standardisation
    def standardize(self, x):
        """Apply preprocessing_function, rescale, then the sample-wise and feature-wise
        normalisations to x, in place when x is a float array (as Keras does), and return
        it. The sample-wise statistics are those of the whole x given (one image, as flow
        passes it in Keras); `flow` standardises every image by its own."""
        if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
            x = np.array(x, dtype=self.dtype)
        return self._standardize(x, per_image=False)

    def _standardize(self, x, per_image):
        if self.preprocessing_function:
            # its contract is one image (H, W, C) in, one image of that shape out
            if per_image:
                x = np.stack([np.asarray(self.preprocessing_function(image), x.dtype)
                              for image in x])
            else:
                x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        axes = tuple(range(1, x.ndim)) if per_image else None
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=axes, keepdims=True) + _EPSILON
        for setting, stat in (("featurewise_center", "mean"),
                              ("featurewise_std_normalization", "std")):
            if getattr(self, setting) and getattr(self, stat) is None:
                warnings.warn(f"ImageDataGenerator: {setting}=True but the generator has not "
                              f"been fit to any data; call .fit(x_train) first", stacklevel=3)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + _EPSILON
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the feature-wise mean and std (one per channel, over images, rows and
        columns) that featurewise_center / featurewise_std_normalization use, on x after
        rescale (as Keras does; preprocessing_function is not applied) and, with
        `augment`, over `rounds` randomly transformed copies of x.

        Done a chunk of images at a time with float64 sums: Keras's float32 copy of the
        whole of x (600 MB for CIFAR-10) is never made.
        """
        x = np.asarray(x)
        if x.ndim != 4 or not len(x):
            raise ValueError(f"ImageDataGenerator.fit: x should be a non-empty batch of "
                             f"images of rank 4, got shape {x.shape}")
        self._warn_channels(x.shape, "fit")
        if not (self.featurewise_center or self.featurewise_std_normalization):
            return
        rng, axes = _generator(seed), (0, self.row_axis, self.col_axis)
        shift = count = total = squares = 0     # sums of x - shift, stable in float64
        for _ in range(rounds if augment else 1):
            for start in range(0, len(x), _FIT_CHUNK):
                chunk = np.array(x[start:start + _FIT_CHUNK], dtype=self.dtype)  # a copy
                if self.rescale:
                    chunk *= self.rescale
                if augment:
                    chunk = self._augment(chunk, rng)
                if count == 0:
                    shift = chunk.mean(axis=axes, dtype=np.float64)
                values = chunk.astype(np.float64) - self._channel_shape(shift)
                total = total + values.sum(axis=axes)
                squares = squares + np.square(values).sum(axis=axes)
                count += values.size // values.shape[self.channel_axis]
        mean = total / count
        self.mean = self._channel_shape(shift + mean).astype(self.dtype)
        self.std = self._channel_shape(np.sqrt(np.maximum(squares / count - mean ** 2, 0)))
        self.std = self.std.astype(self.dtype)

    def _channel_shape(self, values):
        """Per-channel values shaped to broadcast against one image ((1, 1, C) channels last)."""
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = -1
        return np.reshape(values, shape)

    def _warn_channels(self, shape, who):
        if shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"ImageDataGenerator.{who}: expected 1, 3 or 4 channels on axis "
                          f"{self.channel_axis} ({self.data_format}), got shape {shape}",
                          stacklevel=3)

    # ------------------------------------------------------------------ iterators
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """Batches of augmented, standardised images (and their labels) for `model.fit`:
        a NumpyArrayIterator, a Sequence of ceil(N / batch_size) batches that `next()`
        also walks through forever, reshuffled every epoch."""
        if save_to_dir is not None:
            raise NotImplementedError("ImageDataGenerator.flow: save_to_dir is not supported "
                                      "by glassnet.keras")
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  ignore_class_split=ignore_class_split, subset=subset)

    def flow_from_directory(self, directory, *args, **kwargs):
        raise NotImplementedError("ImageDataGenerator.flow_from_directory: not supported by "
                                  "glassnet.keras (glassnet.data.ImageFolder reads a folder "
                                  "of class folders)")

    flow_from_dataframe = flow_from_directory
