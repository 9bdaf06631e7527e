"""Every glassnet.keras layer against real Keras (TensorFlow backend) with the same weights:
outputs and the gradients of the input and every trainable weight."""
import numpy as np
import pytest

from .keras_oracle import compare_layer, real_keras

import glassnet.keras.layers as G

keras, tf = real_keras()
K = keras.layers
rng = np.random.default_rng(0)


def images(n=2, h=7, w=9, c=3):
    return rng.standard_normal((n, h, w, c)).astype(np.float32)


def sequences(n=3, t=5, c=4):
    return rng.standard_normal((n, t, c)).astype(np.float32)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu",
                                        "selu", "gelu", "softplus", "softsign", "swish",
                                        "leaky_relu", "relu6", "hard_sigmoid"])
def test_dense(activation):
    compare_layer(G.Dense(6, activation=activation), K.Dense(6, activation=activation),
                  rng.standard_normal((4, 5)).astype(np.float32))


def test_dense_on_sequences_acts_on_the_last_axis():
    compare_layer(G.Dense(3, use_bias=False), K.Dense(3, use_bias=False), sequences())


@pytest.mark.parametrize("kernel,strides,padding,dilation", [
    (3, 1, "valid", 1), (3, 1, "same", 1), (2, 1, "same", 1), (2, 2, "same", 1),
    (3, 2, "same", 1), ((3, 2), (2, 1), "valid", 1), (4, 3, "same", 1), (3, 1, "same", 2),
    (1, 1, "valid", 1)])
def test_conv2d(kernel, strides, padding, dilation):
    compare_layer(G.Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                           activation="relu"),
                  K.Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                           activation="relu"), images())


def test_conv2d_groups():
    compare_layer(G.Conv2D(4, 3, groups=2), K.Conv2D(4, 3, groups=2), images(c=4))


@pytest.mark.parametrize("kernel,strides,padding", [(3, 1, "valid"), (3, 1, "same"),
                                                    (2, 2, "same"), (3, 1, "causal"),
                                                    (4, 3, "valid")])
def test_conv1d(kernel, strides, padding):
    compare_layer(G.Conv1D(5, kernel, strides=strides, padding=padding),
                  K.Conv1D(5, kernel, strides=strides, padding=padding), sequences(t=9))


@pytest.mark.parametrize("ours,theirs", [(G.MaxPooling2D, K.MaxPooling2D),
                                         (G.AveragePooling2D, K.AveragePooling2D)])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (2, None, "same"),
                                                  (3, 2, "same"), (3, 1, "same"),
                                                  ((2, 3), (1, 2), "valid")])
def test_pooling2d(ours, theirs, pool, strides, padding):
    compare_layer(ours(pool, strides=strides, padding=padding),
                  theirs(pool, strides=strides, padding=padding), images())


@pytest.mark.parametrize("ours,theirs", [(G.MaxPooling1D, K.MaxPooling1D),
                                         (G.AveragePooling1D, K.AveragePooling1D)])
def test_pooling1d(ours, theirs):
    compare_layer(ours(2, padding="same"), theirs(2, padding="same"), sequences(t=7))


@pytest.mark.parametrize("ours,theirs,x", [
    (G.GlobalAveragePooling2D, K.GlobalAveragePooling2D, images()),
    (G.GlobalMaxPooling2D, K.GlobalMaxPooling2D, images()),
    (G.GlobalAveragePooling1D, K.GlobalAveragePooling1D, sequences()),
    (G.GlobalMaxPooling1D, K.GlobalMaxPooling1D, sequences())])
def test_global_pooling(ours, theirs, x):
    compare_layer(ours(), theirs(), x)


def test_flatten_after_a_convolution_keeps_keras_order():
    """The convolution runs channels-first inside; Flatten must still see (H, W, C) order."""
    from glassnet.keras.models import Sequential
    ours = Sequential([G.Conv2D(3, 2, input_shape=(5, 6, 2)), G.Flatten(), G.Dense(4)])
    theirs = keras.Sequential([K.Input((5, 6, 2)), K.Conv2D(3, 2), K.Flatten(), K.Dense(4)])
    compare_layer(ours, theirs, images(3, 5, 6, 2))


