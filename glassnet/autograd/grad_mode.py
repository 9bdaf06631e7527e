"""Whether operations record a graph for backpropagation.

`no_grad` switches recording off (inference, optimizer updates); `enable_grad`
switches it back on inside a `no_grad` region. Both work as context managers and
as decorators, like their PyTorch namesakes.
"""
import functools

_state = {"enabled": True}


def is_grad_enabled():
    return _state["enabled"]


def set_grad_enabled(mode):
    _state["enabled"] = bool(mode)


class _GradMode:
    _mode = True

    def __enter__(self):
        self._previous = _state["enabled"]
        _state["enabled"] = self._mode
        return self

    def __exit__(self, *exc):
        _state["enabled"] = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Record no graph: results of operations do not require grad."""
    _mode = False


class enable_grad(_GradMode):
    """Record the graph again inside a `no_grad` region."""
    _mode = True
