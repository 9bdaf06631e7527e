"""glassnet: a transparent deep-learning framework on NumPy.

    import glassnet as gn
    x = gn.randn(64, 784, requires_grad=True)
    loss = (x @ w).relu().sum()
    loss.backward()          # x.grad now holds dL/dx
"""
import os as _os
import sys as _sys

# OpenBLAS's idle worker threads spin for ~2^28 cycles before they sleep; on a 2-core
# machine they then steal the core from glassnet's own kernel threads between GEMMs
# (see _kernels/blas.py). Measured on one epoch of the MNIST CNN: 36.3 s with the
# defaults, 28.0 s with these. OpenBLAS reads them when NumPy loads it; if NumPy came
# first, _kernels/blas.py applies the timeout at the end of this file. A setting the
# user made is never overridden.
# (checked here, before anything below imports NumPy)
_late = "numpy" in _sys.modules and "OPENBLAS_THREAD_TIMEOUT" not in _os.environ
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._kernels.allocator import tune_malloc as _tune_malloc  # noqa: E402

_tune_malloc()     # freed arrays stay in the process for the next step (see _kernels/allocator)
from .dtypes import (float16, half, float32, float64, double, int8, uint8, int16, short,  # noqa: F401
                     int32, int64, long, bool)
from . import autograd  # first: Function and Tensor refer to each other
from .tensor import Tensor
from .devices import device, DeviceError
from .tensor_types import *  # noqa: F401,F403  (FloatTensor, LongTensor, ...)
from .random import manual_seed, get_rng_state, set_rng_state
from .random import Generator  # noqa: F401  (torch.Generator)
from .autograd import no_grad, enable_grad, is_grad_enabled, set_grad_enabled
from .creation import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
from . import ops
from . import nn
from . import optim
from . import data
from . import cuda
from . import utils  # torch.utils.data's names: gn.utils.data.DataLoader
from .io import save, load, CheckpointError
from .summary import summary, Summary

float = float32  # gn.float, like torch.float
is_tensor = Tensor.__instancecheck__  # noqa: E731
__version__ = "0.1.0"

from ._kernels.blas import PerformanceWarning, warn_if_numpy_came_first as _quiet  # noqa: E402

_quiet(_late)      # NumPy came first: OpenBLAS re-reads its timeout now (or a warning)
