import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # the parity harness is a plain module here

from hypothesis import settings  # noqa: E402

# Property tests draw their examples from a fixed seed: the suite is deterministic.
settings.register_profile("glassnet", derandomize=True, deadline=None, max_examples=40,
                          database=None)
settings.load_profile("glassnet")

import pytest  # noqa: E402

from glassnet._kernels import native  # noqa: E402


@pytest.fixture(params=["native", "numpy"])
def kernels(request, monkeypatch):
    """Run a test once with the compiled loops and once with the NumPy ones (modules
    that exercise both say `pytestmark = pytest.mark.usefixtures("kernels")`)."""
    if request.param == "numpy":
        monkeypatch.setattr(native, "LIB", None)
    elif native.LIB is None:
        pytest.skip("the compiled loops are not built (or GLASSNET_NATIVE=0)")
    return request.param
