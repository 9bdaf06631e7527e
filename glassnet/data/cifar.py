"""CIFAR-10 from its "python version" batch folder, read without running any pickle code.

The folder `cifar-10-batches-py` holds data_batch_1..5 (training), test_batch and
batches.meta, each a pickled dict. A batch has b'data', a uint8 (10000, 3072) array whose
rows are one image each as three 32x32 planes (R, G, B, row-major), and b'labels', a
list of ints 0..9; batches.meta has b'label_names'.

Pickle can call any importable function while loading, and can cost memory or crash
the process by its shape alone, so a file is read in three steps:

1. Its size: at most `MAX_PICKLE_BYTES` (64 MiB, twice a CIFAR-10 batch of 31 MB) is
   read, and a larger file is refused before any of it is.
2. Its opcodes (`pickle_scan.scan`, which builds nothing): at most `MAX_PICKLE_OPS`
   (a batch has ~30,000) and nested at most `MAX_NESTING` deep (a batch: 6), so no
   tuple can be deep enough to crash Python when hashed, no memo index can make the
   unpickler allocate a giant table and every declared length is present.
3. `_RestrictedUnpickler`, which resolves only the three NumPy names an array pickle
   uses (`_reconstruct`, `ndarray`, `dtype`) and refuses every other global with a
   DataFormatError. Even those are stand-ins: `ndarray` cannot be called (numpy's own
   could allocate any size, filled with None for dtype object), `dtype` accepts only a
   short numeric type code and a state without fields (a state can give uint8 an object
   field), and an array is built only from a state whose bytes match its shape exactly.

Images are kept as uint8 (N, 32, 32, 3), the channel-last layout
`transforms.ToTensor` turns into float (N, 3, 32, 32).
"""
import io
import math
import os
import pickle

import numpy as np

from .dataset import ImageDataset
from .download import cache_dir, fetch
from .mnist import PATH_ERRORS, DataFormatError
from .pickle_scan import PickleRefused, scan

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCHES = ["test_batch"]
META = "batches.meta"
SIDE, CHANNELS = 32, 3
MAX_PICKLE_BYTES = 64 << 20
# ~6x a batch's 30,000 opcodes; one opcode makes at most one object (an empty set, 216
# bytes, is the largest), so whatever a pickle builds stays under ~50 MiB
MAX_PICKLE_OPS = 200_000
MAX_NESTING = 32


class _NDArrayType:
    """What the pickle gets for `numpy.ndarray`: an argument for `_reconstruct`, not a
    constructor (numpy's would allocate any shape it is given)."""
    __hash__ = None

    def __call__(self, *args):
        raise DataFormatError("numpy.ndarray is called: a CIFAR batch names it only as "
                              "_reconstruct's argument")


class _DType:
    """A numeric NumPy dtype named by a short type code ('u1', '<i8'); its pickled state
    may set the byte order and nothing else."""
    __hash__ = None

    def __init__(self, code, align=False, copy=True):
        if isinstance(code, bytes):
            code = code.decode("ascii")
        if not isinstance(code, str) or len(code) > 8:
            raise DataFormatError(f"a dtype must be a short type code, got {str(code)[:40]!r}")
        self.dtype = np.dtype(code)         # a fresh object: the pickle never sees it
        if self.dtype.kind not in "biufc":
            raise DataFormatError(f"refusing dtype {self.dtype}: a CIFAR batch holds only "
                                  f"numbers")

    def __setstate__(self, state):
        # NumPy's state: (version, byte order, subarray, names, fields, itemsize, ...)
        order = state[1] if isinstance(state, tuple) and len(state) >= 5 else None
        order = order.decode("latin-1") if isinstance(order, bytes) else order
        if order not in ("<", ">", "|", "=") or any(part is not None for part in state[2:5]):
            raise DataFormatError("a dtype's state may set only its byte order")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


class _Array:
    """An array being unpickled: `_reconstruct` makes it, BUILD gives it its state
    (version, shape, dtype, Fortran order, bytes), checked before it is used."""
    __hash__ = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise DataFormatError("an array's state must be (version, shape, dtype, fortran, "
                                  "bytes)")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DType) or not isinstance(raw, (bytes, bytearray)) or \
                not isinstance(shape, tuple) or \
                not all(isinstance(n, int) and n >= 0 for n in shape):
            raise DataFormatError("an array's state must hold a shape of sizes, a numeric "
                                  "dtype and its bytes")
        dtype = dtype.dtype
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise DataFormatError(f"an array of shape {shape[:8]} and dtype {dtype} comes "
                                  f"with {len(raw)} bytes")
        order = "F" if fortran else "C"
        self.array = np.frombuffer(raw, dtype).reshape(shape, order=order).copy(order=order)


