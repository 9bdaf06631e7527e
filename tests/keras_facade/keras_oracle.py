"""The harness that checks a glassnet.keras layer against the same layer in real Keras
(TensorFlow backend): the same weights, then the forward values and the gradients of
sum(output * R) with respect to the input and every trainable weight."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def real_keras():
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    return keras, tf


def compare_layer(ours, theirs, x, training=False, rtol=1e-4, atol=1e-5, grads=True, seed=0):
    """Build both on x, copy theirs' weights into ours, compare outputs and gradients."""
    keras, tf = real_keras()
    from glassnet.tensor import Tensor
    inputs = x if isinstance(x, list) else [x]
    tf_inputs = [tf.constant(a) for a in inputs]
    theirs(tf_inputs if isinstance(x, list) else tf_inputs[0], training=training)
    our_in = [Tensor(a.copy(), requires_grad=grads and a.dtype.kind == "f") for a in inputs]
    ours(our_in if isinstance(x, list) else our_in[0], training=training)      # builds
    theirs_w = theirs.get_weights()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs_w]
    ours.set_weights(theirs_w)
    with tf.GradientTape() as tape:
        for t in tf_inputs:
            if t.dtype.is_floating:
                tape.watch(t)
        y_k = theirs(tf_inputs if isinstance(x, list) else tf_inputs[0], training=training)
        r = np.random.default_rng(seed).standard_normal(tuple(y_k.shape)).astype(np.float32)
        loss = tf.reduce_sum(y_k * r)
    y = ours(our_in if isinstance(x, list) else our_in[0], training=training)
    np.testing.assert_allclose(y.detach().numpy(), y_k.numpy(), rtol=rtol, atol=atol,
                               err_msg="forward")
    if not grads:
        return y, y_k
    targets = [t for t in tf_inputs if t.dtype.is_floating]
    k_grads = [tf.convert_to_tensor(g) for g in
               tape.gradient(loss, targets + list(theirs.trainable_weights))]
    (y * Tensor(r)).sum().backward()
    ours_in = [t for t in our_in if t.requires_grad]
    for i, (a, g) in enumerate(zip(ours_in, k_grads)):
        np.testing.assert_allclose(a.grad.numpy(), np.asarray(g), rtol=rtol, atol=atol * 10,
                                   err_msg=f"gradient of input {i}")
    for v, g in zip(ours.trainable_weights, k_grads[len(targets):]):
        mine = v._to(v._tensor.grad._array)
        np.testing.assert_allclose(mine, np.asarray(g), rtol=rtol, atol=atol * 10,
                                   err_msg=f"gradient of {v.path}")
    return y, y_k
