"""What the benchmarks share: thread settings, glassnet on the path, alternating timing.

Import this module before NumPy, PyTorch or glassnet: it sets the environment
that their thread pools read once, when they load.
"""
import os
import sys
import time

THREADS = 2

# For benchmarks that run both frameworks in ONE process (the in-process modes): both
# keep idle worker threads spinning after each call (PyTorch's OpenMP pool; NumPy's
# OpenBLAS pool, for ~2^28 cycles by default). On two cores, alternating calls would then
# run each framework against the other's spinning threads: measured here, that slowed
# both by 40-60%. Idle threads that sleep at once keep the two apart -- but that is not
# how anybody runs PyTorch (its small parallel regions get slower), so the headline
# comparisons run each framework in a process of its own with USER_ENV, the environment
# as the user had it before the settings below. The caller's own settings win.
USER_ENV = dict(os.environ)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))

# Run from the source tree, the tree's glassnet is the one measured, installed or not.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402  (after the environment above)


def thread_report(torch=None):
    """One line naming every setting that decides how many cores each framework uses."""
    env = os.environ
    parts = [f"OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}"]
    if torch is not None:
        parts.insert(0, f"torch {torch.get_num_threads()}")
    parts += [f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '(auto)')}",
              f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}",
              f"OPENBLAS_THREAD_TIMEOUT={env['OPENBLAS_THREAD_TIMEOUT']}"]
    return "threads: " + ", ".join(parts)


def load_report(when="before the run"):
    return (f"load average {when}: %.2f %.2f %.2f (other processes share the CPUs; "
            "compare the ratios, not the times)" % os.getloadavg())


def seconds(fn, repeat=1):
    """Wall time of `repeat` calls of fn()."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return time.perf_counter() - start


def alternate(runners, rounds, repeat=1):
    """Time each runner `repeat` calls at a time, round after round, the frameworks taking
    turns so that both see the same machine load; the order flips every round so that
    neither always runs right after the other. Returns {name: [seconds per round]}."""
    names = list(runners)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name].append(seconds(runners[name], repeat))
    return times


def sgemm_gflops(n=2048, repeat=5):
    """The machine's float32 GEMM rate with NumPy: median over `repeat` n x n @ n x n."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)                  # first call starts OpenBLAS's threads
    times = [seconds(lambda: np.matmul(a, b, out=out)) for _ in range(repeat)]
    return 2 * n ** 3 / float(np.median(times)) / 1e9
