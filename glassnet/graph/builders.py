"""Functions that add nodes: placeholders, constants, variables, op nodes over glassnet's
eager ops, assignments, optimizer updates and groups.

An op node stores an eager callable and calls it at run time on glassnet Tensors, so
there is no second implementation of any math: `op(gn.matmul, [x, w])` runs
`gn.matmul` itself. `wrap(fn)` turns an eager function into a graph-building one:
`conv2d = wrap(F.conv2d, "Conv2D")`, then `conv2d(x, w, b, padding=2)` adds a node
whose input edges are x, w, b and whose constant keyword parameters are padding=2.
"""
import numbers

import numpy as np

from .. import ops as _ops
from ..tensor import Tensor
from .core import GraphError, Node, SymbolicTensor, format_shape, get_default_graph
from .shapes import infer


# --------------------------------------------------------------------- helpers
def _graph_of(values, graph=None):
    graphs = {id(v.graph): v.graph for v in values if isinstance(v, (SymbolicTensor, Node))}
    if len(graphs) > 1:
        raise GraphError("inputs come from different graphs")
    found = next(iter(graphs.values()), None)
    if graph is not None and found is not None and found is not graph:
        raise GraphError("inputs belong to another graph than the one given")
    return graph or found or get_default_graph()


def as_tensor(value, graph=None, dtype=None, name=None):
    """A SymbolicTensor for `value`: itself if symbolic, else a new constant node."""
    if isinstance(value, SymbolicTensor):
        return value
    if isinstance(value, Node):
        if value.outputs:
            return value.outputs[0]
        raise GraphError(f"node {value.name} ({value.kind}) has no output to use as a tensor")
    return constant(value, dtype=dtype, name=name, graph=graph)


def _type_name(fn):
    name = getattr(fn, "__name__", type(fn).__name__)
    if name == "<lambda>":
        return "Lambda"
    return _TYPE_NAMES.get(name) or "".join(p[:1].upper() + p[1:] for p in name.split("_")
                                            if p) or "Op"


_TYPE_NAMES = {"matmul": "MatMul", "conv2d": "Conv2D", "conv1d": "Conv1D",
               "max_pool2d": "MaxPool2D", "avg_pool2d": "AvgPool2D", "relu": "Relu",
               "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "neg": "Neg",
               "log_softmax": "LogSoftmax", "cross_entropy": "CrossEntropy"}


# --------------------------------------------------------------------- leaves
def placeholder(dtype=np.float32, shape=None, name=None, graph=None):
    """A value fed at run time. shape: a tuple with None for dims known only then (the
    batch), or None for an unknown rank."""
    g = graph or get_default_graph()
    node = g._add("placeholder", "Placeholder", name=name)
    node._set_outputs([(np.dtype(dtype), shape)])
    return node.outputs[0]


def constant(value, dtype=None, name=None, graph=None):
    """A fixed array (its value is copied now, so later changes to `value` do not leak in)."""
    if isinstance(value, Tensor):
        value = value._array
    if dtype is None:
        from ..dtypes import infer_dtype
        array = np.asarray(value)
        dtype = infer_dtype(array)
    array = np.array(value, dtype=dtype, copy=True)
    array.flags.writeable = False
    g = graph or get_default_graph()
    node = g._add("constant", "Const", attrs={"value": array}, name=name)
    node._set_outputs([(array.dtype, array.shape)])
    return node.outputs[0]


