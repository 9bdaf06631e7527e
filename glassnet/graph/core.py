"""The graph itself: nodes, the symbolic tensors on their edges, names and the default graph.

A `Graph` is a list of `Node`s. Each node has a kind (see `KINDS`), input edges (the
`SymbolicTensor`s it reads), control inputs (nodes that must run first), and output
edges. Nodes never change once made; building more of the graph only adds nodes, so a
plan made for some fetches stays valid while the graph grows.
"""
import contextlib
import re
import threading

import numpy as np

KINDS = ("placeholder", "constant", "variable", "op", "gradient", "assign", "update", "group")


class GraphError(ValueError):
    """A graph that cannot be built as asked: bad shapes, dtypes, names or structure."""


def format_shape(shape, unknown="None"):
    """(None, 784) as text; an unknown rank is '<unknown>'."""
    if shape is None:
        return "<unknown>"
    dims = [unknown if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


class TensorShape(tuple):
    """A static shape: a tuple of ints and Nones, plus TensorFlow's `as_list()` and
    `ndims`. An unknown rank is the empty tuple with `ndims` None."""

    def __new__(cls, shape):
        self = super().__new__(cls, () if shape is None else shape)
        self.ndims = None if shape is None else len(self)
        return self

    def as_list(self):
        if self.ndims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape")
        return list(self)

    def __repr__(self):
        return "TensorShape(" + ("<unknown>" if self.ndims is None else
                                 format_shape(tuple(self))) + ")"


class SymbolicTensor:
    """One output of one node: a value that exists only when an executor runs the graph.

    `dtype` is a NumPy dtype; `shape` a tuple whose entries are ints or None (unknown,
    e.g. the batch), or None when not even the rank is known. Identity is equality
    (tensors are dict keys for feeds), as in TensorFlow 1.
    """
    __hash__ = object.__hash__

    def __init__(self, node, index, dtype, shape):
        self.node = node
        self.index = index
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.shape = None if shape is None else tuple(None if d is None else int(d)
                                                      for d in shape)

    @property
    def graph(self):
        return self.node.graph

    @property
    def op(self):                       # TensorFlow's name for the producing node
        return self.node

    @property
    def name(self):
        return f"{self.node.name}:{self.index}"

    @property
    def ndim(self):
        return None if self.shape is None else len(self.shape)

    def get_shape(self):
        """The static shape as a `TensorShape` (a tuple with TensorFlow's `as_list()`)."""
        return TensorShape(self.shape)

    def __repr__(self):
        dtype = "?" if self.dtype is None else self.dtype.name
        return f"<SymbolicTensor '{self.name}' shape={format_shape(self.shape)} dtype={dtype}>"

    def __bool__(self):
        raise TypeError(f"{self.name} is symbolic: it has no value until an Executor runs "
                        "the graph, so it cannot be used as a Python bool")

    def __iter__(self):
        raise TypeError(f"{self.name} is symbolic and cannot be iterated over")

    # Operators build op nodes that call glassnet's own ops (see builders.py).
    def __add__(self, other):
        return _b().binary("add", self, other)

    def __radd__(self, other):
        return _b().binary("add", other, self)

    def __sub__(self, other):
        return _b().binary("sub", self, other)

    def __rsub__(self, other):
        return _b().binary("sub", other, self)

    def __mul__(self, other):
        return _b().binary("mul", self, other)

    def __rmul__(self, other):
        return _b().binary("mul", other, self)

    def __truediv__(self, other):
        return _b().binary("div", self, other)

    def __rtruediv__(self, other):
        return _b().binary("div", other, self)

    def __pow__(self, other):
        return _b().binary("pow", self, other)

    def __matmul__(self, other):
        return _b().binary("matmul", self, other)

    def __rmatmul__(self, other):
        return _b().binary("matmul", other, self)

    def __lt__(self, other):
        return _b().binary("lt", self, other)

    def __le__(self, other):
        return _b().binary("le", self, other)

    def __gt__(self, other):
        return _b().binary("gt", self, other)

    def __ge__(self, other):
        return _b().binary("ge", self, other)

    def __neg__(self):
        return _b().unary("neg", self)

    def __abs__(self):
        return _b().unary("abs", self)

    def __getitem__(self, key):
        return _b().op(lambda x: x[key], [self], name="StridedSlice")


def _b():
    from . import builders
    return builders


class Node:
    """One operation of a graph. `attrs` holds what the kind needs:

    placeholder: nothing (dtype and shape are on the output)
    constant:    'value' (the ndarray)
    variable:    'initial_value' (a SymbolicTensor), 'trainable'
    op:          'fn' (an eager callable over glassnet Tensors), 'params' (its constant
                 keyword arguments), 'views' (per output: the inputs it may be a view of)
    gradient:    'forward' (the op node differentiated), 'out_index' (which forward
                 output each input gradient belongs to), 'wrt' (forward input indices)
    assign:      'variable', 'mode' ('assign', 'add', 'sub')
    update:      'variable', 'optimizer' (a glassnet.optim class), 'options', 'dynamic'
                 (option name -> index of the input edge that holds its value)
    group:       nothing (only control inputs)
    """

    def __init__(self, graph, kind, name, inputs, control_inputs, attrs):
        if kind not in KINDS:
            raise GraphError(f"unknown node kind {kind!r}")
        self.graph = graph
        self.kind = kind
        self.name = name
        self.inputs = tuple(inputs)
        self.control_inputs = tuple(control_inputs)
        self.attrs = attrs
        self.outputs = ()

    def _set_outputs(self, specs):
        self.outputs = tuple(SymbolicTensor(self, i, dtype, shape)
                             for i, (dtype, shape) in enumerate(specs))
        return self.outputs

    @property
    def type(self):
        """The label drawn and printed: the callable's name for op nodes, else the kind."""
        return self.attrs.get("type", self.kind)

    def __repr__(self):
        return f"<Node '{self.name}' {self.kind} {self.type}>"


class Graph:
    """A graph under construction and, once built, the thing an Executor runs."""

    def __init__(self):
        self.nodes = []
        self._names = {}
        self._by_name = {}
        self._scope = []
        self._control = []
        self.variables = []
        self.collections = {}

    # ------------------------------------------------------------ names, scopes
    def unique_name(self, base):
        """scope/base, or scope/base_1, _2, ... if taken (TensorFlow's rule)."""
        base = re.sub(r"[^A-Za-z0-9_.\-/]", "_", str(base)) or "node"
        full = "/".join(self._scope + [base])
        if full not in self._names and full not in self._by_name:
            self._names[full] = 0
            return full
        n = self._names.get(full, 0)
        while True:
            n += 1
            candidate = f"{full}_{n}"
            if candidate not in self._by_name and candidate not in self._names:
                self._names[full] = n
                self._names[candidate] = 0
                return candidate

    @contextlib.contextmanager
    def name_scope(self, name):
        """Nodes made inside are named 'name/...'; nested scopes nest. A scope name that
        is taken becomes name_1 (a second `with name_scope('layer')` is 'layer_1')."""
        if name is None or name == "":
            yield ""
            return
        scope = self.unique_name(name.rstrip("/"))
        saved = self._scope
        self._scope = scope.split("/")
        try:
            yield scope + "/"
        finally:
            self._scope = saved

    @contextlib.contextmanager
    def control_dependencies(self, deps):
        """Nodes made inside run after every node (or tensor's producer) in `deps`."""
        nodes = [_as_node(d, "control_dependencies") for d in (deps or [])]
        self._control.append(nodes)
        try:
            yield
        finally:
            self._control.pop()

    # ------------------------------------------------------------ default graph
    @contextlib.contextmanager
    def as_default(self):
        _stack().append(self)
        try:
            yield self
        finally:
            _stack().pop()

    # ------------------------------------------------------------ adding nodes
    def _add(self, kind, base_name, inputs=(), attrs=None, control_inputs=(), name=None):
        for t in inputs:
            if not isinstance(t, SymbolicTensor):
                raise GraphError(f"{base_name}: an input must be a SymbolicTensor, got "
                                 f"{type(t).__name__}")
            if t.graph is not self:
                raise GraphError(f"{base_name}: input {t.name} belongs to another graph")
        control = [n for level in self._control for n in level] + list(control_inputs)
        for n in control:
            if n.graph is not self:
                raise GraphError(f"{base_name}: control input {n.name} belongs to another graph")
        if name and name.endswith("/"):     # a scope's own name, used as it is (TF's rule)
            full = name.rstrip("/")
            if full in self._by_name:
                raise GraphError(f"the graph already has a node named {full!r}")
        else:
            full = self.unique_name(name or base_name)
        node = Node(self, kind, full, inputs, dict.fromkeys(control), attrs or {})
        self.nodes.append(node)
        self._by_name[node.name] = node
        return node

    # ------------------------------------------------------------ look-ups
    def get_node(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"the graph has no node named {name!r}") from None

    get_operation_by_name = get_node

    def get_tensor(self, name):
        """'layer1/MatMul:0' -> that SymbolicTensor."""
        node_name, _, index = name.rpartition(":")
        if not node_name or not index.isdigit():
            raise KeyError(f"{name!r} is not a tensor name ('<node name>:<output index>')")
        node = self.get_node(node_name)
        if int(index) >= len(node.outputs):
            raise KeyError(f"node {node_name!r} has {len(node.outputs)} outputs, "
                           f"no output {index}")
        return node.outputs[int(index)]

    get_tensor_by_name = get_tensor

    def add_to_collection(self, name, value):
        self.collections.setdefault(name, []).append(value)

    def get_collection(self, name):
        return list(self.collections.get(name, []))

    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable]

    def __repr__(self):
        return f"<Graph with {len(self.nodes)} nodes>"

    # drawing lives in draw.py; these are the graph's doors to it
    def to_dot(self, fetches=None):
        from .draw import to_dot
        return to_dot(self, fetches)

    def draw(self, path, fetches=None):
        from .draw import draw
        return draw(self, path, fetches)


