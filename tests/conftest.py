import os
import sys

import glassnet  # noqa: F401  (first, before NumPy loads OpenBLAS: see glassnet/_kernels/blas.py)

sys.path.insert(0, os.path.dirname(__file__))  # the parity harness is a plain module here
# the torch twins of the model families live with the benchmarks, which time them
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))

from hypothesis import settings  # noqa: E402

# Property tests draw their examples from a fixed seed: the suite is deterministic.
settings.register_profile("glassnet", derandomize=True, deadline=None, max_examples=40,
                          database=None)
settings.load_profile("glassnet")

import pytest  # noqa: E402

from glassnet._kernels import native  # noqa: E402


@pytest.fixture(params=["direct", "native", "numpy"])
def kernels(request, monkeypatch):
    """Run a test with each kind of loop (modules that exercise them all say
    `pytestmark = pytest.mark.usefixtures("kernels")`): "direct" as installed (the AVX2
    direct convolution where the CPU has it, compiled loops for the rest), "native"
    the compiled im2col/col2im/pooling loops only, "numpy" the NumPy loops only."""
    if request.param != "numpy" and native.LIB is None:
        pytest.skip("the compiled loops are not built (or GLASSNET_NATIVE=0)")
    if request.param == "direct" and not native.DIRECT:
        pytest.skip("no direct convolution on this CPU (needs AVX2 and FMA)")
    if request.param != "direct":
        monkeypatch.setattr(native, "DIRECT", False)
    if request.param == "numpy":
        monkeypatch.setattr(native, "LIB", None)
    return request.param
