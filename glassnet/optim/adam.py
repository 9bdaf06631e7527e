"""Adam and AdamW: per-weight step sizes from running moments of the gradient."""
import math

import numpy as np

from .._kernels import native
from .optimizer import Optimizer


class Adam(Optimizer):
    _decoupled = False      # AdamW: weight decay shrinks w directly instead of adding to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False, epsilon_hat=False):
        """epsilon_hat: eps is the paper's epsilon-hat (Kingma & Ba, end of section 2),
        added to sqrt(v) before its bias correction, as TensorFlow 1's AdamOptimizer and
        Keras do: w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, epsilon_hat=bool(epsilon_hat)))

    def _update(self, p, grad, state, group):
        # t += 1;  g = dL/dw (+ wd w for Adam;  AdamW: w *= 1 - lr wd instead)
        # m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2;   (amsgrad: v_max = max(v_max, v))
        # w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = self._zeros(p)
            state["exp_avg_sq"] = self._zeros(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._zeros(p)
        state["step"] += 1
        t = state["step"]
        g = self._gradient(p, grad, group, 0 if self._decoupled else wd)
        if self._decoupled and wd:
            p._array *= 1 - lr * wd
        m, v = state["exp_avg"], state["exp_avg_sq"]
        vmax = state["max_exp_avg_sq"] if group["amsgrad"] else None
        # epsilon-hat: (sqrt(v) + eps) / c2 = sqrt(v) / c2 + eps / c2, so the same passes
        # with eps / c2 in place of eps
        c2 = math.sqrt(1 - b2 ** t)
        eps = group["eps"] / c2 if group.get("epsilon_hat") else group["eps"]
        arrays = (p._array, g, m, v) + (() if vmax is None else (vmax,))
        if native.supports(*arrays) and len({a.dtype for a in arrays}) == 1 and all(
                a.flags.c_contiguous for a in arrays):
            # the passes below in one compiled loop, the same operations in the same order
            native.adam(p._array, g, m, v, vmax, 1 - b1, b2, 1 - b2, c2, eps,
                        lr / (1 - b1 ** t))
            return
        tmp = self._scratch(p, 1)
        np.subtract(g, m, out=tmp)          # m += (1 - b1)(g - m): PyTorch's lerp
        tmp *= 1 - b1
        m += tmp
        v *= b2
        np.multiply(g, 1 - b2, out=tmp)
        tmp *= g
        v += tmp
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        np.sqrt(v, out=tmp)
        tmp /= c2
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1 - b1 ** t)
        p._array -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w -= lr wd w before the
    Adam step, so the decay is not rescaled by the adaptive denominator."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False, epsilon_hat=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, epsilon_hat)