class Variable(SymbolicTensor):
    """A variable's read: the edge from its node, usable wherever a tensor is.

    The graph holds only the initial value; the current value lives in each Executor
    (`executor.initialize([v])` or `run(v.initializer)` sets it). `assign`,
    `assign_add`, `assign_sub` return nodes that change it when run.
    """

    def __init__(self, initial_value, name=None, dtype=None, trainable=True, graph=None):
        g = _graph_of([initial_value], graph)
        init = as_tensor(initial_value, g, dtype=dtype,
                         name=None if name is None else f"{name}/initial_value")
        if init.shape is None or any(d is None for d in init.shape):
            raise GraphError(f"Variable {name or ''}: the initial value's shape "
                             f"{format_shape(init.shape)} must be fully known")
        dtype = np.dtype(dtype or init.dtype)
        node = g._add("variable", "Variable", attrs={"trainable": bool(trainable)},
                      name=name)
        super().__init__(node, 0, dtype, init.shape)
        node.outputs = (self,)
        node.attrs["initial_value"] = init
        self.trainable = bool(trainable)
        self.initial_value = init
        g.variables.append(self)
        self.initializer = _assign_node(self, init, "assign", f"{node.name}/Assign").node

    def assign(self, value, name=None):
        return _assign_node(self, value, "assign", name)

    def assign_add(self, delta, name=None):
        return _assign_node(self, delta, "add", name)

    def assign_sub(self, delta, name=None):
        return _assign_node(self, delta, "sub", name)

    def __repr__(self):
        return (f"<Variable '{self.node.name}' shape={format_shape(self.shape)} "
                f"dtype={self.dtype.name}>")


def _assign_node(var, value, mode, name):
    if not isinstance(var, Variable):
        raise GraphError(f"assign: the target must be a Variable, got {type(var).__name__}")
    g = var.graph
    # a Python number takes the variable's dtype; an array keeps its own, checked below
    value = as_tensor(value, g, dtype=None if isinstance(value, (np.ndarray, Tensor))
                      else var.dtype)
    what = {"assign": "assign", "add": "assign_add", "sub": "assign_sub"}[mode]
    if value.dtype is not None and not np.can_cast(value.dtype, var.dtype, "same_kind"):
        raise GraphError(f"{what} to {var.node.name}: a {value.dtype.name} value cannot be "
                         f"stored in a {var.dtype.name} variable")
    if value.shape is not None:
        fits = (len(value.shape) == len(var.shape) and all(
            d is None or d == e for d, e in zip(value.shape, var.shape)))
        if mode != "assign" and not fits:   # a delta may broadcast
            try:
                np.broadcast_shapes(tuple(1 if d is None else d for d in value.shape),
                                    var.shape)
                fits = np.broadcast_shapes(tuple(1 if d is None else d for d in value.shape),
                                           var.shape) == var.shape
            except ValueError:
                fits = False
        if not fits:
            raise GraphError(f"{what} to {var.node.name}: the value has shape "
                             f"{format_shape(value.shape)}, the variable "
                             f"{format_shape(var.shape)}")
    base = {"assign": "Assign", "add": "AssignAdd", "sub": "AssignSub"}[mode]
    node = g._add("assign", base, inputs=[value], name=name,
                  attrs={"variable": var, "mode": mode})
    node._set_outputs([(var.dtype, var.shape)])
    return node.outputs[0]


def assign(var, value, name=None):
    return _assign_node(var, value, "assign", name)


def assign_add(var, delta, name=None):
    return _assign_node(var, delta, "add", name)


def assign_sub(var, delta, name=None):
    return _assign_node(var, delta, "sub", name)


def variables_initializer(var_list=None, name="init", graph=None):
    """One group node that runs the initializers of `var_list` (default: every variable)."""
    g = graph or (var_list[0].graph if var_list else get_default_graph())
    var_list = g.variables if var_list is None else var_list
    return group(*[v.initializer for v in var_list], name=name, graph=g)


