"""Weight initialisation with PyTorch's names and rules (torch.nn.init).

Every function fills its tensor in place (the same array, dtype and shape), works on
tensors that require grad (it writes `._array`, so autograd records nothing), returns
the tensor, and draws from glassnet's seeded generator unless `generator=` (a NumPy
Generator) is given.

fan_in / fan_out follow PyTorch: for a weight (out, in, *kernel), fan_in = in *
prod(kernel) and fan_out = out * prod(kernel). Xavier/Glorot keeps the variance of
activations and gradients equal across layers with std = gain * sqrt(2 / (fan_in +
fan_out)); Kaiming/He keeps it through ReLU-like layers with std = gain / sqrt(fan).
A uniform U(-b, b) has std b / sqrt(3), so the uniform variants use b = sqrt(3) * std.
"""
import math
import numbers
import warnings

import numpy as np

from .. import random as _random

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through a nonlinearity."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, (bool, np.bool_)):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4     # PyTorch's empirical value (pytorch#50664)
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r} (use one of "
                     f"{', '.join(_LINEAR)}, tanh, relu, leaky_relu, selu)")


# ----------------------------------------------------------------------------- helpers
def _array(tensor, op, floating=False):
    array = getattr(tensor, "_array", None)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: expected a glassnet Tensor, got {type(tensor).__name__}")
    if floating and not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{op}: expected a floating-point tensor, got {array.dtype}")
    return array


def _rng(generator, op):
    if generator is None:
        return _random.default_generator()   # looked up now: manual_seed replaces it
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{op}: generator must be a numpy.random.Generator, "
                        f"got {type(generator).__name__}")
    return generator


def _standard_(tensor, op, generator, kind):
    """Fill the tensor's array with U[0, 1) ("random") or N(0, 1) ("standard_normal"),
    drawn straight into it when NumPy can, so a float32 weight never passes through
    float64."""
    array = _array(tensor, op, floating=True)
    draw = getattr(_rng(generator, op), kind)
    if array.dtype in (np.float32, np.float64) and array.flags.c_contiguous \
            and array.flags.writeable:
        draw(dtype=array.dtype, out=array)
    else:
        array[...] = draw(array.shape)
    return array


def _calculate_fan_in_and_fan_out(tensor):
    shape = _array(tensor, "init").shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out cannot be computed for a tensor with fewer "
                         f"than 2 dims (shape {shape})")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} is not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# ----------------------------------------------------------------------- plain fills
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    array = _standard_(tensor, "uniform_", generator, "random")
    array *= b - a
    array += a
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: expected std >= 0, got {std}")
    array = _standard_(tensor, "normal_", generator, "standard_normal")
    array *= std
    array += mean
    return tensor


def constant_(tensor, val):
    _array(tensor, "constant_")[...] = getattr(val, "_array", val)
    return tensor


def ones_(tensor):
    return constant_(tensor, 1)


def zeros_(tensor):
    return constant_(tensor, 0)


def eye_(tensor):
    """The identity matrix (ones on the main diagonal of a 2-D, maybe non-square, tensor)."""
    array = _array(tensor, "eye_")
    if array.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {array.shape}")
    array[...] = 0
    np.fill_diagonal(array, 1)
    return tensor


