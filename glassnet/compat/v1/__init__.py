"""TensorFlow 1's API over glassnet.graph: `import glassnet.compat.v1 as tf`.

The names the notes' TF1 programs use: constants, placeholders, Variables, Session,
math, `tf.nn`, `tf.train`, `tf.losses`, `get_variable`/`variable_scope`. Every op is a
glassnet.graph node calling glassnet's eager op; TensorFlow 2.21's `tf.compat.v1` (v2
behaviour off) is the reference the tests compare against, op by op. Layouts are
TensorFlow's (NHWC images, HWIO filters); see nn.py for how they meet glassnet's
channels-first kernels.
"""
from ...graph import (Graph, get_default_graph, reset_default_graph,  # noqa: F401
                      name_scope, control_dependencies, group, no_op)
from ...graph.core import SymbolicTensor as Tensor, TensorShape, Node as Operation  # noqa: F401
from .dtypes import (DType, as_dtype, float16, float32, float64, half, double,  # noqa: F401
                     int8, int16, int32, int64, uint8, bool, string)
from ._ops import (as_tensor, convert_to_tensor, constant, placeholder, Variable,  # noqa: F401
                   zeros, ones, fill, zeros_like, ones_like, random_normal,
                   truncated_normal, random_uniform, set_random_seed, matmul, add,
                   subtract, multiply, divide, div, truediv, maximum, minimum, equal,
                   not_equal, less, greater, pow, log, exp, sqrt, square, abs, negative,
                   sigmoid, tanh, reshape, transpose, cast, to_float, argmax, argmin,
                   reduce_mean, reduce_sum, reduce_max, reduce_min, one_hot, identity,
                   stop_gradient, gradients, assign, assign_add, assign_sub,
                   global_variables, all_variables, trainable_variables,
                   global_variables_initializer, initialize_all_variables,
                   variables_initializer)
from .initializers import (random_normal_initializer, truncated_normal_initializer,  # noqa: F401
                           random_uniform_initializer, constant_initializer,
                           zeros_initializer, ones_initializer, glorot_uniform_initializer)
from .variable_scope import (get_variable, variable_scope, get_variable_scope,  # noqa: F401
                             VariableScope, AUTO_REUSE)
from .session import Session, InteractiveSession, get_default_session  # noqa: F401
from . import dtypes, errors, initializers, losses, nn, train  # noqa: F401

sub, mul = subtract, multiply


def disable_v2_behavior():
    """Nothing to disable: this module is TF1 only."""


def disable_eager_execution():
    """Nothing to disable: this module only builds graphs."""


def executing_eagerly():
    return False