# --------------------------------------------------------------------- op nodes
def op(fn, inputs=(), params=None, name=None, type=None, output_shapes=None,
       output_dtypes=None, differentiable=True, graph=None):
    """Add a node that calls `fn(*input_tensors, **params)` at run time.

    inputs: SymbolicTensors (or values, which become constants); params: constant
    keyword arguments. The outputs' dtypes and shapes are inferred by running `fn` on
    small arrays now (see shapes.py); `output_shapes` (a tuple for one output, a list of
    tuples for several; None for unknown dims) overrides the shapes found, and with
    `output_dtypes` too nothing is probed. Returns the output tensor, or a tuple of them
    when `fn` returns several.
    """
    params = dict(params or {})
    type = type or _type_name(fn)
    g = _graph_of(list(inputs), graph)
    inputs = [as_tensor(x, g) for x in inputs]
    node = g._add("op", type, inputs=inputs, name=name,
                  attrs={"fn": fn, "params": params, "type": type,
                         "differentiable": bool(differentiable)})
    try:
        where = node.name if node.name.rsplit("/", 1)[-1].split("_")[0] == type else \
            f"{node.name} ({type})"
        if output_shapes is not None and output_dtypes is not None:
            # stated in full: no probes (the op may not run on probe sizes at all, e.g. a
            # reshape to a fixed size of an input with an unknown batch)
            n = 1 if isinstance(output_shapes, tuple) else len(output_shapes)
            if n != len(output_dtypes):
                raise GraphError(f"{where}: {n} output_shapes but {len(output_dtypes)} "
                                 "output_dtypes")
            specs = [(np.dtype(d), None) for d in output_dtypes]
            views = [set(range(len(inputs)))] * len(specs)      # assume the worst
        else:
            specs, views = infer(fn, inputs, params, where, output_dtypes)
    except Exception:
        g.nodes.remove(node)            # a node that failed to build is not kept
        del g._by_name[node.name]
        raise
    if output_shapes is not None:
        # a tuple is one output's shape; a list holds one shape (or None) per output
        shapes = [output_shapes] if isinstance(output_shapes, tuple) else list(output_shapes)
        if len(shapes) != len(specs):
            raise GraphError(f"{node.name}: {len(shapes)} output_shapes given for "
                             f"{len(specs)} outputs")
        specs = [(d, None if s is None else tuple(s)) for (d, _), s in zip(specs, shapes)]
    node.attrs["views"] = views
    outs = node._set_outputs(specs)
    return outs[0] if len(outs) == 1 else outs


class _Interleaved:
    """fn called with the input Tensors put back among the constant positional
    arguments they were given with: wrap(F.max_pool2d)(x, 2) stores x as an edge and 2
    as a constant in its place."""

    def __init__(self, fn, template):
        self.fn = fn
        self.template = template          # per position: None (next edge) or the constant
        self.__name__ = getattr(fn, "__name__", "op")

    def __call__(self, *tensors, **params):
        it = iter(tensors)
        args = [next(it) if c is _EDGE else c for c in self.template]
        return self.fn(*args, **params)


_EDGE = object()


def wrap(fn, type=None, differentiable=True):
    """A graph-building twin of eager `fn`: positional arguments that are SymbolicTensors,
    arrays or glassnet Tensors become input edges (arrays as constants), other positional
    and all keyword arguments are constant parameters; `name=` names the node."""
    def build(*args, name=None, **params):
        edges = [a for a in args if isinstance(a, (SymbolicTensor, np.ndarray, Tensor))]
        if len(edges) == len(args):
            return op(fn, args, params, name=name, type=type or _type_name(fn),
                      differentiable=differentiable)
        template = [_EDGE if isinstance(a, (SymbolicTensor, np.ndarray, Tensor)) else a
                    for a in args]
        return op(_Interleaved(fn, template), edges, params, name=name,
                  type=type or _type_name(fn), differentiable=differentiable)
    build.__name__ = getattr(fn, "__name__", "op")
    build.__doc__ = f"Graph node calling {build.__name__} at run time.\n\n{fn.__doc__ or ''}"
    return build


def _scalar_dtype(value, other):
    """The dtype of a Python number meeting a tensor: it never widens the tensor."""
    od = other.dtype if isinstance(other, SymbolicTensor) else None
    if isinstance(value, bool):
        return np.bool_
    if isinstance(value, numbers.Integral):
        return od if od is not None and od.kind in "iuf" else np.int64
    if isinstance(value, numbers.Real):
        return od if od is not None and od.kind == "f" else np.float32
    return None


_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
           "matmul": "MatMul", "lt": "Less", "le": "LessEqual", "gt": "Greater",
           "ge": "GreaterEqual"}


