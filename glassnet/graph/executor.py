"""Running a graph: a plan per (fetches, fed tensors), made once and cached, and the
executor that follows it, holding the variables' values and the optimizers' state.

A plan lists only the nodes the fetches need (a fed tensor's producer does not run),
in an order where each node follows its inputs, its control inputs and (for a
gradient node) the forward node whose recorded tape it reads. Every value gets a slot;
the plan records, for each step, the slots whose last reader it is, and the executor
empties them right after that step, so a buffer whose lifetime has ended can be
reused by the allocator while the run goes on. A forward node's tape lives until the
last of its gradient nodes in the plan has used it and released the sub-graph.

Update nodes (optimizer steps) change a variable's array in place, so the planner puts
each one after every node that reads the variable (or a view of it, as the shape probes
showed) and after those readers' gradient nodes, whose tapes may have saved it. Among
the nodes ready to run, an update goes first: a weight's gradient is applied and freed
as soon as it exists, instead of waiting for the whole backward pass (the memory figures
in docs/architecture.md come from this).
"""
import heapq

import numpy as np

from ..autograd.engine import grad as _engine_grad
from ..autograd.grad_mode import _state as _grad_state
from ..tensor import Tensor
from .core import GraphError, Node, SymbolicTensor, format_shape, post_order
from .shapes import outputs_of


class FailedPreconditionError(RuntimeError):
    """A variable was read before it was given a value (TensorFlow's name)."""


class FeedError(ValueError):
    """A feed that does not fit its tensor: dtype, shape, or an unknown key."""


class Step:
    __slots__ = ("node", "kind", "inputs", "outputs", "free", "record", "tape", "retain",
                 "checks", "fn", "params", "snapshot")

    def __repr__(self):
        return f"<Step {self.kind} {self.node.name}>"


class Plan:
    """The steps for one (fetches, fed tensors) pair; see the module docstring."""

    def __init__(self, steps, slots, fed_slots, fetch_slots, n_slots):
        self.steps = steps
        self.slots = slots                # SymbolicTensor -> slot index
        self.fed_slots = fed_slots        # [(tensor, slot)]
        self.fetch_slots = fetch_slots    # per fetch target: slot, or None for a node
        self.n_slots = n_slots

    @property
    def nodes(self):
        return [s.node for s in self.steps]

    def __repr__(self):
        return f"<Plan of {len(self.steps)} steps>"


# ----------------------------------------------------------------- fetch structures
def _flatten(fetches, leaves):
    if isinstance(fetches, (SymbolicTensor, Node, str)):
        leaves.append(fetches)
        return ("leaf", len(leaves) - 1)
    if isinstance(fetches, dict):
        return ("dict", type(fetches), list(fetches.keys()),
                [_flatten(v, leaves) for v in fetches.values()])
    if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):   # namedtuple
        return ("namedtuple", type(fetches), [_flatten(v, leaves) for v in fetches])
    if isinstance(fetches, (list, tuple)):
        return (type(fetches).__name__, None, [_flatten(v, leaves) for v in fetches])
    raise TypeError(f"run: cannot fetch a {type(fetches).__name__}; fetch SymbolicTensors, "
                    "nodes, or lists, tuples and dicts of them")


def _rebuild(template, values):
    kind = template[0]
    if kind == "leaf":
        return values[template[1]]
    if kind == "dict":
        return template[1](zip(template[2], [_rebuild(t, values) for t in template[3]]))
    items = [_rebuild(t, values) for t in template[2]]
    if kind == "namedtuple":
        return template[1](*items)
    return items if kind == "list" else tuple(items)


# ----------------------------------------------------------------- planning
def _dependencies(node, fed):
    deps = [t.node for t in node.inputs if t not in fed]
    deps += node.control_inputs
    if node.kind == "gradient":
        deps.append(node.attrs["forward"])
    return deps


def _aliases(edge, memo):
    """The variables whose array this edge's value may be (a view of)."""
    key = id(edge)
    if key in memo:
        return memo[key]
    node = edge.node
    memo[key] = result = set()
    if node.kind == "variable":
        result.add(node)
    elif node.kind == "assign":
        result.add(node.attrs["variable"].node)
    elif node.kind == "op":
        for i in node.attrs["views"][edge.index] if edge.index < len(node.attrs["views"]) \
                else range(len(node.inputs)):
            result |= _aliases(node.inputs[i], memo)
    elif node.kind == "gradient":
        for t in node.inputs:
            result |= _aliases(t, memo)
    return result


