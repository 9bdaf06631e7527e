"""Keras's optimizers over glassnet's (`glassnet.optim`).

A Keras optimizer is made before the model's weights are known (`compile(optimizer=SGD(...))`);
here it holds its settings until `fit` binds it to the weights, then drives the glassnet
optimizer of the same rule. The arithmetic:
- SGD (momentum, Nesterov): the same steps as Keras for a constant learning rate (Keras keeps
  the velocity with the learning rate inside, glassnet without; the two differ only while the
  rate changes).
- Adam: Keras divides by sqrt(v) + eps, PyTorch by sqrt(v / (1 - b2^t)) + eps; giving
  glassnet eps / sqrt(1 - b2^t) at step t makes its step exactly Keras's.
- RMSprop, Adagrad: Keras adds epsilon inside the square root (PyTorch outside it):
  glassnet's optimizers take `eps_inside=True` for Keras's form.
Keras 2's `lr=` and `decay=` (lr_t = lr / (1 + decay t)) are accepted; so are clipnorm (per
weight), global_clipnorm and clipvalue.
"""
import math

import numpy as np

from .. import optim


class Optimizer:
    _rule = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, name=None, lr=None, decay=0.0,
                 **unknown):
        cls = type(self).__name__
        if unknown:
            raise TypeError(f"{cls}: unexpected keyword argument(s) {', '.join(sorted(unknown))}")
        if weight_decay or use_ema:
            raise NotImplementedError(f"{cls}: weight_decay and use_ema are not supported yet")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{cls}: give clipnorm or global_clipnorm, not both")
        self._learning_rate = float(lr if lr is not None else learning_rate)
        self.decay = float(decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or cls.lower()
        self.iterations, self._inner = 0, None

    # ------------------------------------------------------------ the Keras face
    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = float(value)
        self._set_lr()

    lr = learning_rate

    def get_config(self):
        return {"name": self.name, "learning_rate": self._learning_rate,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, **self._options()}

    # ---------------------------------------------------- what glassnet's loop uses
    def bind(self, params):
        """Start driving glassnet's optimizer over `params` (the model's weights)."""
        self._inner = self._rule(list(params), lr=self._learning_rate, **self._rule_options())
        self.iterations = 0
        return self

    @property
    def param_groups(self):
        return self._inner.param_groups

    def zero_grad(self):
        self._inner.zero_grad()

    def step(self):
        self.iterations += 1
        self._set_lr()
        self._clip()
        self._before_step()
        self._inner.step()

    def state_dict(self):
        return {"inner": self._inner.state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state):
        self._inner.load_state_dict(state["inner"])
        self.iterations = int(state["iterations"])

    def _set_lr(self):
        if self._inner is None:
            return
        lr = self._learning_rate / (1 + self.decay * max(self.iterations - 1, 0))
        for group in self._inner.param_groups:
            group["lr"] = lr

    def _grads(self):
        return [p.grad._array for g in self._inner.param_groups for p in g["params"]
                if p.grad is not None]

    def _clip(self):
        grads = self._grads() if (self.clipnorm or self.clipvalue or self.global_clipnorm) \
            else ()
        if self.clipvalue:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm:
            for g in grads:
                norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                if norm > self.clipnorm:
                    g *= g.dtype.type(self.clipnorm / norm)
        if self.global_clipnorm:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            if norm > self.global_clipnorm:
                for g in grads:
                    g *= g.dtype.type(self.global_clipnorm / norm)

    def _before_step(self):
        pass

    def _options(self):
        return {}

    def _rule_options(self):
        return {}


class SGD(Optimizer):
    _rule = optim.SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _options(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    _rule_options = _options


class Adam(Optimizer):
    _rule = optim.Adam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}

    def _rule_options(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon,
                "amsgrad": self.amsgrad}

    def _before_step(self):
        # Keras: w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps), which is
        # PyTorch's rule with eps / sqrt(1 - b2^t) in place of eps
        eps = self.epsilon / math.sqrt(1 - self.beta_2 ** self.iterations)
        for group in self._inner.param_groups:
            group["eps"] = eps


class RMSprop(Optimizer):
    _rule = optim.RMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def _options(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}

    def _rule_options(self):
        return {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum,
                "centered": self.centered, "eps_inside": True}


class Adagrad(Optimizer):
    _rule = optim.Adagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _options(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}

    def _rule_options(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "eps": self.epsilon, "eps_inside": True}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ('adam') or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in _BY_NAME:
            raise ValueError(f"compile: unknown optimizer {identifier!r}; use one of "
                             f"{', '.join(sorted(_BY_NAME))} or an optimizer object")
        return _BY_NAME[identifier.lower()]()
    raise TypeError(f"compile: an optimizer must be a name or a glassnet.keras optimizer, got "
                    f"{type(identifier).__name__}")
