"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state dicts.

A subclass implements `_update(p, grad, state, group)`: one parameter's step,
done in place on `p.data` (and on the state arrays) in the parameter's dtype.
`step()` runs it for every parameter that has a gradient, outside any graph.
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
        groups = list(params) if not isinstance(params, Tensor) else [params]
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: parameters must be Tensors, got "
                                f"{type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{self._name}: a parameter of shape {tuple(p.shape)} does not "
                                 "require grad, so it cannot be optimized")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or existing & {id(p) for p in params}:
            raise ValueError(f"{self._name}: some parameters appear in more than one parameter "
                             "group (or twice in one)")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        if group["lr"] < 0:
            raise ValueError(f"{self._name}: invalid learning rate {group['lr']} (must be >= 0)")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{self._name}: invalid weight_decay {group['weight_decay']}")

    def zero_grad(self, set_to_none=True):
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        grad = p.grad.data
                        if group.get("maximize"):
                            grad = -grad
                        self._update(p, grad, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # ------------------------------------------------------------- state dicts
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{options, 'params': [indices]}]}, as
        PyTorch: parameters are numbered in group order."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the state dict has {len(groups)} "
                             f"parameter groups, the optimizer {len(self.param_groups)}")
        by_index = {}
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self._name}.load_state_dict: group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict, "
                                 f"{len(group['params'])} in the optimizer")
            by_index.update(zip(saved["params"], group["params"]))
        new_state = {}
        for key, saved in state_dict["state"].items():
            p = by_index[int(key)]
            entry = {}
            for name, value in saved.items():
                value = value.data if isinstance(value, Tensor) else value
                if isinstance(value, np.ndarray):
                    if value.shape != p.shape:
                        raise ValueError(f"{self._name}.load_state_dict: state {name!r} of "
                                         f"parameter {key} has shape {value.shape}, the "
                                         f"parameter {tuple(p.shape)}")
                    value = np.array(value, dtype=p.dtype)
                entry[name] = value
            new_state[p] = entry
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