def make_plan(graph, targets, fed):
    """The Plan that computes `targets` (SymbolicTensors and nodes) given `fed` tensors."""
    fed = set(fed)
    roots = []
    for t in targets:
        if isinstance(t, SymbolicTensor):
            if t not in fed:
                roots.append(t.node)
        else:
            roots.append(t)
    # nodes needed, in depth-first post-order (the base order)
    order = post_order(roots, lambda node: _dependencies(node, fed))
    if any(n.graph is not graph for n in order):
        raise GraphError("run: a fetch belongs to another graph than the executor's")
    for node in order:
        if node.kind == "placeholder":
            t = node.outputs[0]
            raise FeedError(f"run: placeholder '{node.name}' ({t.dtype.name}, shape "
                            f"{format_shape(t.shape)}) is needed by the fetches but was not "
                            "fed; pass feeds={placeholder: array}")
        if node.kind == "gradient":
            fwd = node.attrs["forward"]
            cut = [t.name for t in fwd.outputs if t in fed]
            if cut:
                raise GraphError(f"run: gradient node '{node.name}' needs the forward pass of "
                                 f"'{fwd.name}' as recorded when it runs, but {cut[0]} is fed "
                                 "(feeding cuts the graph there); feed a tensor further up")
    in_plan = set(order)
    position = {n: i for i, n in enumerate(order)}
    grads_of = {}
    for node in order:
        if node.kind == "gradient":
            grads_of.setdefault(node.attrs["forward"], []).append(node)

    # extra edges: an in-place update of variable V runs after V's readers (and their
    # gradient nodes), unless such a reader itself depends on the update
    deps = {n: set(_dependencies(n, fed)) & in_plan for n in order}
    updates = [n for n in order if n.kind == "update"]
    if updates:
        memo = {}
        readers = {}
        for node in order:
            for t in node.inputs:
                for v in _aliases(t, memo):
                    readers.setdefault(v, set()).add(node)
        for upd in updates:
            var_node = upd.attrs["variable"].node
            users = set(readers.get(var_node, ()))
            for r in list(users):
                users.update(grads_of.get(r, ()))
            users.discard(upd)
            for r in users:
                if not _reaches(r, upd, deps):
                    deps[upd].add(r)

    # list scheduling: among the ready nodes, updates first, otherwise the base order
    waiting = {n: len(d) for n, d in deps.items()}
    consumers = {n: [] for n in order}
    for n, d in deps.items():
        for m in d:
            consumers[m].append(n)
    heap = [(0 if n.kind == "update" else 1, position[n], n.name) for n in order
            if waiting[n] == 0]
    heapq.heapify(heap)
    by_name = {n.name: n for n in order}
    schedule = []
    while heap:
        _, _, name = heapq.heappop(heap)
        node = by_name[name]
        schedule.append(node)
        for c in consumers[node]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(heap, (0 if c.kind == "update" else 1, position[c], c.name))
    if len(schedule) != len(order):
        stuck = [n.name for n in order if n not in set(schedule)]
        raise GraphError(f"run: the graph has a cycle through {stuck[:5]}")

    # slots and lifetimes
    slots = {}

    def slot_of(t):
        if t not in slots:
            slots[t] = len(slots)
        return slots[t]

    fed_slots = [(t, slot_of(t)) for t in fed]
    steps = []
    last_use = {}
    for i, node in enumerate(schedule):
        step = Step()
        step.node, step.kind = node, node.kind
        step.inputs = [slot_of(t) for t in node.inputs]
        step.outputs = [None if t in fed else slot_of(t) for t in node.outputs]
        step.record = step.tape = step.retain = step.fn = step.params = step.free = None
        step.snapshot = None
        step.checks = [_checks(t) for t in node.outputs]
        for s in step.inputs:
            last_use[s] = i
        for s in step.outputs:
            if s is not None:
                last_use.setdefault(s, i)
        if node.kind == "op":
            step.fn, step.params = node.attrs["fn"], node.attrs["params"]
        steps.append(step)
    # tapes: forward nodes whose gradient nodes are in the plan record their sub-graph
    index = {n: i for i, n in enumerate(schedule)}
    n_slots = len(slots)
    for fwd, gnodes in grads_of.items():
        fstep = steps[index[fwd]]
        fstep.record = frozenset(i for gn in gnodes for i in gn.attrs["wrt"])
        fstep.tape = n_slots
        gnodes = sorted(gnodes, key=index.get)
        for gn in gnodes:
            gstep = steps[index[gn]]
            gstep.tape = n_slots
            gstep.retain = gn is not gnodes[-1]
        last_use[n_slots] = index[gnodes[-1]]
        n_slots += 1
    fetch_slots = [slot_of(t) if isinstance(t, SymbolicTensor) else None for t in targets]
    # a fetched value that may be a variable's own array is copied when it is made, so an
    # update later in the run does not change what the fetch returns
    memo = {}
    for t in targets:
        if isinstance(t, SymbolicTensor) and t not in fed and _aliases(t, memo):
            step = steps[index[t.node]]
            step.snapshot = (step.snapshot or ()) + (slots[t],)
    keep = {s for s in fetch_slots if s is not None}
    for s, i in last_use.items():
        if s not in keep:
            steps[i].free = steps[i].free + [s] if steps[i].free else [s]
    for step in steps:
        step.free = tuple(step.free or ())
    return Plan(steps, slots, fed_slots, fetch_slots, max(n_slots, len(slots)))


