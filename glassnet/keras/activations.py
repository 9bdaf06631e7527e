"""Keras's activation names over glassnet's activation ops. Each function acts on the last
axis where it has one (softmax), like Keras; `axis` lets a layer apply it to channels held
first internally."""
from ..ops import activation as A

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def linear(x, axis=-1):
    return x


def relu(x, axis=-1):
    return A.relu(x)


def relu6(x, axis=-1):
    return A.relu6(x)


def sigmoid(x, axis=-1):
    return A.sigmoid(x)


def tanh(x, axis=-1):
    return A.tanh(x)


def softmax(x, axis=-1):
    return A.softmax(x, axis)


def log_softmax(x, axis=-1):
    return A.log_softmax(x, axis)


def elu(x, axis=-1):
    return A.elu(x)


def selu(x, axis=-1):
    return A.elu(x, _SELU_ALPHA) * _SELU_SCALE


def gelu(x, axis=-1):
    return A.gelu(x)


def silu(x, axis=-1):
    return A.silu(x)


def softplus(x, axis=-1):
    return A.softplus(x)


def softsign(x, axis=-1):
    return x / (x.abs() + 1)


def leaky_relu(x, axis=-1):
    return A.leaky_relu(x, 0.2)       # Keras's default slope


def hard_sigmoid(x, axis=-1):
    return A.relu6(x + 3) / 6         # Keras 3: relu6(x + 3) / 6


def exponential(x, axis=-1):
    return x.exp()


_BY_NAME = {f.__name__: f for f in (linear, relu, relu6, sigmoid, tanh, softmax, log_softmax,
                                    elu, selu, gelu, silu, softplus, softsign, leaky_relu,
                                    hard_sigmoid, exponential)}
_BY_NAME["swish"] = silu
AXIS_DEPENDENT = {softmax, log_softmax}


def get(identifier):
    """An activation from a name, None ('linear') or a callable of one tensor."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown activation {identifier!r}; use one of "
                             f"{', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"an activation must be a name or a callable, got {identifier!r}")


def name_of(fn):
    for name, f in _BY_NAME.items():
        if f is fn and name != "swish":
            return name
    return getattr(fn, "__name__", "custom")


def apply(fn, x, channels_first):
    """fn on a value held channels-first or last: axis-dependent ones act on the channels."""
    if fn in AXIS_DEPENDENT:
        return fn(x, axis=1 if channels_first and x.ndim > 2 else -1)
    return fn(x)        # elementwise (a user's function is called with the tensor alone)
