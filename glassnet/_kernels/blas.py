"""OpenBLAS's idle threads, and why glassnet wants to be imported before NumPy.

After each matrix product OpenBLAS's worker threads keep spinning for a while
before they sleep (2^28 cycles, ~0.1 s, by default). On a 2-core machine that
spinning thread holds the core that glassnet's own kernel threads (convolution,
pooling, ...) need between products. `OPENBLAS_THREAD_TIMEOUT=4` makes it sleep at
once, and `import glassnet` sets it — but OpenBLAS reads it only when it is
loaded, that is when NumPy is imported. If NumPy came first, the setting is too
late: measured on the MNIST CNN, a training step takes 19.8 ms instead of 14.0,
and examples/mnist_cnn.py runs an epoch in 18.1 s instead of 12.8. There is no
call that changes it afterwards, so glassnet says so once.
"""
import sys
import warnings

__all__ = ["PerformanceWarning", "warn_if_numpy_came_first"]


class PerformanceWarning(RuntimeWarning):
    """Something makes glassnet slower than it could be, and how to fix it."""


def _numpy_uses_openblas():
    try:
        import numpy as np
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:             # an old NumPy or an unusual build: say nothing
        return False
    return "openblas" in str(blas).lower()


def warn_if_numpy_came_first(came_first):
    """The one warning, if came_first (glassnet/__init__.py: NumPy was in sys.modules
    and OPENBLAS_THREAD_TIMEOUT not set when glassnet began loading) and NumPy's BLAS
    is OpenBLAS."""
    if came_first and _numpy_uses_openblas():
        warnings.warn(
            "NumPy was imported before glassnet, so OpenBLAS's idle threads keep "
            "spinning after every matrix product and slow glassnet's kernels (a CNN "
            "training step ~1.4x); import glassnet before NumPy, or set "
            "OPENBLAS_THREAD_TIMEOUT=4 in the environment", PerformanceWarning, stacklevel=3)