def _as_node(x, where):
    if isinstance(x, Node):
        return x
    if isinstance(x, SymbolicTensor):
        return x.node
    raise GraphError(f"{where}: expected a node or a SymbolicTensor, got {type(x).__name__}")


# ---------------------------------------------------------------- default graph
_local = threading.local()
_global_default = [None]


def _stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_graph():
    """The innermost `with g.as_default():` graph, else the process-wide default graph."""
    stack = _stack()
    if stack:
        return stack[-1]
    if _global_default[0] is None:
        _global_default[0] = Graph()
    return _global_default[0]


def reset_default_graph():
    """A fresh process-wide default graph (not allowed inside `with g.as_default()`)."""
    if _stack():
        raise GraphError("reset_default_graph: called inside a `with graph.as_default()` "
                         "block; leave the block first")
    _global_default[0] = Graph()
    return _global_default[0]


def name_scope(name):
    return get_default_graph().name_scope(name)


def control_dependencies(deps):
    return get_default_graph().control_dependencies(deps)


def post_order(roots, dependencies):
    """Every node reachable from `roots` through `dependencies(node)`, each after the
    nodes it depends on (a depth-first post-order, roots taken in their order)."""
    order, seen, stack = [], set(), [(n, False) for n in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for d in reversed(dependencies(node)):
            if d not in seen:
                stack.append((d, False))
    return order