def test_reshape_and_activation_layers():
    from glassnet.keras.models import Sequential
    ours = Sequential([G.Reshape((4, 5), input_shape=(20,)), G.Activation("softmax"),
                       G.Reshape((-1,))])
    theirs = keras.Sequential([K.Input((20,)), K.Reshape((4, 5)), K.Activation("softmax"),
                               K.Reshape((-1,))])
    compare_layer(ours, theirs, rng.standard_normal((3, 20)).astype(np.float32))


@pytest.mark.parametrize("training", [False, True])
def test_batch_normalization(training):
    ours, theirs = G.BatchNormalization(), K.BatchNormalization()
    compare_layer(ours, theirs, images() * 3 + 1, training=training, atol=1e-4)
    # the moving statistics moved the same way (Keras keeps the biased variance)
    for v, w in zip(ours.non_trainable_weights, theirs.non_trainable_weights):
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_normalization_on_features():
    compare_layer(G.BatchNormalization(momentum=0.9, epsilon=1e-5),
                  K.BatchNormalization(momentum=0.9, epsilon=1e-5),
                  rng.standard_normal((6, 4)).astype(np.float32), training=True, atol=1e-4)


def test_embedding():
    ids = rng.integers(0, 10, (3, 5))
    compare_layer(G.Embedding(10, 4), K.Embedding(10, 4), ids)


@pytest.mark.parametrize("ours,theirs", [(G.SimpleRNN, K.SimpleRNN), (G.LSTM, K.LSTM),
                                         (G.GRU, K.GRU)])
@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, False),
                                                           (True, True), (False, True)])
def test_recurrent(ours, theirs, return_sequences, go_backwards):
    compare_layer(ours(6, return_sequences=return_sequences, go_backwards=go_backwards),
                  theirs(6, return_sequences=return_sequences, go_backwards=go_backwards),
                  sequences(), atol=1e-5)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional(merge_mode, return_sequences):
    compare_layer(G.Bidirectional(G.LSTM(3, return_sequences=return_sequences),
                                  merge_mode=merge_mode),
                  K.Bidirectional(K.LSTM(3, return_sequences=return_sequences),
                                  merge_mode=merge_mode), sequences())


@pytest.mark.parametrize("ours,theirs", [(G.Add, K.Add), (G.Subtract, K.Subtract),
                                         (G.Multiply, K.Multiply), (G.Average, K.Average)])
def test_merging(ours, theirs):
    a, b = images(), images()
    compare_layer(ours(), theirs(), [a, b])


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate(axis):
    compare_layer(G.Concatenate(axis=axis), K.Concatenate(axis=axis), [images(), images()])


def test_dropout_is_identity_at_inference_and_scales_in_training():
    from glassnet.tensor import Tensor
    x = np.ones((200, 50), np.float32)
    layer = G.Dropout(0.25)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(Tensor(x), training=True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert 0.2 < 1 - kept.mean() < 0.3


def test_functional_model_with_branches_and_the_channels_first_inside():
    """A residual block: two paths, convolutions channels-first inside, added, concatenated
    with the input along the channels, pooled, classified."""
    from glassnet.keras.models import Model
    from glassnet.keras.layers import Input

    def build(L, inp):
        x = inp(shape=(8, 8, 3))
        a = L.Conv2D(3, 3, padding="same", activation="relu")(x)
        b = L.Conv2D(3, 1)(x)
        s = L.Add()([a, b])
        c = L.Concatenate()([s, x])
        p = L.MaxPooling2D(2)(c)
        return x, L.Dense(5, activation="softmax")(L.Flatten()(p))
    x, y = build(G, Input)
    kx, ky = build(K, keras.Input)
    compare_layer(Model(x, y), keras.Model(kx, ky), images(2, 8, 8, 3))