def dirac_(tensor, groups=1):
    """A convolution kernel that passes input channel d straight to output channel d of
    each group (a one at the kernel's centre), so the layer starts as the identity."""
    array = _array(tensor, "dirac_")
    if array.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4 or 5 dims are supported, got shape "
                         f"{array.shape}")
    if groups < 1 or array.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({array.shape[0]}) must be divisible by groups "
                         f"({groups})")
    per_group = array.shape[0] // groups
    channels = np.arange(min(per_group, array.shape[1]))
    out_index = (np.arange(groups)[:, None] * per_group + channels).ravel()
    in_index = np.tile(channels, groups)
    centre = tuple(s // 2 for s in array.shape[2:])
    array[...] = 0
    array[(out_index, in_index) + centre] = 1
    return tensor


# -------------------------------------------------------------- truncated normal
def _trunc_proposal(lo, hi):
    """Robert (1995): of N(0, 1), U(lo, hi) and a shifted exponential, the proposal with
    the highest acceptance for N(0, 1) restricted to [lo, hi], with lo < 0 < hi or lo >= 0.
    The comparisons are closed-form, so no tail probability is ever computed (it
    underflows far out), and the chosen one accepts at least ~40% of its draws."""
    if lo < 0 < hi:
        # normal accepts p, uniform accepts p * sqrt(2 pi) / (hi - lo)
        return "normal" if hi - lo >= math.sqrt(2 * math.pi) else "uniform"
    alpha = (lo + math.sqrt(lo * lo + 4)) / 2   # the exponential rate that accepts most
    return "uniform" if hi - lo < math.exp((alpha - lo) ** 2 / 2) / alpha else "exponential"


def _trunc_candidates(rng, kind, count, lo, hi):
    """`count` proposals, of which the accepted ones are i.i.d. N(0, 1) on [lo, hi]."""
    if kind == "normal":
        z = rng.standard_normal(count)
        return z[(z >= lo) & (z <= hi)]
    if kind == "uniform":
        nearest = min(max(0.0, lo), hi)          # where the density peaks on [lo, hi]
        z = rng.uniform(lo, hi, count)
        return z[rng.random(count) < np.exp((nearest * nearest - z * z) / 2)]
    alpha = (lo + math.sqrt(lo * lo + 4)) / 2
    z = lo + rng.standard_exponential(count) / alpha
    return z[(z <= hi) & (rng.random(count) < np.exp(-(z - alpha) ** 2 / 2))]


def _standard_trunc_normal(rng, n, lo, hi):
    """n exact draws of N(0, 1) restricted to [lo, hi], by rejection in vectorised rounds
    sized from the acceptance rate seen so far (one or two rounds in practice)."""
    flip = hi <= 0                               # sample the mirror image on [-hi, -lo]
    if flip:
        lo, hi = -hi, -lo
    kind, rate = _trunc_proposal(lo, hi), 0.4
    out, filled = np.empty(n), 0
    for _ in range(100):
        if filled == n:
            return -out if flip else out
        count = int((n - filled) / rate * 1.1) + 16
        z = _trunc_candidates(rng, kind, count, lo, hi)
        rate = max(len(z) / count, 0.01)
        z = z[:n - filled]
        out[filled:filled + len(z)] = z
        filled += len(z)
    raise RuntimeError(f"trunc_normal_: rejection sampling on [{lo}, {hi}] did not converge")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b] (absolute bounds, as in PyTorch), exactly: the
    values are distributed as the truncated normal however far [a, b] lies from mean."""
    array = _array(tensor, "trunc_normal_", floating=True)
    rng = _rng(generator, "trunc_normal_")
    if not a <= b:
        raise ValueError(f"trunc_normal_: expected a <= b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_: expected std >= 0, got {std}")
    if std == 0 or a == b:
        return constant_(tensor, min(max(mean, a), b))
    z = _standard_trunc_normal(rng, array.size, (a - mean) / std, (b - mean) / std)
    values = z.reshape(array.shape) * std + mean
    array[...] = np.clip(values, a, b, out=values)   # rounding in mean + std*z, not the law
    return tensor


# ------------------------------------------------------------------ scaled fills
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if tensor._array.size == 0:
        return tensor
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if tensor._array.size == 0:
        return tensor
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """gain / sqrt(fan), or None (with PyTorch's warning) for a zero-element tensor."""
    if 0 in _array(tensor, "init").shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b), b = sqrt(3) * gain / sqrt(fan). (PyTorch's layers use a = sqrt(5), giving
    b = 1 / sqrt(fan_in).)"""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix, rows = dim 0 and columns = the other dims flattened,
    scaled by gain: Q of the QR decomposition of a normal matrix, its columns' signs
    fixed by diag(R) so that Q is Haar-distributed (Mezzadri 2007), as PyTorch does."""
    array = _array(tensor, "orthogonal_", floating=True)
    if array.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dims are supported, got "
                         f"shape {array.shape}")
    if array.size == 0:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    flat = _rng(generator, "orthogonal_").standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T                  # QR of the tall side gives orthonormal rows
    q, r = np.linalg.qr(flat)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    q *= gain
    array[...] = q.reshape(array.shape)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std^2) with ceil(sparsity * rows) entries of every column set to zero, at
    rows chosen uniformly at random per column (Martens 2010)."""
    array = _array(tensor, "sparse_", floating=True)
    if array.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape {array.shape}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must lie in [0, 1], got {sparsity}")
    rng = _rng(generator, "sparse_")
    normal_(tensor, 0.0, std, rng)
    rows, cols = array.shape
    zeros = math.ceil(sparsity * rows)
    if zeros and cols:
        # ranking a uniform key per entry is a random permutation of every column at once
        picked = np.argsort(rng.random((rows, cols)), axis=0)[:zeros]
        array[picked, np.arange(cols)] = 0
    return tensor
