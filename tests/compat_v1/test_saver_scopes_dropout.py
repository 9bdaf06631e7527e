"""Saver round trip and its errors, get_variable / variable_scope reuse, dropout's
statistics (glassnet only; no TensorFlow needed)."""
import os

import numpy as np
import pytest

import glassnet as gn
import glassnet.compat.v1 as tf


def _two_vars(shape=(2, 3)):
    weights = tf.Variable(tf.truncated_normal(list(shape)))
    bias = tf.Variable(tf.truncated_normal([3]))
    return weights, bias


def test_saver_round_trip(tmp_path):
    path = str(tmp_path / "models" / "test.ckpt")
    with tf.Graph().as_default():
        w, b = _two_vars()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saved = sess.run([w, b])
            assert saver.save(sess, path) == path
    assert os.path.exists(path) and os.listdir(tmp_path / "models") == ["test.ckpt"]
    with tf.Graph().as_default():
        w, b = _two_vars()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, path)         # no initializer needed
            restored = sess.run([w, b])
    for x, y in zip(saved, restored):
        np.testing.assert_array_equal(x, y)


def test_saver_var_list_dict_and_errors(tmp_path):
    path = str(tmp_path / "m.ckpt")
    with tf.Graph().as_default():
        w, b = _two_vars()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver({"my_w": w}).save(sess, path)
            value = sess.run(w)
    with tf.Graph().as_default():
        w, b = _two_vars()
        with tf.Session() as sess:
            tf.train.Saver({"my_w": w}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(w), value)
            with pytest.raises(tf.errors.NotFoundError, match="Variable_1"):
                tf.train.Saver().restore(sess, path)          # bias missing from the file
            sess.run(tf.global_variables_initializer())
            full = tf.train.Saver().save(sess, str(tmp_path / "full.ckpt"))
            with pytest.raises(ValueError, match=r"\['Variable_1'\] that this Saver does not"):
                tf.train.Saver([w]).restore(sess, full)          # an extra variable in the file
    with tf.Graph().as_default():
        w, b = _two_vars(shape=(3, 3))
        with tf.Session() as sess:
            with pytest.raises(ValueError, match=r"my_w.*\(3, 3\).*\(2, 3\)"):
                tf.train.Saver({"my_w": w}).restore(sess, path)
            with pytest.raises(tf.errors.NotFoundError):
                tf.train.Saver().restore(sess, str(tmp_path / "nothing.ckpt"))


def test_get_variable_and_scope_reuse():
    with tf.Graph().as_default():
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", [4, 10], initializer=tf.random_normal_initializer(0, 1))
            b = tf.get_variable("b", [10], initializer=tf.constant_initializer(0.5))
            with pytest.raises(ValueError, match="layer/w already exists"):
                tf.get_variable("w", [4, 10])
        assert w.op.name == "layer/w" and b.op.name == "layer/b"
        with tf.variable_scope("layer", reuse=True):
            assert tf.get_variable("w", [4, 10]) is w
            with pytest.raises(ValueError, match="layer/zz does not exist"):
                tf.get_variable("zz", [1])
            with pytest.raises(ValueError, match="shape"):
                tf.get_variable("w", [4, 11])
        with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
            assert tf.get_variable("b") is b
            z = tf.get_variable("z", [2], initializer=tf.zeros_initializer())
        g = tf.get_variable("g", [30, 20], initializer=tf.glorot_uniform_initializer())
        t = tf.get_variable("t", [1000], initializer=tf.truncated_normal_initializer(0, 2))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            bv, zv, gv, tv = sess.run([b, z, g, t])
        np.testing.assert_array_equal(bv, np.full(10, 0.5, np.float32))
        np.testing.assert_array_equal(zv, np.zeros(2, np.float32))
        assert np.abs(gv).max() <= np.sqrt(6 / 50) and gv.std() > 0.1
        assert np.abs(tv).max() <= 4.0 and 1.5 < tv.std() < 2.0
        assert [v.op.name for v in tf.trainable_variables()] == \
            ["layer/w", "layer/b", "layer/z", "g", "t"]


def test_dropout_statistics_and_identity():
    gn.manual_seed(0)
    with tf.Graph().as_default():
        x = tf.ones([200, 500])
        kp = tf.placeholder(tf.float32)
        y = tf.nn.dropout(x, kp)
        r = tf.nn.dropout(x, rate=0.25)
        with tf.Session() as sess:
            half, r_out = sess.run([y, r], feed_dict={kp: 0.5})
            same = sess.run(y, feed_dict={kp: 1.0})
            again = sess.run(y, feed_dict={kp: 0.5})
    assert set(np.unique(half)) == {0.0, 2.0}              # kept values scaled by 1/keep
    assert abs((half > 0).mean() - 0.5) < 0.01
    assert abs(half.mean() - 1.0) < 0.02
    assert set(np.unique(r_out)) == {0.0, np.float32(1 / 0.75)}
    assert abs((r_out > 0).mean() - 0.75) < 0.01
    np.testing.assert_array_equal(same, np.ones((200, 500), np.float32))
    assert (again != half).any()                             # a fresh mask every run


def test_uninitialised_and_interactive_session():
    with tf.Graph().as_default() as g:
        v = tf.Variable(3.0, name="counter")
        sess = tf.InteractiveSession(graph=g)
        assert tf.get_default_session() is sess
        with pytest.raises(tf.errors.FailedPreconditionError, match="counter"):
            sess.run(v)
        sess.run(v.initializer)
        assert sess.run(v.assign_add(2.0)) == 5.0
        sess.close()
        assert tf.get_default_session() is None
        with pytest.raises(RuntimeError, match="closed"):
            sess.run(v)
