"""TensorFlow 1's dtype objects: `tf.float32` compares equal to `np.float32` (and to
'float32'), has `.name` and `.as_numpy_dtype`, and `np.dtype(tf.float32)` works (NumPy
reads an object's `.dtype`). `tf.string` holds Python bytes in object arrays."""
import numpy as np


class DType:
    __slots__ = ("name", "dtype")

    def __init__(self, name, np_dtype):
        self.name = name
        self.dtype = np.dtype(np_dtype)

    @property
    def as_numpy_dtype(self):
        return self.dtype.type

    @property
    def base_dtype(self):
        return self

    @property
    def is_floating(self):
        return self.dtype.kind == "f"

    @property
    def is_integer(self):
        return self.dtype.kind in "iu"

    def __eq__(self, other):
        if isinstance(other, DType):
            return self.dtype == other.dtype
        if other is None:
            return False
        if isinstance(other, str) and other == self.name:
            return True
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"tf.{self.name}"


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool = DType("bool", np.bool_)     # noqa: A001  (TensorFlow's name)
string = DType("string", np.object_)
half, double = float16, float64

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, string)


def as_dtype(value):
    """A DType for a DType, NumPy dtype or type, or a name ('float32', 'string')."""
    if isinstance(value, DType):
        return value
    for d in _ALL:
        if isinstance(value, str) and value == d.name:
            return d
    np_dtype = np.dtype(value)
    if np_dtype.kind in "OSU":
        return string
    for d in _ALL:
        if d.dtype == np_dtype:
            return d
    raise TypeError(f"cannot convert {value!r} to a TensorFlow dtype")


def np_dtype(value):
    """The NumPy dtype behind a TF dtype (None stays None)."""
    return None if value is None else as_dtype(value).dtype


def default_dtype(value):
    """The dtype TensorFlow gives Python data: ints int32, floats float32, strings
    string; NumPy arrays keep theirs (TF keeps float64 and int64 arrays as they are)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return as_dtype(value.dtype)
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind in "SUO":
        return string
    if kind == "b":
        return bool
    if kind in "iu":
        return int32
    if kind == "f":
        return float32
    raise TypeError(f"cannot make a tensor from {type(value).__name__} data")


def to_array(value, dtype=None):
    """`value` as an array of `dtype` (a TF dtype or None for the default); strings become
    object arrays of bytes, as TensorFlow returns them."""
    dtype = default_dtype(value) if dtype is None else as_dtype(dtype)
    if dtype is string:
        array = np.asarray(value, dtype=object)
        flat = [v.encode() if isinstance(v, str) else v for v in array.reshape(-1)]
        for v in flat:
            if not isinstance(v, bytes):
                raise TypeError(f"expected str or bytes for a tf.string tensor, got "
                                f"{type(v).__name__}")
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(array.shape)
    return np.asarray(value, dtype=dtype.dtype)
