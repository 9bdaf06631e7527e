"""The one place glassnet decodes image files, and the limits it decodes them under.

Every image glassnet reads (`ImageFolder` in `glassnet.data` and `glassnet.vision`,
`glassnet predict`) comes from a user and may be hostile: a few hundred bytes of PNG can
declare 60000x60000 pixels (13 GiB once decoded), hide a deflate bomb in a text chunk,
or carry garbage where the image data should be. `open_image` applies these limits, set
on Pillow before each file is opened (they are process-wide Pillow settings, so they
are re-applied every time rather than trusted to have stayed as set):

- At most `max_image_pixels()` pixels, 2**25 (32 Mi, e.g. 8192x4096 or 5792x5792) by
  default: Pillow holds up to 4 bytes a pixel, so a decoded image stays under 128 MiB
  and its decoding, conversion and array under ~400 MiB, while every ordinary photo
  (phones: 12 MP, most cameras up to 30 MP) and every training image fits. Pillow's own
  default (89 Mi, refusing only above twice that) lets a 200 KB PNG take 1.4 GiB.
  `set_max_image_pixels(n)` (the command's `--max-image-pixels`) raises it. Pillow
  refuses images over twice its limit and only warns between one and two times it;
  here the warning is a refusal too, so the limit is the limit.
- PNG text and profile chunks (tEXt, zTXt, iTXt, iCCP): at most 1 MiB each once
  decompressed (Pillow's value: an ICC profile or an XMP packet fits) and 8 MiB for all
  of a file's text together (Pillow: 64 MiB; glassnet reads no metadata at all).
- Truncated files are errors (`ImageFile.LOAD_TRUNCATED_IMAGES` stays False): a
  half-grey training image is a silent corruption.
- Only the formats glassnet documents are decoded (PNG, JPEG, BMP, GIF, TIFF, WebP,
  PPM/PGM): Pillow's other parsers (EPS through Ghostscript, ICO, PSD, FITS, ...) are
  code a hostile file could reach for no benefit.

Whatever goes wrong while decoding is one `DataFormatError` naming the file and saying
what was wrong, the original exception chained; a path that does not exist, is a folder
or may not be read keeps its own FileNotFoundError / IsADirectoryError /
NotADirectoryError / PermissionError.
"""
import io
import os
import re
import threading
import warnings

import numpy as np

from .mnist import PATH_ERRORS, DataFormatError

DEFAULT_MAX_IMAGE_PIXELS = 1 << 25
MAX_TEXT_CHUNK = 1 << 20            # bytes of one decompressed PNG text/profile chunk
MAX_TEXT_MEMORY = 8 << 20           # bytes of all of a PNG's text chunks together
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")   # PPM: also PGM, PBM

_max_pixels = DEFAULT_MAX_IMAGE_PIXELS
_formats = None                     # FORMATS this Pillow was built with, found on first use
# Image.open is serialised (it reads headers only; decoding runs in parallel): the
# warnings filter that turns Pillow's bomb warning into an error is process-wide state.
_open_lock = threading.Lock()


def set_max_image_pixels(n):
    """Set the largest image (width x height, in pixels) glassnet decodes; returns the
    previous limit. Default 2**25; raise it for larger images than that."""
    global _max_pixels
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_max_image_pixels: the limit must be a positive integer number "
                         f"of pixels, got {n!r}")
    previous, _max_pixels = _max_pixels, n
    return previous


def max_image_pixels():
    """The largest image (width x height) glassnet decodes now."""
    return _max_pixels


def _apply_limits():
    """Set Pillow's limits to glassnet's (each time: they are Pillow's globals)."""
    from PIL import Image, ImageFile, PngImagePlugin
    Image.MAX_IMAGE_PIXELS = _max_pixels
    PngImagePlugin.MAX_TEXT_CHUNK = MAX_TEXT_CHUNK
    PngImagePlugin.MAX_TEXT_MEMORY = MAX_TEXT_MEMORY
    ImageFile.LOAD_TRUNCATED_IMAGES = False


