"""dtypes are NumPy's: `gn.float32 is numpy.float32`, so arrays and tensors agree."""
import numpy as np

float16 = half = np.float16
float32 = float = np.float32
float64 = double = np.float64
int8 = np.int8
uint8 = np.uint8
int16 = short = np.int16
int32 = int = np.int32
int64 = long = np.int64
bool = np.bool_

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)


def infer_dtype(array):
    """The dtype a new tensor takes for data given without a dtype.

    Floating data becomes float32 (NumPy's float64 included: glassnet never
    computes in float64 unless asked), integers int64, booleans stay bool.
    """
    kind = array.dtype.kind
    if kind == "f":
        return array.dtype if array.dtype == np.float16 else DEFAULT_FLOAT
    if kind in "iu":
        return array.dtype
    if kind == "b":
        return array.dtype
    raise TypeError(f"tensor: cannot make a tensor from data of dtype {array.dtype}; "
                    "expected numbers or booleans")


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"
