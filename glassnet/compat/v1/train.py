"""tf.train: the optimizers (update nodes running glassnet.optim's steps, with TF1's
rules) and Saver (glassnet's checkpoint format, variables matched by name)."""
import os

import numpy as np

import glassnet as gn
from ... import graph as gg
from ...graph.core import SymbolicTensor
from . import _ops
from .errors import NotFoundError


class Optimizer:
    """TF1's optimizer interface over one glassnet.optim class. TF1's update rules:
    GradientDescent w -= lr g; Momentum a = mu a + g, w -= lr a (PyTorch's SGD with
    momentum is the same: its buffer starts at g, TF's a at 0, so a_1 = g in both);
    Adam with epsilon-hat (glassnet.optim.Adam(epsilon_hat=True))."""
    _cls = None
    _name = "Optimizer"

    def __init__(self, use_locking=False, name=None):
        self._op_name = name or self._name
        self._options = {}

    def compute_gradients(self, loss, var_list=None, **kwargs):
        graph = loss.graph
        var_list = graph.trainable_variables if var_list is None else list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gg.gradients(loss, var_list)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        pairs = list(grads_and_vars)
        if all(g is None for g, _ in pairs):
            raise ValueError("No gradients provided for any variable: "
                             f"{[v.node.name for _, v in pairs]}")
        update = gg.apply_gradients(self._cls, pairs, name=name or self._op_name,
                                    **self._options)
        if global_step is None:
            return update
        with update.graph.control_dependencies([update]):
            return global_step.assign_add(np.ones((), global_step.dtype)).node

    def minimize(self, loss, global_step=None, var_list=None, name=None, **kwargs):
        return self.apply_gradients(self.compute_gradients(loss, var_list),
                                    global_step=global_step, name=name)


def _rate(value):
    return value if isinstance(value, SymbolicTensor) else float(value)


class GradientDescentOptimizer(Optimizer):
    _cls, _name = gn.optim.SGD, "GradientDescent"

    def __init__(self, learning_rate, use_locking=False, name=None):
        super().__init__(use_locking, name)
        self._options = {"lr": _rate(learning_rate)}


class MomentumOptimizer(Optimizer):
    _cls, _name = gn.optim.SGD, "Momentum"

    def __init__(self, learning_rate, momentum, use_locking=False, name=None,
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._options = {"lr": _rate(learning_rate), "momentum": float(momentum),
                         "nesterov": bool(use_nesterov)}


class AdamOptimizer(Optimizer):
    _cls, _name = gn.optim.Adam, "Adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name=None):
        super().__init__(use_locking, name)
        self._options = {"lr": _rate(learning_rate), "betas": (float(beta1), float(beta2)),
                         "eps": float(epsilon), "epsilon_hat": True}


def get_global_step(graph=None):
    graph = graph or gg.get_default_graph()
    return getattr(graph, "_tf_global_step", None)


def get_or_create_global_step(graph=None):
    graph = graph or gg.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        with graph.as_default():
            step = graph._tf_global_step = _ops.Variable(np.zeros((), np.int64),
                                                         trainable=False, name="global_step")
    return step


create_global_step = get_or_create_global_step


# ------------------------------------------------------------------ Saver
class Saver:
    """save(sess, path) writes every variable's value, under its name, to one glassnet
    checkpoint file (`gn.save`: written atomically, to a temporary file then renamed);
    restore(sess, path) reads them back. var_list: a list of variables (saved under
    their names) or a {name: variable} dict; default every variable of the graph."""

    def __init__(self, var_list=None, max_to_keep=5, **kwargs):
        if var_list is None:
            var_list = gg.get_default_graph().variables
            if not var_list:
                raise ValueError("No variables to save")
        if isinstance(var_list, dict):
            self._vars = dict(var_list)
        else:
            self._vars = {}
            for v in var_list:
                if v.node.name in self._vars:
                    raise ValueError(f"Saver: variable {v.node.name} is listed twice")
                self._vars[v.node.name] = v

    def save(self, sess, save_path, global_step=None, **kwargs):
        path = os.fspath(save_path)
        if global_step is not None:
            step = global_step if isinstance(global_step, int) else \
                int(sess.run(global_step))
            path = f"{path}-{step}"
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        values = {name: sess._read(v) for name, v in self._vars.items()}
        gn.save({"format": "glassnet.compat.v1.Saver", "variables": values}, path)
        return path

    def restore(self, sess, save_path):
        path = os.fspath(save_path)
        if not os.path.exists(path):
            raise NotFoundError(f"Saver.restore: no checkpoint at {path!r}")
        data = gn.load(path)
        if not isinstance(data, dict) or data.get("format") != "glassnet.compat.v1.Saver":
            raise ValueError(f"Saver.restore: {path!r} is not a checkpoint written by "
                             "Saver.save")
        stored = data["variables"]
        missing = [n for n in self._vars if n not in stored]
        if missing:
            raise NotFoundError(f"Saver.restore: the checkpoint {path!r} has no value for "
                                f"variable(s) {missing} (it holds {sorted(stored)})")
        extra = [n for n in stored if n not in self._vars]
        if extra:
            raise ValueError(f"Saver.restore: the checkpoint {path!r} holds variable(s) "
                             f"{extra} that this Saver does not know; build the same "
                             "variables (same names) as the program that saved it, or "
                             "pass var_list= naming the ones to restore")
        for name, v in self._vars.items():
            value = stored[name]
            value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            if value.shape != v.shape:
                raise ValueError(f"Saver.restore: variable {name} has shape {v.shape} in "
                                 f"the graph but {value.shape} in the checkpoint {path!r}")
        for name, v in self._vars.items():
            value = stored[name]
            sess._write(v, value.numpy() if hasattr(value, "numpy") else value)
