"""`gn.cuda`: what PyTorch code asks about CUDA before choosing a device. glassnet
computes on the CPU, so no CUDA device is ever available."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted and ignored, as PyTorch does when no CUDA device exists (the CPU
    generator is seeded by gn.manual_seed)."""


manual_seed_all = manual_seed


def synchronize(device=None):
    """Nothing runs asynchronously on the CPU; there is nothing to wait for."""