def _reaches(start, target, deps):
    """Whether `target` is among the (transitive) dependencies of `start`."""
    stack, seen = [start], set()
    while stack:
        n = stack.pop()
        if n is target:
            return True
        if n in seen:
            continue
        seen.add(n)
        stack.extend(deps.get(n, ()))
    return False


def _checks(t):
    if t.shape is None:
        return None
    return (len(t.shape), tuple((i, d) for i, d in enumerate(t.shape) if d is not None))


def _check_output(step, k, array):
    check = step.checks[k]
    if check is None:
        return
    rank, dims = check
    if array.ndim != rank or any(array.shape[i] != d for i, d in dims):
        t = step.node.outputs[k]
        raise GraphError(f"{step.node.name} ({step.node.type}) produced shape {array.shape}, "
                         f"but its static shape was inferred as {format_shape(t.shape)}: its "
                         "output shape depends on the values (or on unknown dims in a way the "
                         "shape probes could not see); give op(..., output_shapes=...) with "
                         "None for such dims")


# ----------------------------------------------------------------- executor
class Executor:
    """Runs a graph: `run(fetches, feeds)`. Holds the current value of every variable it
    initialized and the state of the optimizers its update nodes created."""

    def __init__(self, graph=None):
        from .core import get_default_graph
        self.graph = graph or get_default_graph()
        self._plans = {}
        self._vars = {}            # variable node -> leaf Tensor holding its value
        self._optimizers = {}      # update node -> optimizer instance
        self.last_plan = None
        self.closed = False

    # ---------------------------------------------------------------- variables
    def initialize(self, var_list=None):
        """Give variables their initial values (default: every variable of the graph)."""
        var_list = self.graph.variables if var_list is None else list(var_list)
        if var_list:
            self.run([v.initializer for v in var_list])

    def is_initialized(self, var):
        return var.node in self._vars

    def read(self, var):
        """The variable's current value (a copy)."""
        return self._state(var.node).copy()

    def write(self, var, value):
        """Set a variable's value (copied, cast to its dtype); shapes must match."""
        array = np.asarray(value._array if isinstance(value, Tensor) else value)
        if array.shape != var.shape:
            raise ValueError(f"write: variable '{var.node.name}' has shape "
                             f"{format_shape(var.shape)}, the value {array.shape}")
        self._rebind(var.node, np.array(array, dtype=var.dtype, copy=True))

    def variable_values(self, var_list=None):
        """{variable name: value copy} of every initialized variable (for saving)."""
        var_list = self.graph.variables if var_list is None else var_list
        return {v.node.name: self._vars[v.node]._array.copy() for v in var_list
                if v.node in self._vars}

    def load_variable_values(self, values, var_list=None):
        """Set variables from a {name: array} dict; every variable in var_list must be in it."""
        var_list = self.graph.variables if var_list is None else var_list
        missing = [v.node.name for v in var_list if v.node.name not in values]
        if missing:
            raise KeyError(f"load_variable_values: no value for {missing}")
        for v in var_list:
            self.write(v, values[v.node.name])

    def optimizer_of(self, update_node):
        """The glassnet.optim optimizer an update node created (after its first run)."""
        return self._optimizers.get(update_node)

    def _state(self, var_node):
        t = self._vars.get(var_node)
        if t is None:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {var_node.name}: variable "
                f"'{var_node.name}' has no value in this executor yet; run its initializer "
                "(executor.initialize([...]) or run(variable.initializer)) first")
        return t._array

    def _rebind(self, var_node, array):
        t = self._vars.get(var_node)
        if t is None:
            self._vars[var_node] = Tensor._make(array, array.dtype.kind == "f", None)
        else:
            t._array = array

    # ---------------------------------------------------------------- running
    def plan(self, fetches, feeds=None):
        """The cached Plan for these fetches and fed tensors (made on first use)."""
        leaves = []
        _flatten(fetches, leaves)
        targets = tuple(self._resolve(x) for x in leaves)
        fed = frozenset(self._resolve_feed_key(k) for k in (feeds or {}))
        return self._plan(targets, fed)

    def _plan(self, targets, fed):
        key = (targets, fed)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = make_plan(self.graph, targets, fed)
        return plan

    def _resolve(self, x):
        if isinstance(x, str):
            return self.graph.get_tensor(x) if ":" in x else self.graph.get_node(x)
        if x.graph is not self.graph:
            raise GraphError(f"run: {x.name} belongs to another graph than the executor's")
        return x

    def _resolve_feed_key(self, k):
        if isinstance(k, str):
            k = self.graph.get_tensor(k)
        if not isinstance(k, SymbolicTensor):
            raise FeedError(f"run: a feed key must be a SymbolicTensor (or its name), got "
                            f"{type(k).__name__}")
        if k.graph is not self.graph:
            raise FeedError(f"run: the fed tensor {k.name} belongs to another graph")
        return k

    def run(self, fetches, feeds=None):
        """Compute `fetches` (a SymbolicTensor, a node, or lists/tuples/dicts of them,
        nested) with `feeds` ({tensor: value}); returns NumPy arrays in the same
        structure, None for nodes (updates, groups)."""
        if self.closed:
            raise RuntimeError("run: this executor was closed")
        leaves = []
        template = _flatten(fetches, leaves)
        targets = tuple(self._resolve(x) for x in leaves)
        fed_values = {}
        for k, v in (feeds or {}).items():
            t = self._resolve_feed_key(k)
            fed_values[t] = _check_feed(t, v)
        plan = self._plan(targets, frozenset(fed_values))
        self.last_plan = plan
        values = [None] * plan.n_slots
        for t, s in plan.fed_slots:
            values[s] = fed_values[t]
        saved_mode = _grad_state["enabled"]
        try:
            for step in plan.steps:
                self._execute(step, values)
                if step.snapshot:
                    for s in step.snapshot:
                        values[s] = values[s].copy()
                for s in step.free:
                    values[s] = None
        finally:
            _grad_state["enabled"] = saved_mode
        results = []
        states = [t._array for t in self._vars.values()]
        for s in plan.fetch_slots:
            if s is None:
                results.append(None)
                continue
            v = values[s]
            if not v.flags.writeable or any(np.may_share_memory(v, a) for a in states):
                v = v.copy()     # never hand out a variable's own array, or a constant's
            results.append(v)
        return _rebuild(template, results)

    def _execute(self, step, values):
        kind = step.kind
        if kind == "op":
            record = step.record
            if record is None:
                _grad_state["enabled"] = False
                args = [Tensor._make(values[s], False, None) for s in step.inputs]
            else:
                _grad_state["enabled"] = True
                args = [Tensor._make(values[s], i in record, None)
                        for i, s in enumerate(step.inputs)]
            outs = outputs_of(step.fn(*args, **step.params), step.node.name)
            if len(outs) != len(step.outputs):
                raise GraphError(f"{step.node.name}: the callable returned {len(outs)} "
                                 f"outputs at run time, {len(step.outputs)} when built")
            if record is not None:
                values[step.tape] = (args, outs)
            for k, (s, out) in enumerate(zip(step.outputs, outs)):
                if s is not None:
                    array = out._array
                    _check_output(step, k, array)
                    values[s] = array
        elif kind == "gradient":
            leaves, outs = values[step.tape]
            attrs = step.node.attrs
            grad_outputs = [None] * len(outs)
            for k, s in zip(attrs["out_index"], step.inputs):
                grad_outputs[k] = values[s]
            wanted = [leaves[i] for i in attrs["wrt"]]
            grads = _engine_grad(outs, wanted, grad_outputs, retain_graph=step.retain)
            for s, gr, leaf in zip(step.outputs, grads, wanted):
                if s is not None:
                    values[s] = np.zeros_like(leaf._array) if gr is None else gr
        elif kind == "variable":
            values[step.outputs[0]] = self._state(step.node)
        elif kind == "constant":
            values[step.outputs[0]] = step.node.attrs["value"]
        elif kind == "update":
            self._update(step, values)
        elif kind == "assign":
            self._assign(step, values)
        elif kind == "group":
            pass
        else:           # placeholders are fed, never run
            raise GraphError(f"run: cannot execute {step.node.name} ({kind})")

    def _assign(self, step, values):
        attrs = step.node.attrs
        var = attrs["variable"]
        value = values[step.inputs[0]]
        mode = attrs["mode"]
        if mode == "assign":
            if value.shape != var.shape:
                raise GraphError(f"{step.node.name}: cannot assign a value of shape "
                                 f"{value.shape} to variable '{var.node.name}' of shape "
                                 f"{format_shape(var.shape)}")
            new = np.array(value, dtype=var.dtype, copy=True)
        else:
            old = self._state(var.node)
            new = np.add(old, value) if mode == "add" else np.subtract(old, value)
            if new.shape != old.shape:
                raise GraphError(f"{step.node.name}: the delta of shape {value.shape} "
                                 f"changes variable '{var.node.name}' to shape {new.shape}")
            new = new.astype(var.dtype, copy=False)
        self._rebind(var.node, new)
        if step.outputs[0] is not None:
            values[step.outputs[0]] = new

    def _update(self, step, values):
        attrs = step.node.attrs
        var = attrs["variable"]
        self._state(var.node)               # uninitialized -> FailedPreconditionError
        p = self._vars[var.node]
        opt = self._optimizers.get(step.node)
        if opt is None:
            opt = self._optimizers[step.node] = attrs["optimizer"]([p], **attrs["options"])
        for key, i in attrs["dynamic"].items():
            value = float(np.asarray(values[step.inputs[i]]))
            for group in opt.param_groups:
                group[key] = value
        g = values[step.inputs[0]]
        if g.shape != p._array.shape:
            raise GraphError(f"{step.node.name}: the gradient has shape {g.shape}, variable "
                             f"'{var.node.name}' {p._array.shape}")
        if g.dtype != p._array.dtype:
            g = g.astype(p._array.dtype)
        p.grad = Tensor._make(g, False, None)
        try:
            opt.step()
        finally:
            p.grad = None

    def close(self):
        self._vars.clear()
        self._optimizers.clear()
        self._plans.clear()
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _check_feed(t, value):
    array = value._array if isinstance(value, Tensor) else np.asarray(value)
    node = t.node
    what = f"placeholder '{node.name}'" if node.kind == "placeholder" else f"tensor {t.name}"
    if t.dtype is not None and array.dtype != t.dtype:
        if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, t.dtype, "same_kind"):
            raise FeedError(f"run: cannot feed a {array.dtype.name} value to {what} of dtype "
                            f"{t.dtype.name} (only a cast within the same kind or to a wider "
                            "kind is done: bool -> int -> float)")
        array = array.astype(t.dtype)
    if t.shape is not None:
        if array.ndim != len(t.shape) or any(d is not None and d != a for d, a in
                                             zip(t.shape, array.shape)):
            raise FeedError(f"run: cannot feed a value of shape {array.shape} to {what}, "
                            f"whose shape is {format_shape(t.shape)}")
    return array
