"""What the transform classes share: where random draws come from, the base class that
names the transform in input errors, and the batch-layout helper of the geometric ones."""
import numpy as np

from ... import random as _random
from . import functional as F
from ._utils import ImageTypeError, ImageValueError, check_fill, describe, fail, relabel


def rng():
    # looked up per draw: manual_seed replaces the global generator
    return _random.default_generator()


class Transform:
    """Calls `forward`, and re-raises an input error of the functional layer under this
    transform's name ("Normalize: ..." rather than "normalize: ...")."""
    batchable = False

    def __call__(self, img):
        try:
            return self.forward(img)
        except (ImageTypeError, ImageValueError) as e:
            raise relabel(e, type(self).__name__) from None

    def _fail(self, error, detail):
        return fail(error, type(self).__name__, detail)

    def _batch_array(self, batch, ndims=(3, 4)):
        if not isinstance(batch, np.ndarray) or batch.ndim not in ndims:
            raise self._fail(TypeError if not isinstance(batch, np.ndarray) else ValueError,
                             f"apply_batch expects an ndarray batch of "
                             f"{' or '.join(map(str, ndims))} dims, got {describe(batch)}")
        return batch

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self._repr_args().items())
        return f"{type(self).__name__}({args})"

    def _repr_args(self):
        return {}


class Geometric(Transform):
    """A transform whose apply_batch needs to know where the width axis is. It runs on
    batches only inside a Compose that turns images into tensors (`batch_member`): on its
    own it would hand out PIL images, which a batch array cannot stand for."""
    batch_member = True

    @staticmethod
    def _spatial_first(batch, channels_last):
        """The batch as (N, ..., H, W) (a view), and how to bring a result back."""
        if channels_last and batch.ndim == 4:
            return batch.transpose(0, 3, 1, 2), lambda out: np.ascontiguousarray(
                out.transpose(0, 2, 3, 1))
        return batch, lambda out: out


def check_padding(owner, padding, fill, padding_mode):
    """Validate Pad/RandomCrop arguments at construction, naming `owner`'s class."""
    F._parse_padding(padding, type(owner).__name__)
    check_fill(fill, type(owner).__name__)
    if padding_mode not in F._PAD_MODES:
        raise owner._fail(ValueError, f"padding_mode should be one of {F._PAD_MODES}, got "
                                      f"{padding_mode!r}")
