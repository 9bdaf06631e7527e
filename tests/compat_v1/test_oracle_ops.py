"""glassnet.compat.v1 against TensorFlow's tf.compat.v1, op by op: forward values, and
tf.gradients of a weighted sum of each differentiable op's output w.r.t. its inputs."""
import numpy as np
import pytest

from tf_oracle import assert_same, run_both

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
B = rng.standard_normal((4, 5)).astype(np.float32)
C = rng.standard_normal((3, 4)).astype(np.float32)
POS = (np.abs(A) + 0.5).astype(np.float32)
LABELS = np.eye(4, dtype=np.float32)[[1, 0, 3]]
IDX = np.array([1, 0, 3], np.int32)


def _with_grads(tf, y, xs):
    """y and d(sum(y * fixed weights))/dxs."""
    shape = y.get_shape().as_list()
    weights = np.linspace(-1, 1, int(np.prod(shape)) or 1).reshape(shape).astype(np.float32)
    return [y, tf.gradients(tf.reduce_sum(y * weights), xs)]


UNARY = {
    "relu": lambda tf, x: tf.nn.relu(x),
    "sigmoid": lambda tf, x: tf.nn.sigmoid(x),
    "tanh": lambda tf, x: tf.nn.tanh(x),
    "softmax": lambda tf, x: tf.nn.softmax(x),
    "exp": lambda tf, x: tf.exp(x),
    "square": lambda tf, x: tf.square(x),
    "reduce_mean_axis1_keepdims": lambda tf, x: tf.reduce_mean(x, axis=1, keepdims=True),
    "reduce_sum_all": lambda tf, x: tf.reduce_sum(x),
    "reduce_sum_keep_dims": lambda tf, x: tf.reduce_sum(x, 0, keep_dims=True),
    "reduce_max_axis0": lambda tf, x: tf.reduce_max(x, axis=0),
    "reshape": lambda tf, x: tf.reshape(x, [-1, 2]),
    "transpose": lambda tf, x: tf.transpose(x),
    "cast64": lambda tf, x: tf.cast(x, tf.float64),
    "dropout_keep1": lambda tf, x: tf.nn.dropout(x, 1.0),
    "xent_v2_logits": lambda tf, x: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=LABELS, logits=x),
    "xent_v1_logits": lambda tf, x: tf.nn.softmax_cross_entropy_with_logits(
        labels=LABELS, logits=x),
    "sparse_xent": lambda tf, x: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=IDX, logits=x),
    "losses_sparse": lambda tf, x: tf.losses.sparse_softmax_cross_entropy(labels=IDX, logits=x),
    "losses_mse": lambda tf, x: tf.losses.mean_squared_error(C, x),
    "bias_add": lambda tf, x: tf.nn.bias_add(x, tf.constant([1.0, 2.0, 3.0, 4.0])),
    "scalar_ops": lambda tf, x: (x * 2.0 - 1.0) / 3.0 + 0.5,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients(name):
    def build(tf):
        x = tf.placeholder(tf.float32, [3, 4])
        return _with_grads(tf, UNARY[name](tf, x), [x]), {x: A}
    ours, theirs = run_both(build)
    assert_same(ours, theirs)


def test_positive_domain_ops():
    def build(tf):
        x = tf.placeholder(tf.float32, [3, 4])
        return [_with_grads(tf, tf.log(x), [x]), _with_grads(tf, tf.sqrt(x), [x])], {x: POS}
    assert_same(*run_both(build))


BINARY = {
    "matmul": lambda tf, a, b: tf.matmul(a, tf.transpose(b)),
    "matmul_transpose_b": lambda tf, a, b: tf.matmul(a, b, transpose_b=True),
    "add": lambda tf, a, b: tf.add(a, b),
    "subtract": lambda tf, a, b: tf.subtract(a, b),
    "multiply": lambda tf, a, b: tf.multiply(a, b),
    "divide": lambda tf, a, b: tf.divide(a, b + 3.0),
    "maximum": lambda tf, a, b: tf.maximum(a, b),
    "xent_v2_labels": lambda tf, a, b: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.nn.softmax(b), logits=a),
    "xent_v1_no_label_grad": lambda tf, a, b: tf.nn.softmax_cross_entropy_with_logits(
        labels=tf.nn.softmax(b), logits=a),
    "notes_cross_entropy": lambda tf, a, b: tf.reduce_sum(
        tf.multiply(tf.nn.softmax(b), tf.log(tf.nn.softmax(a)))),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_gradients(name):
    def build(tf):
        a = tf.placeholder(tf.float32, [3, 4])
        b = tf.placeholder(tf.float32, [3, 4])
        y = BINARY[name](tf, a, b)
        grads = tf.gradients(tf.reduce_sum(y * 0.7), [a, b])
        return [y, [g if g is not None else tf.constant(-1.0) for g in grads]], {a: A, b: C}
    ours, theirs = run_both(build)
    assert_same(ours, theirs)


def test_non_differentiable_ops_and_dtypes():
    def build(tf):
        x = tf.placeholder(tf.float32, [None, 4])
        i = tf.placeholder(tf.int32, [None])
        return {
            "argmax": tf.argmax(x, 1), "argmax_dim": tf.argmax(x, dimension=0),
            "equal": tf.equal(tf.argmax(x, 1), tf.argmax(tf.one_hot(i, 4), 1)),
            "acc": tf.reduce_mean(tf.cast(tf.equal(tf.argmax(x, 1), tf.cast(i, tf.int64)),
                                          tf.float32)),
            "one_hot": tf.one_hot(i, 4, dtype=tf.float32),
            "one_hot_default": tf.one_hot(i, 5),
            "int_const": tf.constant(1000), "int_vec": tf.constant([1, 2, 3]),
            "float_vec": tf.constant([1.0, 2.0]), "string": tf.constant("Hello"),
            "zeros": tf.zeros(3), "ones": tf.ones([2, 2], tf.int32), "fill": tf.fill([2], 7),
            "shape": tf.constant(x.get_shape().as_list()[1]),
        }, {x: A, i: IDX}
    ours, theirs = run_both(build)
    assert_same(ours, theirs)


def test_fetch_structures_and_variables():
    def build(tf):
        v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
        w = tf.Variable(5)
        z = tf.Variable(tf.zeros(2))
        return ((v, [w, {"z": z}]), tf.matmul(v, v)), {}
    ours, theirs = run_both(build)
    assert_same(ours, theirs)


def test_gradient_of_unconnected_is_none_and_list():
    def build(tf):
        a = tf.placeholder(tf.float32, [2])
        b = tf.placeholder(tf.float32, [2])
        g = tf.gradients(tf.reduce_sum(a * a), [a, b])
        assert g[1] is None and isinstance(g, list)
        single = tf.gradients(tf.reduce_sum(a), a)
        assert isinstance(single, list) and len(single) == 1
        return g[0], {a: np.array([1.0, 2.0], np.float32)}
    assert_same(*run_both(build))