def binary(name, a, b):
    g = _graph_of([a, b])
    if not isinstance(a, SymbolicTensor):
        a = as_tensor(a, g, dtype=_scalar_dtype(a, b))
    if not isinstance(b, SymbolicTensor):
        b = as_tensor(b, g, dtype=_scalar_dtype(b, a))
    return op(getattr(_ops, name), [a, b], type=_BINARY[name])


def unary(name, a):
    return op(getattr(_ops, name), [a], type=_type_name(getattr(_ops, name)))


def identity(x, name=None):
    return op(_identity, [x], name=name, type="Identity")


def _identity(x):
    return x


def stop_gradient(x, name=None):
    """The same value; `gradients` treats it as a constant."""
    return op(_identity, [x], name=name, type="StopGradient", differentiable=False)


# --------------------------------------------------------------------- groups
def group(*deps, name=None, graph=None):
    """A node with no value that runs after everything in `deps` (nodes or tensors)."""
    flat = []
    for d in deps:
        flat.extend(d if isinstance(d, (list, tuple)) else [d])
    nodes = [d if isinstance(d, Node) else as_tensor(d).node for d in flat]
    g = graph or _graph_of(nodes)
    return g._add("group", "group_deps" if nodes else "NoOp", control_inputs=nodes, name=name)


def no_op(name=None, graph=None):
    return group(name=name, graph=graph)


# --------------------------------------------------------------------- training
def apply_gradients(optimizer, grads_and_vars, name=None, **options):
    """A group node that, when run, applies `optimizer` (a glassnet.optim class, e.g.
    `gn.optim.SGD`, or a `functools.partial` of one) to every (gradient, variable) pair:
    one update node per variable, each running that optimizer class's `step()` on the
    executor's copy of the variable. Options are the optimizer's keyword arguments; an
    option given as a SymbolicTensor (a learning-rate placeholder) is read every run.
    Pairs whose gradient is None are skipped."""
    pairs = [(gr, v) for gr, v in grads_and_vars if gr is not None]
    if not pairs:
        raise GraphError(f"apply_gradients: no variable has a gradient "
                         f"(variables: {[v.node.name for _, v in grads_and_vars]})")
    g = pairs[0][1].graph
    base = name or getattr(optimizer, "__name__", type(optimizer).__name__)
    updates = []
    with g.name_scope(base) as scope:
        dynamic_inputs, statics = [], {}
        for key, value in options.items():
            if isinstance(value, SymbolicTensor):
                dynamic_inputs.append((key, value))
            else:
                statics[key] = value
        for grad, var in pairs:
            if not isinstance(var, Variable):
                raise GraphError(f"apply_gradients: {var!r} is not a Variable")
            if not var.trainable:
                raise GraphError(f"apply_gradients: variable {var.node.name} is not trainable")
            grad = as_tensor(grad, g)
            if grad.shape is not None and (len(grad.shape) != len(var.shape) or any(
                    d is not None and d != e for d, e in zip(grad.shape, var.shape))):
                raise GraphError(f"apply_gradients: the gradient for {var.node.name} has "
                                 f"shape {format_shape(grad.shape)}, the variable "
                                 f"{format_shape(var.shape)}")
            inputs = [grad] + [t for _, t in dynamic_inputs]
            node = g._add("update", "update_" + var.node.name.replace("/", "_"),
                          inputs=inputs,
                          attrs={"variable": var, "optimizer": optimizer, "options": statics,
                                 "dynamic": {k: i + 1 for i, (k, _) in
                                             enumerate(dynamic_inputs)},
                                 "type": base})
            updates.append(node)
    return g._add("group", base, control_inputs=updates, name=scope)


def minimize(loss, optimizer, var_list=None, name=None, **options):
    """gradients(loss, var_list) then apply_gradients: the training step as one node."""
    from .gradients import gradients
    var_list = loss.graph.trainable_variables if var_list is None else list(var_list)
    if not var_list:
        raise GraphError("minimize: the graph has no trainable variables")
    grads = gradients(loss, var_list)
    return apply_gradients(optimizer, list(zip(grads, var_list)), name=name, **options)
