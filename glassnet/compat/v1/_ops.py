"""The top-level TF1 ops: constants, placeholders, variables, random tensors and math,
each a glassnet.graph node that calls glassnet's eager op (no math is written here)."""
import numpy as np

import glassnet as gn
from ... import graph as gg
from ...graph.core import SymbolicTensor
from . import dtypes as _d


def _np(dtype):
    return _d.np_dtype(dtype)


def as_tensor(value, dtype=None, name=None):
    """A SymbolicTensor: `value` itself, or a constant with TensorFlow's dtype rules."""
    if isinstance(value, SymbolicTensor):
        return value
    if isinstance(value, gg.Node) and value.outputs:
        return value.outputs[0]
    return constant(value, dtype=dtype, name=name)


convert_to_tensor = as_tensor


def _pair(a, b):
    """Two operands as tensors; a Python value takes the other operand's dtype."""
    if isinstance(a, SymbolicTensor) and not isinstance(b, SymbolicTensor):
        return a, as_tensor(b, dtype=a.dtype if a.dtype.kind != "O" else None)
    if isinstance(b, SymbolicTensor) and not isinstance(a, SymbolicTensor):
        return as_tensor(a, dtype=b.dtype if b.dtype.kind != "O" else None), b
    return as_tensor(a), as_tensor(b)


def _op(fn, inputs, type, name=None, **params):
    return gg.op(fn, [as_tensor(x) for x in inputs], params, name=name, type=type)


# ------------------------------------------------------------------ leaves
def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant; Python ints are int32, floats float32, str bytes (tf.string)."""
    array = _d.to_array(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        if array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.shape != shape:
            array = array.reshape(shape)
    return gg.constant(array, dtype=array.dtype, name=name)


def placeholder(dtype, shape=None, name=None):
    shape = None if shape is None else tuple(None if d is None or d == -1 else int(d)
                                             for d in shape)
    return gg.placeholder(_np(dtype), shape, name=name)


def placeholder_with_default(input, shape, name=None):
    raise NotImplementedError("placeholder_with_default is not supported")


def Variable(initial_value=None, trainable=True, name=None, dtype=None, **kwargs):  # noqa: N802
    """tf.Variable: a glassnet.graph Variable whose initial value follows TF's dtypes."""
    if callable(initial_value):
        initial_value = initial_value()
    if initial_value is None:
        raise ValueError("Variable: initial_value must be given")
    if isinstance(initial_value, SymbolicTensor):
        init = initial_value
        if dtype is not None and _np(dtype) != init.dtype:
            init = cast(init, dtype)
    else:
        init = constant(initial_value, dtype=dtype,
                        name=None if name is None else f"{name}/initial_value")
    return gg.Variable(init, name=name or "Variable", trainable=trainable)


# ------------------------------------------------------------------ filled and random
def _full(*, shape, value, dtype):
    return gn.full(shape, value, dtype=dtype)


def _shape(shape):
    if isinstance(shape, SymbolicTensor):
        raise NotImplementedError("shapes given as tensors are not supported; give a list")
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)


def _filled(shape, value, dtype, name, type):
    shape, dtype = _shape(shape), _np(dtype)
    return gg.op(_full, [], {"shape": shape, "value": value, "dtype": dtype}, name=name,
                 type=type, output_shapes=shape, output_dtypes=[dtype])


def zeros(shape, dtype=_d.float32, name=None):
    return _filled(shape, 0, dtype, name, "Zeros")


def ones(shape, dtype=_d.float32, name=None):
    return _filled(shape, 1, dtype, name, "Ones")


def fill(dims, value, name=None):
    return _filled(dims, value, _d.default_dtype(value), name, "Fill")


def _zeros_like(x):
    return gn.zeros_like(x)


def _ones_like(x):
    return gn.ones_like(x)


def zeros_like(tensor, dtype=None, name=None):
    out = _op(_zeros_like, [tensor], "ZerosLike", name)
    return out if dtype is None else cast(out, dtype)


def ones_like(tensor, dtype=None, name=None):
    out = _op(_ones_like, [tensor], "OnesLike", name)
    return out if dtype is None else cast(out, dtype)


