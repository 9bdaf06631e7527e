"""keras.preprocessing: `image.ImageDataGenerator`, batch augmentation of image arrays.

    from glassnet.keras.preprocessing.image import ImageDataGenerator
"""
from . import image  # noqa: F401

__all__ = ["image"]
