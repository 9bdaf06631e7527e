"""The harness that runs one TF1 program in both worlds: real TensorFlow's
`tf.compat.v1` (graph mode, v2 behaviour off) and `glassnet.compat.v1`.

A program is a function `build(tf)` written once against the module it is given, returning
`(fetches, feeds)`: fetches any structure Session.run takes, feeds a dict from the
placeholders it made to arrays. Variables must start from values given as arrays (not from
random initialisers), so that both worlds hold the same numbers. `run_both` builds it in a
fresh graph of each, runs `steps` times (for training ops) and returns both results."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def real_tf():
    tf2 = pytest.importorskip("tensorflow")
    # no disable_v2_behavior(): it is process-wide and would leave the Keras tests that run
    # later without eager execution; every program here is built inside its own
    # tf.Graph().as_default(), where tf.compat.v1 works in graph mode anyway
    return tf2.compat.v1


def ours():
    import glassnet.compat.v1 as tf
    return tf


def _run(tf, build, steps):
    graph = tf.Graph()
    with graph.as_default():
        fetches, feeds = build(tf)
        init = tf.global_variables_initializer()
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            results = [sess.run(fetches, feed_dict=feeds) for _ in range(steps)]
    return results[-1] if steps == 1 else results


def run_both(build, steps=1):
    """(glassnet's results, TensorFlow's results) of the same program."""
    theirs = _run(real_tf(), build, steps)
    return _run(ours(), build, steps), theirs


def assert_same(a, b, rtol=1e-5, atol=1e-6, path="fetch"):
    """Nested structures of arrays / scalars / bytes / None equal to float32 tolerance."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), f"{path}: {a!r} vs {b!r}"
        for key in b:
            assert_same(a[key], b[key], rtol, atol, f"{path}[{key!r}]")
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, rtol, atol, f"{path}[{i}]")
    elif b is None or isinstance(b, bytes):
        assert a == b, f"{path}: {a!r} vs {b!r}"
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{path}: shape {a.shape} vs TensorFlow's {b.shape}"
        assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} vs TensorFlow's {b.dtype}"
        if b.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=path)
        else:
            np.testing.assert_array_equal(a, b, err_msg=path)
