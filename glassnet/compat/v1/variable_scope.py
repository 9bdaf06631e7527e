"""`get_variable` and `variable_scope`: variables named by scope, shared on request.

Each graph keeps its own store {full name: Variable} of the variables `get_variable`
made. As in TensorFlow 1, asking again for a name that exists is an error unless the
scope reuses (reuse=True: it must exist; AUTO_REUSE: made if missing, else shared)."""
import contextlib
import threading

import numpy as np

from ... import graph as gg
from ...graph.core import SymbolicTensor
from . import _ops, dtypes as _d
from .initializers import _as_initializer

AUTO_REUSE = "AUTO_REUSE"
_local = threading.local()


class VariableScope:
    def __init__(self, name, reuse):
        self.name = name
        self.reuse = reuse
        self.original_name_scope = name + "/" if name else ""

    def reuse_variables(self):
        self.reuse = True

    def __repr__(self):
        return f"<VariableScope {self.name!r} reuse={self.reuse}>"


def _scopes():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_variable_scope():
    stack = _scopes()
    return stack[-1] if stack else VariableScope("", False)


def _store(graph):
    if not hasattr(graph, "_tf_variable_store"):
        graph._tf_variable_store = {}
    return graph._tf_variable_store


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   reuse=None, dtype=None):
    """Names get_variable's variables 'scope/name' and opens the name scope of the same
    name for the ops made inside. reuse: None inherits the enclosing scope's."""
    outer = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        name = name_or_scope.name
    else:
        base = name_or_scope if name_or_scope is not None else default_name
        if base is None:
            raise ValueError("variable_scope: give a name or a default_name")
        name = f"{outer.name}/{base}" if outer.name else base
    if reuse is False:
        reuse = outer.reuse if outer.reuse else False
    inherited = outer.reuse if reuse is None else reuse
    scope = VariableScope(name, inherited)
    graph = gg.get_default_graph()
    saved = graph._scope
    graph._scope = [p for p in graph.unique_name(name).split("/")] if name else []
    _scopes().append(scope)
    try:
        yield scope
    finally:
        _scopes().pop()
        graph._scope = saved


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, **kwargs):
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    graph = gg.get_default_graph()
    store = _store(graph)
    if full in store:
        var = store[full]
        if scope.reuse is False or scope.reuse is None:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and tuple(int(d) for d in shape) != var.shape:
            raise ValueError(f"Trying to share variable {full}, but specified shape "
                             f"{tuple(int(d) for d in shape)} and found shape {var.shape}.")
        if dtype is not None and _d.np_dtype(dtype) != var.dtype:
            raise ValueError(f"Trying to share variable {full}, but specified dtype "
                             f"{_d.as_dtype(dtype).name} and found dtype {var.dtype.name}.")
        return var
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?")
    if isinstance(initializer, (SymbolicTensor, np.ndarray)):
        init = _ops.as_tensor(initializer)
    else:
        if shape is None:
            raise ValueError(f"Shape of a new variable ({full}) must be fully defined, but "
                             "instead was None.")
        dtype = dtype or _d.float32
        init = _as_initializer(initializer, dtype)(tuple(int(d) for d in shape), dtype=dtype)
    # the variable takes its full name as it is (not uniquified), outside any name scope
    saved = graph._scope
    graph._scope = []
    try:
        if full in graph._by_name:
            raise ValueError(f"get_variable: the graph already has a node named {full!r}")
        var = gg.Variable(init, name=full, trainable=trainable)
    finally:
        graph._scope = saved
    store[full] = var
    return var
