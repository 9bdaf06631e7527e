"""Adagrad: steps shrink with the sum of every squared gradient seen."""
import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, maximize=False, *, eps_inside=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize, eps_inside=eps_inside))

    def _update(self, p, grad, state, group):
        # t += 1;  g = dL/dw + wd w;  S += g^2
        # w -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(S) + eps)   (eps_inside: sqrt(S + eps))
        if not state:
            state["step"] = 0
            state["sum"] = self._zeros(p, group["initial_accumulator_value"])
        state["step"] += 1
        g = self._gradient(p, grad, group, group["weight_decay"])
        total, tmp = state["sum"], self._scratch(p, 1)
        np.multiply(g, g, out=tmp)
        total += tmp
        if group["eps_inside"]:     # Keras: g / sqrt(S + eps)
            np.add(total, group["eps"], out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(total, out=tmp)
            tmp += group["eps"]
        np.divide(g, tmp, out=tmp)
        tmp *= group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        p._array -= tmp