def _reconstruct(subtype, shape, code):
    """numpy's `_reconstruct(ndarray, (0,), b'b')`: an empty array that BUILD then fills."""
    if not isinstance(subtype, _NDArrayType):
        raise DataFormatError("_reconstruct may rebuild only numpy.ndarray")
    return _Array()


def _allowed_globals():
    """(module, name) -> stand-in for what a pickled NumPy array may reference. The files
    were written by NumPy 1 ('numpy.core'); NumPy 2 pickles name 'numpy._core'."""
    allowed = {(module, "_reconstruct"): _reconstruct
               for module in ("numpy.core.multiarray", "numpy._core.multiarray")}
    allowed["numpy", "ndarray"] = _NDArrayType()
    allowed["numpy", "dtype"] = _DType
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can rebuild NumPy arrays, lists, dicts, numbers and strings and
    nothing else: any other global (a function or class to call) is refused."""

    allowed = _allowed_globals()

    def find_class(self, module, name):
        try:
            return self.allowed[module, name]
        except KeyError:
            raise DataFormatError(f"refusing to load {module}.{name}: a CIFAR batch only "
                                  f"holds NumPy arrays, lists and strings") from None


def _built(value):
    """An unpickled _Array as its ndarray; anything else as it is."""
    if not isinstance(value, _Array):
        return value
    if not hasattr(value, "array"):
        raise DataFormatError("an array without its state (shape, dtype, bytes)")
    return value.array


def _arrays_built(content):
    """The unpickled object with its arrays made real: itself, or a dict's values (where
    a batch keeps its arrays; an array anywhere else stays a stand-in and fails the
    batch's checks)."""
    if isinstance(content, dict):
        return {key: _built(value) for key, value in content.items()}
    return _built(content)


def load_pickle(path):
    """Read a pickled CIFAR file safely (bytes stay bytes, as Python 2 wrote them): size,
    shape and globals checked as the module says; any failure is a DataFormatError."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            raw = f.read(MAX_PICKLE_BYTES + 1) if size <= MAX_PICKLE_BYTES else b""
        if max(size, len(raw)) > MAX_PICKLE_BYTES:
            raise DataFormatError(f"{path}: {max(size, len(raw)):,} bytes, more than the "
                                  f"{MAX_PICKLE_BYTES:,} a CIFAR-10 batch file can need (its "
                                  f"batches are 31 MB): not a batch")
    except PATH_ERRORS:
        raise
    except (OSError, MemoryError) as e:
        raise DataFormatError(f"{path}: cannot be read ({type(e).__name__}: {e})") from e
    try:
        scan(raw, MAX_NESTING, MAX_PICKLE_OPS)
        return _arrays_built(_RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load())
    except PickleRefused as e:
        raise DataFormatError(f"{path}: not a readable CIFAR pickle, {e}") from e
    except DataFormatError as e:
        raise DataFormatError(f"{path}: {e}") from e
    except MemoryError as e:
        raise DataFormatError(f"{path}: its contents do not fit in the memory available") from e
    except Exception as e:        # a truncated or corrupt pickle fails in many ways
        raise DataFormatError(f"{path}: not a readable CIFAR pickle, truncated or corrupt "
                              f"({type(e).__name__}: {str(e)[:200]})") from e


def _field(content, key, path):
    if not isinstance(content, dict):
        raise DataFormatError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    for k in (key, key.decode()):       # bytes keys as in the original files; str if re-saved
        if k in content:
            return content[k]
    raise DataFormatError(f"{path}: no {key!r} entry (keys: {sorted(map(str, content))})")


def read_batch(path, num_classes=10):
    """One batch file -> (uint8 images (N, 32, 32, 3), int64 labels (N,)), validated."""
    content = load_pickle(path)
    data, labels = _field(content, b"data", path), _field(content, b"labels", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != CHANNELS * SIDE * SIDE:
        shape = getattr(data, "shape", None)
        raise DataFormatError(f"{path}: b'data' should be uint8 (N, {CHANNELS * SIDE * SIDE}), "
                              f"got {getattr(data, 'dtype', type(data).__name__)} {shape}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataFormatError(f"{path}: b'labels' is not a list of integers") from None
    if labels.shape != (len(data),):
        raise DataFormatError(f"{path}: {labels.size} labels for {len(data)} images")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise DataFormatError(f"{path}: label {bad} is out of range 0..{num_classes - 1}")
    # each row is R, G, B planes: (N, C, H, W), then channel-last for ToTensor
    images = data.reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return images, labels


def train_batches(folder):
    """The training batches of `folder`: data_batch_1..5, or data_batch_1..4 in a dev split
    (batch 5 held out and renamed test_batch, so data_batch_5 is absent): training on a
    dev split then never sees the images it is evaluated on."""
    if not os.path.isfile(os.path.join(folder, TRAIN_BATCHES[-1])) \
            and os.path.isfile(os.path.join(folder, TEST_BATCHES[0])):
        return TRAIN_BATCHES[:-1]
    return TRAIN_BATCHES


def read_label_names(path):
    """batches.meta's class names, as str."""
    names = _field(load_pickle(path), b"label_names", path)
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataFormatError(f"{path}: b'label_names' should be a list of strings")
    try:
        return [n.decode() if isinstance(n, bytes) else n for n in names]
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path}: a label name is not UTF-8 text ({e})") from e


