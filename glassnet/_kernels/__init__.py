"""The few hot array routines the ops are built on.

`windows`: im2col / col2im for convolution and the window offsets pooling walks (NumPy).
`native`: the same loops and a direct convolution compiled from native.c (ctypes), used
when built; the NumPy ones otherwise.
`workspace`: scratch arrays recycled between calls (fresh pages cost a page fault each).
`allocator`, `blas`: process settings made at import (glibc's malloc, OpenBLAS's threads).
"""
from .windows import (conv_out_size, pool_out_size, tap_slice, offsets,  # noqa: F401
                      pad_spatial, im2col, col2im)
from .workspace import Workspace, WORKSPACE  # noqa: F401
