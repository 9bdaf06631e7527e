"""PyTorch's `torch.utils` names: `glassnet.utils.data` is torch.utils.data."""
from . import data  # noqa: F401
