"""OpenBLAS's idle threads, and how glassnet quiets them whatever the import order.

After each matrix product OpenBLAS's worker threads keep spinning for a while
before they sleep (2^28 cycles, ~0.1 s, by default). On a 2-core machine that
spinning thread holds the core that glassnet's own kernel threads (convolution,
pooling, ...) need between products. `OPENBLAS_THREAD_TIMEOUT=4` makes it sleep at
once, and `import glassnet` sets it -- but OpenBLAS reads it when it is loaded, that
is when NumPy is imported. Measured on the MNIST CNN when NumPy came first and
nothing more was done: a training step 19.8 ms instead of 14.0.

So when NumPy came first, glassnet applies the setting at run time (`quiet_threads`):
OpenBLAS exports `openblas_read_env`, which reads the environment into its settings
again, and `blas_thread_shutdown_`, which stops its worker threads (the function its
fork handler uses); the next threaded product starts them afresh, and a thread
started then reads the new timeout. This happens once, at `import glassnet`, when no
product is running. If the loaded OpenBLAS lacks either function, glassnet says so
once (`PerformanceWarning`).
"""
import ctypes
import os
import warnings

__all__ = ["PerformanceWarning", "quiet_threads", "warn_if_numpy_came_first", "cblas_sgemm",
           "one_thread"]


class PerformanceWarning(RuntimeWarning):
    """Something makes glassnet slower than it could be, and how to fix it."""


def _numpy_uses_openblas():
    try:
        import numpy as np
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:             # an old NumPy or an unusual build: say nothing
        return False
    return "openblas" in str(blas).lower()


def _loaded_openblas():
    """The OpenBLAS shared library this process has loaded (NumPy's), or None."""
    try:
        with open(f"/proc/{os.getpid()}/maps") as maps:      # Linux; elsewhere: None
            paths = {line.split()[-1] for line in maps if line.count(" ") >= 5}
    except OSError:
        return None
    for path in sorted(paths):
        name = os.path.basename(path).lower()
        if "openblas" in name and ".so" in name:
            try:
                return ctypes.CDLL(path)          # already loaded: the same handle
            except OSError:
                continue
    return None


# cblas_sgemm's names in OpenBLAS builds, and whether its integers are 64-bit: NumPy's
# wheels bundle an ILP64 build with prefixed, suffixed names; distributions' are LP64
_SGEMM_NAMES = (("scipy_cblas_sgemm64_", True), ("cblas_sgemm64_", True),
                ("scipy_cblas_sgemm", False), ("cblas_sgemm", False))


def cblas_sgemm():
    """(address, ilp64) of the loaded OpenBLAS's cblas_sgemm, for compiled loops that call
    it directly (native_rnn.h), or None."""
    lib = _loaded_openblas()
    for name, ilp64 in _SGEMM_NAMES if lib is not None else ():
        fn = getattr(lib, name, None)
        if fn is not None:
            return ctypes.cast(fn, ctypes.c_void_p).value, ilp64
    return None


_THREAD_NAMES = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                 ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                 ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                 ("openblas_get_num_threads", "openblas_set_num_threads"))
_CONTROLS = []


def _thread_controls():
    """(get_num_threads, set_num_threads) of the loaded OpenBLAS, or None; looked up once."""
    if not _CONTROLS:
        lib, found = _loaded_openblas(), None
        for get, put in _THREAD_NAMES if lib is not None else ():
            if hasattr(lib, get) and hasattr(lib, put):
                found = getattr(lib, get), getattr(lib, put)
                found[0].restype, found[1].restype = ctypes.c_int, None
                found[1].argtypes = [ctypes.c_int]
                break
        _CONTROLS.append(found)
    return _CONTROLS[0]


class one_thread:
    """`with one_thread() as ok:` OpenBLAS runs its products on the calling thread only,
    until the block ends (then its thread count is restored); `ok` is False where that
    cannot be set, and nothing changes. For loops of small products (the recurrent
    layers' steps), where waking a second thread costs more than it brings. The setting is
    OpenBLAS's, process-wide: products other threads start meanwhile run on one thread."""

    def __enter__(self):
        controls = _thread_controls()
        self.saved = None if controls is None else controls[0]()
        if self.saved is not None:
            controls[1](1)
        return self.saved is not None

    def __exit__(self, *exc):
        if self.saved is not None:
            _thread_controls()[1](self.saved)
        return False


def quiet_threads():
    """Make the loaded OpenBLAS re-read its environment (OPENBLAS_THREAD_TIMEOUT among
    it) and restart its worker threads with it. True if it could."""
    lib = _loaded_openblas()
    if lib is None:
        return False
    try:
        read_env, shutdown = lib.openblas_read_env, lib.blas_thread_shutdown_
    except AttributeError:
        return False
    read_env.restype = shutdown.restype = None
    read_env()
    shutdown()
    return True


def warn_if_numpy_came_first(came_first):
    """When came_first (glassnet/__init__.py: NumPy was in sys.modules and
    OPENBLAS_THREAD_TIMEOUT not set when glassnet began loading) and NumPy's BLAS is
    OpenBLAS: apply the timeout now (quiet_threads), or warn once if that fails.
    Returns whether the threads were restarted."""
    if not came_first or not _numpy_uses_openblas():
        return False
    if quiet_threads():
        return True
    warnings.warn(
        "NumPy was imported before glassnet, and its OpenBLAS cannot be told at run time "
        "to let its idle threads sleep: they keep spinning after every matrix product and "
        "slow glassnet's kernels (a CNN training step ~1.4x); import glassnet before NumPy, "
        "or set OPENBLAS_THREAD_TIMEOUT=4 in the environment", PerformanceWarning,
        stacklevel=3)
    return False
