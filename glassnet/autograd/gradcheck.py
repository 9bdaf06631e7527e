"""Check a function's analytic gradients against central finite differences.

With a fixed random projection v of the outputs, backward gives J^T v for
every input; the same quantity is estimated numerically, one input element at a
time, as (f(x + eps) - f(x - eps)) . v / (2 eps). Everything runs in float64,
independent of any other framework.
"""
import numpy as np

from .grad_mode import enable_grad


class GradcheckError(AssertionError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _projected(fn, inputs, projections):
    from ..tensor import Tensor
    total = 0.0
    for out, v in zip(_outputs(fn, inputs), projections):
        if isinstance(out, Tensor) and np.issubdtype(out.dtype, np.floating):
            total += float(np.sum(out._array.astype(np.float64) * v))
    return total


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Return True if every input gradient of `fn(*inputs)` matches finite differences.

    `inputs` is a tensor or a sequence of tensors (and other arguments passed as
    they are); floating tensors that require grad are checked, after being cast
    to float64. On a mismatch a GradcheckError names the input, the element and
    both values (or False is returned when `raise_exception=False`).
    """
    from ..tensor import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = [
        Tensor(x._array, dtype=np.float64, requires_grad=x.requires_grad)
        if isinstance(x, Tensor) and np.issubdtype(x.dtype, np.floating) else x
        for x in inputs
    ]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    rng = np.random.default_rng(seed)
    with enable_grad():
        outs = _outputs(fn, inputs)
        projections = [rng.standard_normal(o.shape) for o in outs]
        scalar = None
        for out, v in zip(outs, projections):
            if isinstance(out, Tensor) and out.requires_grad:
                term = (out * Tensor(v.astype(out.dtype))).sum()
                scalar = term if scalar is None else scalar + term
        if scalar is None:
            raise ValueError("gradcheck: no output of the function requires grad")
        scalar.backward()

    for i in checked:
        x = inputs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad._array
        numeric = np.zeros(x.shape)
        flat = x._array.reshape(-1)  # a view: perturbations land in x._array
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = _projected(fn, inputs, projections)
            flat[k] = original - eps
            minus = _projected(fn, inputs, projections)
            flat[k] = original
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
        if bad.any():
            where = tuple(int(j) for j in np.argwhere(bad)[0])
            message = (f"gradcheck: gradient of input {i} (shape {x.shape}) differs at index "
                       f"{where}: analytic {analytic[where]:.8g}, numeric {numeric[where]:.8g} "
                       f"({int(bad.sum())} of {bad.size} elements differ)")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
