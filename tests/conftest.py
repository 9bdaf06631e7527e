import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # the parity harness is a plain module here

from hypothesis import settings  # noqa: E402

# Property tests draw their examples from a fixed seed: the suite is deterministic.
settings.register_profile("glassnet", derandomize=True, deadline=None, max_examples=40,
                          database=None)
settings.load_profile("glassnet")
