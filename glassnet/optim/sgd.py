"""Stochastic gradient descent, with momentum, dampening, Nesterov and L2 weight decay."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        # g = dL/dw + wd w
        # b = g on the first step, then b = mu b + (1 - tau) g
        # w -= lr (g + mu b)  with Nesterov,  w -= lr b  otherwise  (w -= lr g without momentum)
        g = self._gradient(p, grad, group, group["weight_decay"])
        mu, tmp = group["momentum"], self._scratch(p, 1)
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p._array.dtype)
            else:
                buf *= mu
                if group["dampening"]:
                    np.multiply(g, 1 - group["dampening"], out=tmp)
                    buf += tmp
                else:
                    buf += g
            if group["nesterov"]:
                np.multiply(buf, mu, out=tmp)
                tmp += g
                g = tmp
            else:
                g = buf
        np.multiply(g, group["lr"], out=tmp)
        p._array -= tmp
