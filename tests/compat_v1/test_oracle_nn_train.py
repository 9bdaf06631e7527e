"""conv2d / pools (NHWC, SAME and VALID, strides 1 and 2, odd sizes), the three
optimizers step by step, and feed / initialisation errors, against tf.compat.v1."""
import numpy as np
import pytest

from tf_oracle import assert_same, real_tf, run_both, ours

rng = np.random.default_rng(1)


@pytest.mark.parametrize("size,k,stride,padding", [
    ((7, 7), 3, 1, "SAME"), ((7, 6), 3, 2, "SAME"), ((8, 8), 4, 2, "SAME"),
    ((7, 5), 2, 2, "SAME"), ((7, 7), 3, 2, "VALID"), ((6, 5), 3, 1, "VALID")])
def test_conv2d_bias_relu_values_and_gradients(size, k, stride, padding):
    x0 = rng.standard_normal((2, *size, 3)).astype(np.float32)
    w0 = rng.standard_normal((k, k, 3, 4)).astype(np.float32)
    b0 = rng.standard_normal(4).astype(np.float32)

    def build(tf):
        x = tf.placeholder(tf.float32, [None, *size, 3])
        w = tf.Variable(w0)
        b = tf.Variable(b0)
        conv = tf.nn.conv2d(x, w, strides=[1, stride, stride, 1], padding=padding)
        y = tf.nn.relu(tf.nn.bias_add(conv, b))
        weights = np.linspace(-1, 1, int(np.prod(y.get_shape().as_list()[1:]))).reshape(
            y.get_shape().as_list()[1:]).astype(np.float32)
        return [conv, y, tf.gradients(tf.reduce_sum(y * weights), [x, w, b])], {x: x0}
    ours_, theirs = run_both(build)
    assert_same(ours_, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pool", ["max_pool", "avg_pool"])
@pytest.mark.parametrize("size,k,stride,padding", [
    ((7, 7), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), ((5, 6), [3, 3], [2, 2], "SAME"),
    ((7, 5), [3, 2], [1, 2], "SAME"), ((6, 6), [2, 2], [2, 2], "VALID"),
    ((7, 7), [3, 3], [2, 2], "VALID")])
def test_pools_values_and_gradients(pool, size, k, stride, padding):
    x0 = rng.standard_normal((2, *size, 3)).astype(np.float32)

    def build(tf):
        x = tf.placeholder(tf.float32, [None, *size, 3])
        y = getattr(tf.nn, pool)(x, ksize=k, strides=stride, padding=padding)
        weights = np.linspace(-1, 1, int(np.prod(y.get_shape().as_list()[1:]))).reshape(
            y.get_shape().as_list()[1:]).astype(np.float32)
        return [y, tf.gradients(tf.reduce_sum(y * weights), [x])], {x: x0}
    ours_, theirs = run_both(build)
    assert_same(ours_, theirs, rtol=1e-5, atol=1e-6)


def test_notes_cnn_block_shapes():
    tf = ours()
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, shape=[None, 10, 10, 3])
        w = tf.Variable(tf.truncated_normal([5, 5, 3, 64]))
        conv = tf.nn.conv2d(image, w, strides=[1, 2, 2, 1], padding="SAME")
        pooled = tf.nn.max_pool(conv, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        assert conv.get_shape().as_list() == [None, 5, 5, 64]
        assert pooled.get_shape().as_list() == [None, 3, 3, 64]


# ------------------------------------------------------------------ optimizers
OPTIMIZERS = {
    "sgd": lambda tf: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.05, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.01),
    "adam_big_eps": lambda tf: tf.train.AdamOptimizer(0.05, beta1=0.8, beta2=0.9,
                                                      epsilon=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_step_for_step(name):
    x0 = rng.standard_normal((8, 4)).astype(np.float32)
    y0 = rng.integers(0, 3, 8)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    b0 = rng.standard_normal(3).astype(np.float32)

    def build(tf):
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.int32, [None])
        w = tf.Variable(w0)
        b = tf.Variable(b0)
        loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=tf.matmul(x, w) + b)
        # the loss and weights before this step (copies, made before the update runs:
        # TensorFlow reads a fetched variable whenever it likes), then the step
        before = [loss, w * 1.0, b * 1.0]
        with tf.control_dependencies(before):
            train = OPTIMIZERS[name](tf).minimize(loss)
        return [before, train], {x: x0, y: y0}
    ours_, theirs = run_both(build, steps=6)
    assert_same(ours_, theirs, rtol=2e-5, atol=2e-6)


