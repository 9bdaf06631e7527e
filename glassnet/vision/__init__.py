"""glassnet.vision: torchvision's shape (`import glassnet.vision as torchvision`).

`datasets` (MNIST, FashionMNIST, CIFAR10, ImageFolder) and `transforms`. Each subpackage
is imported on its own, so one that is missing does not keep the other from loading.
"""
import importlib as _importlib

for _name in ("datasets", "transforms"):
    try:
        _importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:      # only the subpackage itself may be absent
        if _e.name != f"{__name__}.{_name}":
            raise
del _importlib, _name
