"""The few hot array routines the ops are built on, in plain NumPy.

`windows`: im2col / col2im for convolution and the window offsets pooling walks.
`workspace`: scratch arrays recycled between calls (fresh pages cost a page fault each).
"""
from .windows import (conv_out_size, pool_out_size, tap_slice, offsets,  # noqa: F401
                      pad_spatial, im2col, col2im)
from .workspace import Workspace, WORKSPACE  # noqa: F401
