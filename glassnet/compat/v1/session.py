"""tf.Session: a glassnet.graph Executor with TensorFlow 1's `run(fetches, feed_dict)`.

Fetched values come back as TensorFlow returns them: arrays, NumPy scalars for 0-d
values (bytes for a string), None for operations. Feeds are converted as TensorFlow
converts them (to the placeholder's dtype; str to bytes for tf.string) and refused with
TensorFlow's errors: a float fed to an integer placeholder (TypeError), a value whose
shape does not fit (ValueError); running a variable that has no value raises
`errors.FailedPreconditionError` naming it."""
import numpy as np

from ... import graph as gg
from ...graph.core import Node, SymbolicTensor, format_shape
from . import dtypes as _d
from .errors import FailedPreconditionError

_default_sessions = []


def _tf_shape(shape):
    if shape is None:
        return "<unknown>"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _convert_feed(t, value):
    dtype = _d.as_dtype(t.dtype)
    if isinstance(value, SymbolicTensor):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object ({value.name}). "
                        "Acceptable feed values include Python scalars, strings, lists, "
                        "numpy ndarrays, or TensorHandles.")
    if hasattr(value, "_array"):
        value = value._array
    if dtype is _d.string:
        array = np.asarray(value, dtype=object)     # TF hands a fed str back as it is
    else:
        raw = np.asarray(value)
        if raw.dtype.kind in "SUO":
            raise ValueError(f"could not convert string to {dtype.name}: {value!r} (fed to "
                             f"{t.name})")
        array = raw.astype(dtype.dtype, copy=False)     # floats into ints truncate, as TF
    if t.shape is not None and (array.ndim != len(t.shape) or any(
            d is not None and d != a for d, a in zip(t.shape, array.shape))):
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor "
                         f"{t.name}, which has shape {_tf_shape(t.shape)}")
    return array


def _resolve(graph, fetch):
    if isinstance(fetch, str):
        return graph.get_tensor(fetch) if ":" in fetch else graph.get_node(fetch)
    return fetch


def _map(structure, fn):
    if isinstance(structure, dict):
        return type(structure)((k, _map(v, fn)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_map(v, fn) for v in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(v, fn) for v in structure)
    return fn(structure)


def _map_pair(structure, values, fn):
    if isinstance(structure, dict):
        return type(values)((k, _map_pair(structure[k], values[k], fn)) for k in structure)
    if isinstance(structure, (list, tuple)):
        items = [_map_pair(s, v, fn) for s, v in zip(structure, values)]
        if hasattr(values, "_fields"):
            return type(values)(*items)
        return type(values)(items)
    return fn(structure, values)


def _output(value):  # noqa: D401
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


class Session:
    def __init__(self, target="", graph=None, config=None):
        self.graph = graph or gg.get_default_graph()
        self._executor = gg.Executor(self.graph)
        self._closed = False
        self._contexts = []

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        fetches = _map(fetches, lambda f: _resolve(self.graph, f))
        feeds = {}
        for key, value in (feed_dict or {}).items():
            t = _resolve(self.graph, key)
            if isinstance(t, gg.Node) and t.outputs:
                t = t.outputs[0]
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {key!r}")
            if t.graph is not self.graph:
                raise ValueError(f"Cannot feed {t.name}: it belongs to another graph than "
                                 "the session's")
            feeds[t] = _convert_feed(t, value)
        try:
            result = self._executor.run(fetches, feeds)
            # a fed tensor comes back as the (converted) array fed, as TensorFlow's does
            result = _map_pair(fetches, result, lambda f, r: feeds[f] if
                               isinstance(f, SymbolicTensor) and f in feeds else _output(r))
        except gg.FailedPreconditionError as e:
            raise FailedPreconditionError(str(e)) from None
        except gg.FeedError as e:
            msg = str(e)
            if "was not fed" in msg:
                raise InvalidArgumentError(
                    "You must feed a value for placeholder tensor " + msg.split("'")[1] +
                    " " + msg) from None
            raise
        return result

    def close(self):
        if not self._closed:
            self._executor.close()
            self._closed = True

    def as_default(self):
        return _DefaultSession(self)

    def __enter__(self):
        ctx = self.graph.as_default()
        ctx.__enter__()
        self._contexts.append(ctx)
        _default_sessions.append(self)
        return self

    def __exit__(self, *exc):
        _default_sessions.remove(self)
        self._contexts.pop().__exit__(*exc)
        self.close()
        return False

    # Saver's doors to the executor
    def _read(self, var):
        return self._executor.read(var)

    def _write(self, var, value):
        self._executor.write(var, value)


class _DefaultSession:
    def __init__(self, sess):
        self.sess = sess

    def __enter__(self):
        _default_sessions.append(self.sess)
        return self.sess

    def __exit__(self, *exc):
        _default_sessions.remove(self.sess)
        return False


class InteractiveSession(Session):
    """A Session that makes itself the default one on creation (for `eval`-free
    notebooks: run it with `sess.run`)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        _default_sessions.append(self)

    def close(self):
        if self in _default_sessions:
            _default_sessions.remove(self)
        super().close()


def get_default_session():
    return _default_sessions[-1] if _default_sessions else None


from .errors import InvalidArgumentError  # noqa: E402