def test_learning_rate_placeholder_and_compute_apply():
    x0 = rng.standard_normal((5, 2)).astype(np.float32)

    def build(tf):
        lr = tf.placeholder(tf.float32, [])
        w = tf.Variable(np.ones((2, 1), np.float32))
        loss = tf.reduce_mean(tf.square(tf.matmul(x0, w) - 1.0))
        opt = tf.train.GradientDescentOptimizer(lr)
        gv = opt.compute_gradients(loss)
        before = w * 1.0
        with tf.control_dependencies([before]):
            step = opt.apply_gradients(gv)
        return [before, step], {lr: 0.3}
    assert_same(*run_both(build, steps=3))


# ------------------------------------------------------------------ errors
def _error(tf, fn):
    with tf.Graph().as_default():
        try:
            fn(tf)
        except Exception as e:  # noqa: BLE001
            return e
    raise AssertionError("no error")


def _feed_string_into_float(tf):
    y = tf.placeholder(tf.float32, name="y")
    with tf.Session() as sess:
        sess.run(y, feed_dict={y: "abc"})


def _feed_wrong_shape(tf):
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    with tf.Session() as sess:
        sess.run(x, feed_dict={x: np.zeros((2, 3))})


def _uninitialised(tf):
    v = tf.Variable(tf.zeros([2]), name="weights")
    with tf.Session() as sess:
        sess.run(v * 2.0)


def _unfed(tf):
    x = tf.placeholder(tf.float32, [2], name="needed")
    with tf.Session() as sess:
        sess.run(x * 2.0)


@pytest.mark.parametrize("fn,kind,words", [
    (_feed_string_into_float, ValueError, ["could not convert string to float"]),
    (_feed_wrong_shape, ValueError, ["Cannot feed value of shape (2, 3)", "x:0", "4)"]),
    (_uninitialised, "FailedPreconditionError", ["weights"]),
    (_unfed, "InvalidArgumentError", ["needed"])])
def test_errors_like_tensorflow(fn, kind, words):
    theirs, mine = _error(real_tf(), fn), _error(ours(), fn)
    tf = ours()
    if isinstance(kind, str):
        assert type(theirs).__name__ == kind
        assert isinstance(mine, getattr(tf.errors, kind))
    else:
        assert isinstance(theirs, kind) and isinstance(mine, kind)
    for w in words:
        assert w in str(theirs), (w, str(theirs))
        assert w in str(mine), (w, str(mine))


def test_fetched_types_like_tensorflow():
    # a fed tensor comes back as the 0-d array fed, a computed 0-d value as a scalar
    ours_, theirs = run_both(lambda tf: _fed_and_computed(tf))
    assert [type(v) for v in ours_] == [type(v) for v in theirs]
    assert_same(ours_, theirs)


def _fed_and_computed(tf):
    y = tf.placeholder(tf.int32)
    return [y, y * 2, tf.constant("Hello"), tf.constant(1.5), tf.no_op()], {y: 1.5}


def test_strings_fed_and_fetched():
    def build(tf):
        x = tf.placeholder(tf.string)
        y = tf.placeholder(tf.int32)
        z = tf.placeholder(tf.float32)
        return [x, y, z, y * 2, tf.constant(["a", "bc"]), tf.constant("Hello")], \
            {x: "Test string", y: 12, z: 1.2}
    assert_same(*run_both(build))