def _normal(*, shape, mean, stddev, dtype):
    return gn.randn(*shape, dtype=dtype) * stddev + mean


def _truncated(*, shape, mean, stddev, dtype):
    # TF redraws values more than two standard deviations from the mean
    t = gn.empty(*shape, dtype=dtype)
    gn.nn.init.trunc_normal_(t, mean, stddev, mean - 2 * stddev, mean + 2 * stddev)
    return t


def _uniform(*, shape, minval, maxval, dtype):
    return gn.rand(*shape, dtype=dtype) * (maxval - minval) + minval


def _random(fn, type, shape, dtype, name, **params):
    shape, dtype = _shape(shape), _np(dtype)
    return gg.op(fn, [], dict(params, shape=shape, dtype=dtype), name=name, type=type,
                 output_shapes=shape, output_dtypes=[dtype])


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_d.float32, seed=None, name=None):
    return _random(_normal, "RandomStandardNormal", shape, dtype, name, mean=float(mean),
                   stddev=float(stddev))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_d.float32, seed=None, name=None):
    return _random(_truncated, "TruncatedNormal", shape, dtype, name, mean=float(mean),
                   stddev=float(stddev))


def random_uniform(shape, minval=0, maxval=None, dtype=_d.float32, seed=None, name=None):
    if _np(dtype).kind != "f":
        raise NotImplementedError("random_uniform: only floating dtypes are supported")
    return _random(_uniform, "RandomUniform", shape, dtype, name, minval=float(minval),
                   maxval=1.0 if maxval is None else float(maxval))


def set_random_seed(seed):
    """Seeds glassnet's generator (the graph-level seed of TF1, approximately)."""
    gn.manual_seed(seed)


# ------------------------------------------------------------------ math
def _matmul(a, b, *, transpose_a, transpose_b):
    if transpose_a:
        a = gn.transpose(a, -1, -2)
    if transpose_b:
        b = gn.transpose(b, -1, -2)
    return gn.matmul(a, b)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    a, b = _pair(a, b)
    return _op(_matmul, [a, b], "MatMul", name, transpose_a=bool(transpose_a),
               transpose_b=bool(transpose_b))


def _binary(fn, type):
    def build(x, y, name=None):
        x, y = _pair(x, y)
        return _op(fn, [x, y], type, name)
    build.__name__ = type.lower()
    return build


add = _binary(gn.add, "Add")
subtract = _binary(gn.sub, "Sub")
multiply = _binary(gn.mul, "Mul")
divide = _binary(gn.div, "RealDiv")
div = truediv = divide
maximum = _binary(gn.maximum, "Maximum")
minimum = _binary(gn.minimum, "Minimum")
equal = _binary(gn.eq, "Equal")
not_equal = _binary(gn.ne, "NotEqual")
less = _binary(gn.lt, "Less")
greater = _binary(gn.gt, "Greater")
pow = _binary(gn.pow, "Pow")     # noqa: A001  (TensorFlow's name)


def _unary(fn, type):
    def build(x, name=None):
        return _op(fn, [x], type, name)
    build.__name__ = type.lower()
    return build


def _square(x):
    return gn.mul(x, x)


log = _unary(gn.log, "Log")
exp = _unary(gn.exp, "Exp")
sqrt = _unary(gn.sqrt, "Sqrt")
square = _unary(_square, "Square")
abs = _unary(gn.abs, "Abs")       # noqa: A001
negative = _unary(gn.neg, "Neg")
sigmoid = _unary(gn.sigmoid, "Sigmoid")
tanh = _unary(gn.tanh, "Tanh")


def _reshape(x, *, shape):
    return x.reshape(shape)


def reshape(tensor, shape, name=None):
    return _op(_reshape, [tensor], "Reshape", name, shape=_shape(shape))


def _transpose(x, *, perm):
    return x.permute(*(perm if perm is not None else range(x.ndim - 1, -1, -1)))


def transpose(a, perm=None, name="transpose"):
    return _op(_transpose, [a], "Transpose", name,
               perm=None if perm is None else tuple(int(p) for p in perm))


