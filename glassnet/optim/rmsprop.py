"""RMSprop: divide each step by a running root-mean-square of the gradient."""
import numpy as np

from .._kernels import native
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False, *, eps_inside=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      eps_inside=eps_inside))

    def _update(self, p, grad, state, group):
        # g = dL/dw + wd w;   s = a s + (1 - a) g^2;   centered: gbar = a gbar + (1 - a) g
        # d = sqrt(s - gbar^2 if centered else s) + eps   (eps_inside: sqrt(... + eps), Keras)
        # w -= lr g / d;   with momentum: b = mu b + g / d,  w -= lr b
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros(p)
            if mu > 0:
                state["momentum_buffer"] = self._zeros(p)
            if group["centered"]:
                state["grad_avg"] = self._zeros(p)
        state["step"] += 1
        g = self._gradient(p, grad, group, group["weight_decay"])
        sq = state["square_avg"]
        buf = state["momentum_buffer"] if mu > 0 else None
        arrays = (p._array, g, sq) + (() if buf is None else (buf,))
        if not group["centered"] and native.supports(*arrays) and len(
                {a.dtype for a in arrays}) == 1 and all(a.flags.c_contiguous for a in arrays):
            # the passes below in one compiled loop, the same operations in the same order
            native.rmsprop(p._array, g, sq, buf, alpha, group["eps"], group["lr"], mu,
                           group["eps_inside"])
            return
        tmp = self._scratch(p, 1)
        sq *= alpha
        np.multiply(g, 1 - alpha, out=tmp)
        tmp *= g
        sq += tmp
        if group["centered"]:
            ga = state["grad_avg"]
            np.subtract(g, ga, out=tmp)     # gbar += (1 - a)(g - gbar): PyTorch's lerp
            tmp *= 1 - alpha
            ga += tmp
            np.multiply(ga, ga, out=tmp)
            np.subtract(sq, tmp, out=tmp)
        else:
            np.copyto(tmp, sq)
        if group["eps_inside"]:     # Keras: d = sqrt(s + eps)
            tmp += group["eps"]
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(tmp, out=tmp)
            tmp += group["eps"]
        np.divide(g, tmp, out=tmp)
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += tmp
            np.multiply(buf, group["lr"], out=tmp)
        else:
            tmp *= group["lr"]
        p._array -= tmp
