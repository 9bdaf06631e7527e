"""Static dtypes and shapes of op nodes, found by running the eager op on small arrays.

There is no table of shape rules: an op node's callable is run (under `no_grad`) on zero
arrays of its inputs' static shapes, twice, with every unknown dim set to 1 and then to
2. Output dims equal in both probes are known; dims that differ are unknown (None). A
third run on random values of the second probe's sizes checks that the output shape does
not depend on the values. The runs also show which outputs are views of which inputs
(the planner must not let an optimizer update a variable in place while a view of it
is still to be read).

Limits, and what happens then:
- An output shape that depends on the values (boolean masks, `nonzero`, `unique`) is
  unknown where the zero and random probes disagree; where they agree by chance the
  static shape is wrong, and the executor's check of every op's output against its
  static shape raises at run time. `op(..., output_shapes=...)` states the shapes instead.
- An op that forces an unknown dim to one value (a reshape of a (None, 4, 5) input
  into (6, -1)) fails both probes and is refused at build time, although it could run
  for some batch sizes; `op(..., output_shapes=..., output_dtypes=...)` skips the probes.
- All unknown dims are probed with the same size, so two inputs whose unknown dims are
  different at run time (a (None, 3) meeting a (None, 3) of another length) are assumed
  compatible, as TensorFlow assumes.
- A probe that fails for one size only (an unknown dim broadcast against a fixed one)
  leaves every output dim unknown rather than guessing.
- Inputs of unknown rank cannot be probed: outputs then have unknown shape and the
  first input's dtype (or `output_dtypes`).
- The callable runs three times at build time, so it must not count on being called
  only at run time (glassnet's random state is saved and restored around the probes).
"""
import numpy as np

from ..autograd.grad_mode import _state as _grad_state
from ..tensor import Tensor
from .core import GraphError, format_shape


def _probe_array(dtype, shape, size, random):
    concrete = tuple(size if d is None else d for d in shape)
    if random is None:
        return np.zeros(concrete, dtype=dtype)
    if dtype.kind == "f":
        return random.standard_normal(concrete).astype(dtype)
    if dtype.kind == "b":
        return random.random(concrete) < 0.5
    return np.ones(concrete, dtype=dtype)


def outputs_of(result, where):
    """The Tensors a callable returned, as a list (one or several outputs)."""
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    out = []
    for item in items:
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, (np.ndarray, np.generic, int, float, bool)):
            out.append(Tensor._make(np.asarray(item), False, None))
        else:
            raise GraphError(f"{where}: the callable returned a {type(item).__name__}; op "
                             "callables must return glassnet Tensors (or a tuple of them)")
    return out


def _run(fn, arrays, params):
    from ..random import get_rng_state, set_rng_state
    state = get_rng_state()
    saved = _grad_state["enabled"]
    _grad_state["enabled"] = False
    try:
        with np.errstate(all="ignore"):
            result = fn(*[Tensor._make(a, False, None) for a in arrays], **params)
    finally:
        _grad_state["enabled"] = saved
        set_rng_state(state)
    return result


def infer(fn, inputs, params, where, output_dtypes=None):
    """[(dtype, shape)] per output and, per output, the input indices it may view."""
    if any(t.shape is None or t.dtype is None for t in inputs):
        n = len(output_dtypes) if output_dtypes else 1
        dtypes = output_dtypes or [inputs[0].dtype if inputs else None]
        return [(dtypes[i], None) for i in range(n)], [set(range(len(inputs)))] * n
    has_unknown = any(d is None for t in inputs for d in t.shape)
    results, errors, probes = {}, {}, {}
    for size in (1, 2) if has_unknown else (1,):
        arrays = [_probe_array(t.dtype, t.shape, size, None) for t in inputs]
        try:
            results[size] = outputs_of(_run(fn, arrays, params), where)
            probes[size] = arrays
        except GraphError:
            raise
        except Exception as e:  # noqa: BLE001  (the op's own error, reported with context)
            errors[size] = e
    if not results:
        e = errors[1]
        shapes = ", ".join(f"{format_shape(t.shape)} {t.dtype.name}" for t in inputs)
        note = " (unknown dims were tried as 1 and as 2)" if has_unknown else ""
        raise GraphError(f"{where}: cannot be applied to inputs of shapes {shapes}{note}: "
                         f"{type(e).__name__}: {e}") from e
    size = 1 if 1 in results else 2
    first, arrays = results[size], probes[size]
    specs = []
    if has_unknown and len(results) == 2:
        for a, b in zip(results[1], results[2]):
            if a.ndim != b.ndim:
                specs.append([a.dtype, None])
            else:
                specs.append([a.dtype, [x if x == y else None for x, y in
                                        zip(a.shape, b.shape)]])
    elif has_unknown:                   # one size failed: keep the rank, nothing more
        specs = [[t.dtype, [None] * t.ndim] for t in first]
    else:
        specs = [[t.dtype, list(t.shape)] for t in first]
    # the same sizes, random values: an output shape that changes depends on the values
    size = 2 if 2 in results else 1
    rng = np.random.default_rng(0)
    try:
        varied = outputs_of(_run(fn, [_probe_array(t.dtype, t.shape, size, rng)
                                      for t in inputs], params), where)
    except Exception:  # noqa: BLE001  (random values may be invalid for the op: no verdict)
        varied = None
    if varied is not None and len(varied) == len(specs):
        for spec, zero, rand in zip(specs, results[size], varied):
            if spec[1] is None:
                continue
            if zero.ndim != rand.ndim:
                spec[1] = None
            else:
                spec[1] = [d if x == y else None for d, x, y in
                           zip(spec[1], zero.shape, rand.shape)]
    views = [{i for i, a in enumerate(arrays) if np.may_share_memory(out._array, a)}
             for out in first]
    specs = [(np.dtype(d), None if s is None else tuple(s)) for d, s in specs]
    if output_dtypes is not None:
        specs = [(np.dtype(d), s) for d, (_, s) in zip(output_dtypes, specs)]
    return specs, views


def compatible(static, actual):
    """Whether a concrete shape fits a static one (None dims match anything)."""
    if static is None:
        return True
    return len(static) == len(actual) and all(s is None or s == a for s, a in
                                              zip(static, actual))
