"""keras.datasets.mnist: `(x_train, y_train), (x_test, y_test) = mnist.load_data()`.

The files are read by glassnet's IDX reader (`glassnet.data.mnist`), which checks their
format; this module only finds them and hands back Keras's arrays. It also holds what
the three `load_data` functions share: the meaning of `path=` and where Keras itself keeps
its downloads (`$KERAS_HOME/datasets`, default `~/.keras/datasets`), looked in last, so a
Keras user's files are found without copying them.
"""
import os
import zipfile

import numpy as np

from ...data.mnist import MAX_IDX_BYTES, MNIST, DataFormatError

__all__ = ["load_data"]

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def keras_cache_dir():
    """Where Keras downloads data sets: `$KERAS_HOME/datasets`, else `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def resolve_path(path):
    """`path` as an existing file or folder: as given, else (a relative one, as Keras's
    `path="mnist.npz"`) inside Keras's download folder; None when it is neither, so the
    usual search goes on."""
    if path is None:
        return None
    path = os.path.expanduser(os.fspath(path))
    for candidate in (path, os.path.join(keras_cache_dir(), path)):
        if os.path.exists(candidate):
            return candidate
    return None


def search_roots(path):
    """The roots glassnet's reader searches, in order: the folder `path` names (itself, or
    the file's folder; None without one: the reader's own places, which every root's
    search ends with: $GLASSNET_DATA, the system folders), then Keras's download folder."""
    found = resolve_path(path)
    first = (found if os.path.isdir(found) else os.path.dirname(found)) if found else None
    return [first, keras_cache_dir()]


def read_splits(reader, path, download, who, also=()):
    """(train, test) as `reader(root, train, download)` returns them, from the first of
    `search_roots(path)` holding both splits; `download` applies to the first root. Only a
    missing split moves on: a corrupt file is an error where it is. Found nowhere: one
    FileNotFoundError naming every folder looked in (and the lines `also`) and how to get
    the files."""
    misses = []
    for i, root in enumerate(search_roots(path)):
        try:
            return reader(root, True, download and i == 0), reader(root, False, False)
        except FileNotFoundError as e:
            misses.append(f"  {e}")
    if path is not None and resolve_path(path) is None:
        misses.append(f"  path={os.fspath(path)!r} exists neither as given nor in "
                      f"{keras_cache_dir()}")
    raise FileNotFoundError(
        f"{who}: data set not found.\n" + "\n".join(misses + list(also)) + "\nPut the files "
        f"in $GLASSNET_DATA (in the sub-folder named above), pass path= (their folder or one "
        f"of them), or call {who}(download=True) to fetch them (needs the internet).")


def read_npz(path, image_shape, who):
    """Keras's own download of MNIST (`mnist.npz`: x_train, y_train, x_test, y_test) read
    without pickle and checked: uint8 images of `image_shape`, labels 0..9 one per image."""
    try:
        with zipfile.ZipFile(path) as archive:      # the sizes the arrays declare, first
            declared = sum(info.file_size for info in archive.infolist())
        if declared > MAX_IDX_BYTES:
            raise DataFormatError(f"{who}: {path} declares {declared:,} bytes of arrays, "
                                  f"more than the {MAX_IDX_BYTES:,} MNIST could need")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _NPZ_KEYS}
    except DataFormatError:
        raise
    except KeyError as e:
        raise DataFormatError(f"{who}: {path} has no array {e} (expected {_NPZ_KEYS})") from None
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise DataFormatError(f"{who}: {path} is not a readable .npz file ({e})") from e
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.shape[1:] != image_shape or y.shape != (len(x),):
            raise DataFormatError(f"{who}: {path}: x_{split} should be uint8 (N, "
                                  f"{', '.join(map(str, image_shape))}) with N labels, got "
                                  f"{x.dtype} {x.shape} and labels {y.shape}")
        if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9):
            raise DataFormatError(f"{who}: {path}: y_{split} should hold labels 0..9")
    return ((arrays["x_train"], arrays["y_train"].astype(np.uint8)),
            (arrays["x_test"], arrays["y_test"].astype(np.uint8)))


def load_idx(cls, path, download, who, keras_npz=None):
    """MNIST or Fashion-MNIST as Keras returns them: uint8 images (N, 28, 28) and uint8
    labels (N,), training split first. `keras_npz`: the file name of Keras's own download
    of the set in its download folder, read when the IDX files are found nowhere."""
    found = resolve_path(path)
    if found and os.path.isfile(found) and found.endswith(".npz"):
        return read_npz(found, (28, 28), who)
    npz = os.path.join(keras_cache_dir(), keras_npz) if keras_npz else None
    also = [f"  no Keras download {npz} either"] if npz else []
    try:
        train, test = read_splits(cls.read_split, path, download, who, also)
    except FileNotFoundError:
        if npz and os.path.isfile(npz):
            return read_npz(npz, (28, 28), who)
        raise
    return tuple((images, labels.astype(np.uint8)) for images, labels, _ in (train, test))


def load_data(path=None, download=False):
    """The MNIST digits: `(x_train, y_train), (x_test, y_test)`, x uint8 (N, 28, 28) with
    0 = background, y uint8 (N,) digits 0..9 (60,000 and 10,000 with the full files).

    path: where to read from first -- a folder holding the four IDX files (gzip or raw, also
    in its `mnist/` or `MNIST/raw/` sub-folder), one of those files, or a Keras `mnist.npz`.
    A relative path that does not exist is looked for in Keras's download folder, so Keras's
    default `path="mnist.npz"` finds a Keras user's download; a path found nowhere is
    skipped. Then glassnet's place, `$GLASSNET_DATA/mnist` (default
    `~/.cache/glassnet/mnist`), then Keras's `~/.keras/datasets/mnist.npz`.
    download: fetch the files (into `path`'s folder, else glassnet's cache) when they are
    found nowhere, checking their published checksums. Keras downloads without being asked;
    glassnet only when told.
    """
    return load_idx(MNIST, path, download, "mnist.load_data", keras_npz="mnist.npz")