class CIFAR10(ImageDataset):
    """CIFAR-10: samples (32x32x3 uint8 image, int label), or `transform(images)`.

    Looks for `cifar-10-batches-py/` in `root` (torchvision's layout), `root/cifar10` and
    the download cache (`$GLASSNET_DATA/cifar10`, else `~/.cache/glassnet/cifar10`), or for
    the batch files directly in `root`. A dev split (data_batch_1..4 and test_batch, no
    data_batch_5) trains on its four batches. `download=True` fetches and unpacks the
    archive into `root/cifar10` (or the cache) when it is found nowhere.
    """
    name = "cifar10"
    task, num_classes, input_shape = "classification", 10, (CHANNELS, SIDE, SIDE)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root=None, train=True, transform=None, download=False):
        self.train, self.transform = train, transform
        self.images, self.labels, classes, self.folder = self.read_split(root, train, download)
        if classes is not None:
            self.classes = classes

    @classmethod
    def read_split(cls, root=None, train=True, download=False):
        """One split's (uint8 images (N, 32, 32, 3), int64 labels (N,), class names from
        batches.meta or None, the batch folder), found in the search folders (fetched first
        when `download` and missing) and validated. The one reader of the files:
        `glassnet.vision.datasets` uses it too."""
        folder, batches = cls._locate(root, train)
        if folder is None and download:
            fetch(cls.name, root, looked_in=cls.search_dirs(root))
            folder, batches = cls._locate(root, train)
        if folder is None:
            dev = " (or data_batch_1..4 beside test_batch: a dev split)" if train else ""
            raise FileNotFoundError(f"CIFAR10: {', '.join(batches)}{dev} not found; looked in "
                                    f"{', '.join(cls.search_dirs(root))} (download=True, or "
                                    f"--download on the command line, fetches it)")
        parts = [read_batch(os.path.join(folder, b), cls.num_classes) for b in batches]
        images = np.ascontiguousarray(np.concatenate([p[0] for p in parts]))
        labels = np.concatenate([p[1] for p in parts])
        meta, classes = os.path.join(folder, META), None
        if os.path.isfile(meta):
            classes = read_label_names(meta)
            if len(classes) != cls.num_classes:
                raise DataFormatError(f"{meta}: {len(classes)} label names, expected "
                                      f"{cls.num_classes}")
        return images, labels, classes, folder

    @classmethod
    def search_dirs(cls, root):
        dirs = []
        if root:
            root = os.fspath(root)
            dirs += [os.path.join(root, FOLDER), os.path.join(root, cls.name, FOLDER), root]
        return dirs + [os.path.join(cache_dir(cls.name), FOLDER)]

    @classmethod
    def _locate(cls, root, train):
        """(the first search folder holding the whole split, its batch files), or (None,
        the canonical batch files) when no folder does."""
        for folder in cls.search_dirs(root):
            batches = train_batches(folder) if train else TEST_BATCHES
            if all(os.path.isfile(os.path.join(folder, b)) for b in batches):
                return folder, batches
        return None, TRAIN_BATCHES if train else TEST_BATCHES
