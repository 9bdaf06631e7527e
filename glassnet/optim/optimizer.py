"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state dicts.

A subclass implements `_update(p, grad, state, group)`: one parameter's step,
done in place on `p._array` and on the state arrays, in the parameter's dtype.
`step()` runs it for every parameter that has a gradient, outside any graph.

Speed: the state arrays are allocated once, on a parameter's first step, and
every update writes through `out=` into them or into the parameter's scratch
arrays (`_scratch`), which live as long as the optimizer and are not part of
its state. A steady training loop therefore allocates nothing parameter-sized.
"""
import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..nn.utils import zero_grads
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._scratch_arrays = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts "
                            f"(parameter groups), got a single Tensor of shape {params.shape}; "
                            "wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(self._unordered_message)
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _unordered_message(self):
        return (f"{self._name}: parameters must come in an ordered collection (list, tuple, "
                "generator), not a set: their order numbers them in state_dict()")

    @property
    def _name(self):
        return type(self).__name__

    def add_param_group(self, group):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: a parameter group is a dict with a 'params' entry, "
                            f"got {type(group).__name__}")
        group = dict(group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(self._unordered_message)
        params = [params] if isinstance(params, Tensor) else list(params)
        where = f"{self._name}: parameter group {len(self.param_groups)}"
        if not params:
            raise ValueError(f"{where} has an empty parameter list")
        for j, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: parameter {j} is a {type(p).__name__}, not a Tensor")
            if not p.requires_grad:
                raise ValueError(f"{where}: parameter {j} (shape {tuple(p.shape)}) does not "
                                 "require grad, so it cannot be optimized")
            if not p.is_leaf:
                raise ValueError(f"{where}: parameter {j} is not a leaf tensor (it was computed "
                                 "from others); optimize the tensors it came from")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or existing.intersection(ids):
            raise ValueError(f"{where}: some parameters appear in more than one parameter group "
                             "(or twice in one)")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group, where)
        self.param_groups.append(group)

    _NONNEGATIVE = ("lr", "momentum", "weight_decay", "eps", "alpha", "lr_decay",
                    "initial_accumulator_value")

    def _check_group(self, group, where):
        """PyTorch's option checks, applied to every group (its own options included)."""
        for key in self._NONNEGATIVE:
            if key in group and group[key] < 0:
                name = "learning rate" if key == "lr" else key
                raise ValueError(f"{where}: invalid {name} {group[key]} (must be >= 0)")
        betas = group.get("betas", (0, 0))
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{where}: invalid betas {tuple(betas)} (two numbers, each in "
                             "[0, 1))")

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (set_to_none=True) or zero the grad arrays in place."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure()'s loss.

        `closure` re-evaluates the model and calls backward; it runs with grad enabled
        even when step() is called under no_grad, as in PyTorch."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for i, group in enumerate(self.param_groups):
                for j, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue
                    grad = p.grad._array
                    if grad.shape != p._array.shape:
                        raise ValueError(f"{self._name}.step: parameter {j} of group {i} has "
                                         f"shape {p._array.shape} but its grad has shape "
                                         f"{grad.shape}")
                    self._update(p, grad, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # -------------------------------------------------------------- helpers
    def _scratch(self, p, k=0):
        """Scratch array number k of parameter p: its shape and dtype, reused every step."""
        arrays = self._scratch_arrays.setdefault(p, [])
        while len(arrays) <= k:
            arrays.append(None)
        a = arrays[k]
        if a is None or a.shape != p._array.shape or a.dtype != p._array.dtype:
            a = arrays[k] = np.empty_like(p._array)
        return a

    def _gradient(self, p, grad, group, weight_decay=0):
        """The gradient the update rule sees: g = -dL/dw if maximizing, plus the L2 term
        wd w (coupled weight decay). p.grad itself is never modified (it is the caller's),
        so a changed gradient goes to scratch array 0."""
        if not group["maximize"] and not weight_decay:
            return grad
        g = self._scratch(p, 0)
        if weight_decay:
            np.multiply(p._array, weight_decay, out=g)
            if group["maximize"]:
                g -= grad
            else:
                g += grad
        else:
            np.negative(grad, out=g)
        return g

    @staticmethod
    def _zeros(p, fill=0):
        return np.full_like(p._array, fill)

    # ------------------------------------------------------------- state dicts
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{options, 'params': [indices]}]}, as
        PyTorch: parameters are numbered 0, 1, ... in group order. The state arrays are the
        live ones (save or copy them before stepping again), as in PyTorch."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take options and state from `state_dict()` output; the arrays are copied, cast to
        each parameter's dtype, after checking that groups and shapes match."""
        name = f"{self._name}.load_state_dict"
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(groups)} parameter groups, "
                             f"the optimizer {len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: group {i} has {len(saved['params'])} parameters in "
                                 f"the state dict, {len(group['params'])} in the optimizer")
            for j, (k, p) in enumerate(zip(saved["params"], group["params"])):
                by_index[int(k)] = (i, j, p)
        new_state = {}
        for key, saved in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"{name}: the state dict has state for parameter {key}, which "
                                 "no parameter group lists")
            i, j, p = by_index[int(key)]
            new_state[p] = {k: self._load_value(v, p, f"{name}: group {i}, parameter {j}, "
                                                      f"state {k!r}")
                            for k, v in saved.items()}
        for saved, group in zip(groups, self.param_groups):
            # a checkpoint stored as JSON gives tuples (betas) back as lists
            group.update({k: tuple(v) if isinstance(v, list) and isinstance(group.get(k), tuple)
                          else v for k, v in saved.items() if k != "params"})
        self.state = new_state

    @staticmethod
    def _load_value(value, p, where):
        value = value._array if isinstance(value, Tensor) else value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()             # 'step' saved as a 0-d array comes back a number
        if isinstance(value, np.ndarray):
            if value.shape != p._array.shape:
                raise ValueError(f"{where} has shape {value.shape}, but the parameter has "
                                 f"shape {p._array.shape}")
            return np.array(value, dtype=p._array.dtype)
        return value

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