class _ClampedFile(io.BufferedReader):
    """An image file whose read(n) never asks for more than the bytes left in it. Pillow
    reads some lengths a file declares in one call (the rest of a PNG's IDAT chunk, a
    TIFF tag's data), and a read allocates what it is asked for before it reads: a chunk
    length of 4 GiB in a 1 KB file would reserve 4 GiB."""

    def __init__(self, path):
        super().__init__(io.FileIO(path, "rb"))
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size=-1):
        if size is not None and size > 0:
            size = min(size, max(self._size - self.tell(), 0))
            if size == 0:
                return b""
        return super().read(size)


def _open(file):
    """Image.open under the limits, the bomb warning turned into an error."""
    global _formats
    from PIL import Image
    with _open_lock, warnings.catch_warnings():
        if _formats is None:        # a Pillow built without WebP has no such decoder
            Image.init()
            _formats = tuple(f for f in FORMATS if f in Image.OPEN)
        _apply_limits()
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(file, formats=_formats)


def _what_went_wrong(e):
    """The words for an exception Pillow (or zlib, or memory) raised on a file."""
    from PIL import Image, UnidentifiedImageError
    text = f"{type(e).__name__}: {str(e)[:200]}"
    if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        found = re.search(r"\((\d+) pixels\)", str(e))        # Pillow: "Image size (N pixels)"
        count = f"{int(found.group(1)):,} pixels, " if found else ""
        return (f"it has {count}more than the limit of {_max_pixels:,} (a decompression "
                f"bomb?); glassnet.data.set_max_image_pixels(n) or --max-image-pixels N "
                f"raises the limit")
    if isinstance(e, UnidentifiedImageError):
        return f"not an image in a format glassnet reads ({', '.join(_formats)})"
    if isinstance(e, ValueError) and "MAX_TEXT" in str(e):
        return (f"its PNG text chunks are larger than the limit ({MAX_TEXT_CHUNK >> 20} MiB "
                f"each, {MAX_TEXT_MEMORY >> 20} MiB together): corrupt or a deflate bomb "
                f"({text})")
    if isinstance(e, EOFError) or (isinstance(e, OSError) and "truncated" in str(e)):
        return f"the file is truncated ({text})"
    if isinstance(e, MemoryError):
        return "too large to decode in the memory available (MemoryError)"
    return f"its contents are corrupt ({text})"


def open_image(path, mode=None, size=None):
    """Decode one image file to a PIL image, read in full (the file is closed again).

    mode: a PIL mode to convert to ('L', 'RGB', ...), or None to keep grayscale files gray
    and turn every other mode into RGB. size: (h, w) to resize to (bilinear), or None.
    A file that cannot be decoded within the limits above is a DataFormatError naming it.
    """
    from PIL import Image     # only image files need Pillow
    if mode is not None and mode not in Image.MODES:
        raise ValueError(f"open_image: mode must be one of Pillow's modes {Image.MODES} or "
                         f"None, got {mode!r}")
    try:
        with _ClampedFile(path) as file, _open(file) as image:
            image = image.convert(mode or ("L" if image.mode == "L" else "RGB"))  # loads it
            if size is not None and image.size != (size[1], size[0]):
                image = image.resize((size[1], size[0]), Image.BILINEAR)
            return image
    except PATH_ERRORS:
        raise
    except Exception as e:     # Pillow's parsers fail in many ways on a hostile file
        raise DataFormatError(f"{path} is not a readable image: {_what_went_wrong(e)}") from e


def image_array(path, mode=None, size=None):
    """`open_image` as a uint8 array: (H, W) for grayscale, (H, W, 3) for RGB."""
    image = open_image(path, mode, size)
    try:
        return np.asarray(image, dtype=np.uint8)
    except MemoryError as e:
        raise DataFormatError(f"{path} is not a readable image: {_what_went_wrong(e)}") from e
