"""torchvision.transforms for glassnet: the v1 transform classes and their functional
forms, on PIL images (through Pillow, as torchvision) and glassnet Tensor images
(..., C, H, W) (NumPy math that agrees with torch's ops).

    from glassnet.vision import transforms
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

A transform with `batchable = True` also takes a whole batch in one pass
(`apply_batch`); see transforms.py.
"""
from . import functional
from ._utils import InterpolationMode
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _classes

__all__ = ["functional", *_classes]