def _cast(x, *, dtype):
    return x.astype(dtype)


def cast(x, dtype, name=None):
    x = as_tensor(x)
    dtype = _np(dtype)
    if x.dtype == dtype:
        return gg.identity(x, name=name)
    return _op(_cast, [x], "Cast", name, dtype=dtype)


to_float = lambda x, name="ToFloat": cast(x, _d.float32, name)  # noqa: E731


def _argmax(x, *, axis, dtype):
    out = gn.argmax(x, dim=axis)
    return out if out.dtype == dtype else out.astype(dtype)


def argmax(input, axis=None, name=None, dimension=None, output_type=_d.int64):
    if axis is None:
        axis = 0 if dimension is None else dimension
    return _op(_argmax, [input], "ArgMax", name, axis=int(axis), dtype=_np(output_type))


def _argmin(x, *, axis, dtype):
    return gn.argmin(x, dim=axis).astype(dtype)


def argmin(input, axis=None, name=None, dimension=None, output_type=_d.int64):
    if axis is None:
        axis = 0 if dimension is None else dimension
    return _op(_argmin, [input], "ArgMin", name, axis=int(axis), dtype=_np(output_type))


_REDUCERS = {"Mean": gn.mean, "Sum": gn.sum, "Max": gn.amax, "Min": gn.amin}


def _reduce(x, *, how, axis, keepdims):
    dims = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in axis)
    if not dims:
        return x
    return _REDUCERS[how](x, dim=dims, keepdim=keepdims)


def _reducer(how):
    def build(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
              keep_dims=None):
        if axis is None:
            axis = reduction_indices
        if axis is not None:
            axis = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
        keep = bool(keepdims if keepdims is not None else keep_dims)
        return _op(_reduce, [input_tensor], how, name, how=how, axis=axis, keepdims=keep)
    build.__name__ = "reduce_" + how.lower()
    return build


reduce_mean = _reducer("Mean")
reduce_sum = _reducer("Sum")
reduce_max = _reducer("Max")
reduce_min = _reducer("Min")


def _one_hot(indices, *, depth, on, off, dtype):
    hot = gn.eq(indices.astype(np.int64).reshape(indices.shape + (1,)),
                gn.arange(depth)).astype(dtype)
    if on == 1 and off == 0:
        return hot
    return hot * (on - off) + off


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    if axis not in (None, -1):
        raise NotImplementedError("one_hot: only axis=-1 is supported")
    dtype = _np(dtype) if dtype is not None else (
        np.dtype(type(on_value)) if isinstance(on_value, float) else np.dtype(np.float32))
    return _op(_one_hot, [indices], "OneHot", name, depth=int(depth),
               on=1 if on_value is None else on_value,
               off=0 if off_value is None else off_value, dtype=dtype)


def identity(x, name=None):
    return gg.identity(as_tensor(x), name=name)


def stop_gradient(x, name=None):
    return gg.stop_gradient(as_tensor(x), name=name)


def gradients(ys, xs, grad_ys=None, name="gradients", stop_gradients=None):
    """Always a list, as TensorFlow's (None for an x that does not reach ys)."""
    xs_list = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    return gg.gradients(ys, xs_list, grad_ys=grad_ys, name=name, stop_gradients=stop_gradients)


def assign(ref, value, name=None):
    return ref.assign(value, name=name)


def assign_add(ref, value, name=None):
    return ref.assign_add(value, name=name)


def assign_sub(ref, value, name=None):
    return ref.assign_sub(value, name=name)


# ------------------------------------------------------------------ variables
def global_variables(scope=None):
    vs = gg.get_default_graph().variables
    return [v for v in vs if scope is None or v.node.name.startswith(scope)]


all_variables = global_variables


def trainable_variables(scope=None):
    return [v for v in global_variables(scope) if v.trainable]


def global_variables_initializer():
    return gg.variables_initializer(None, name="init", graph=gg.get_default_graph())


initialize_all_variables = global_variables_initializer


def variables_initializer(var_list, name="init"):
    if not var_list:
        return gg.no_op(name=name)
    return gg.variables_initializer(list(var_list), name=name)
