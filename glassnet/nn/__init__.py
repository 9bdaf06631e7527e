"""Neural-network building blocks. For now: `glassnet.nn.functional`."""
from . import functional  # noqa: F401
