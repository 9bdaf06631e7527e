"""Training through glassnet.keras against real Keras: the same model and weights, the same
batches, and the losses step for step."""
import numpy as np
import pytest

from .keras_oracle import real_keras

import glassnet.keras as G

keras, tf = real_keras()
rng = np.random.default_rng(1)


def cnn(L, input_layer):
    """The notes' three-block CIFAR CNN, at 16x16 so the test is quick (no Dropout: the
    two frameworks draw different masks)."""
    layers = [L.Conv2D(filters=8, kernel_size=2, padding="same", activation="relu"),
              L.MaxPooling2D(pool_size=2),
              L.Conv2D(filters=16, kernel_size=2, padding="same", activation="relu"),
              L.MaxPooling2D(pool_size=2),
              L.Conv2D(filters=16, kernel_size=2, padding="same", activation="relu"),
              L.MaxPooling2D(pool_size=2),
              L.Flatten(), L.Dense(20, activation="relu"), L.Dense(10, activation="softmax")]
    return [input_layer] + layers


def twins(make=cnn):
    ours = G.models.Sequential(make(G.layers, G.layers.Input(shape=(16, 16, 3))))
    theirs = keras.Sequential(make(keras.layers, keras.Input(shape=(16, 16, 3))))
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def data(n=48):
    x = rng.random((n, 16, 16, 3)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    return x, keras.utils.to_categorical(labels, 10), labels


@pytest.mark.parametrize("name,ours_opt,theirs_opt,rtol", [
    ("sgd", lambda: G.optimizers.SGD(0.05), lambda: keras.optimizers.SGD(0.05), 1e-4),
    ("nesterov", lambda: G.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
     lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True), 1e-4),
    ("adam", lambda: G.optimizers.Adam(0.01), lambda: keras.optimizers.Adam(0.01), 1e-4),
    ("rmsprop", lambda: G.optimizers.RMSprop(0.001), lambda: keras.optimizers.RMSprop(0.001),
     1e-3),
    ("adagrad", lambda: G.optimizers.Adagrad(0.05), lambda: keras.optimizers.Adagrad(0.05),
     1e-3)])
def test_train_on_batch_matches_keras_step_for_step(name, ours_opt, theirs_opt, rtol):
    ours, theirs = twins()
    ours.compile(optimizer=ours_opt(), loss="categorical_crossentropy", metrics=["accuracy"])
    theirs.compile(optimizer=theirs_opt(), loss="categorical_crossentropy",
                   metrics=["accuracy"])
    x, y, _ = data()
    for step in range(6):
        batch = slice(8 * step, 8 * step + 8)
        mine = ours.train_on_batch(x[batch], y[batch])
        real = theirs.train_on_batch(x[batch], y[batch])
        np.testing.assert_allclose(mine[0], real[0], rtol=rtol, err_msg=f"{name} step {step}")
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol * 10, atol=1e-5)


def test_fit_without_shuffling_gives_keras_history():
    ours, theirs = twins()
    for m, opt in ((ours, G.optimizers.SGD(0.1, momentum=0.5)),
                   (theirs, keras.optimizers.SGD(0.1, momentum=0.5))):
        m.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, _, labels = data()
    h1 = ours.fit(x, labels, batch_size=16, epochs=3, shuffle=False, verbose=0,
                  validation_split=0.25)
    h2 = theirs.fit(x, labels, batch_size=16, epochs=3, shuffle=False, verbose=0,
                    validation_split=0.25)
    assert sorted(h1.history) == sorted(h2.history) == ["accuracy", "loss", "val_accuracy",
                                                        "val_loss"]
    assert h1.epoch == h2.epoch == [0, 1, 2]
    for key in h1.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
    np.testing.assert_allclose(ours.evaluate(x, labels, verbose=0),
                               theirs.evaluate(x, labels, verbose=0), rtol=1e-4)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def test_class_weight_and_sample_weight_scale_the_loss_as_keras_does():
    ours, theirs = twins()
    for m in (ours, theirs):
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y, _ = data(16)
    weights = {k: 1.0 + k / 3 for k in range(10)}
    sw = rng.random(16).astype(np.float32)
    h1 = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, class_weight=weights)
    h2 = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    class_weight=weights)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)
    h1 = ours.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, sample_weight=sw)
    h2 = theirs.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, sample_weight=sw)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)


@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy"])
def test_regression_and_binary_losses(loss):
    def make(L, inp):
        return [inp, L.Dense(8, activation="tanh"), L.Dense(1, activation="sigmoid")]
    ours = G.models.Sequential(make(G.layers, G.layers.Input(shape=(5,))))
    theirs = keras.Sequential(make(keras.layers, keras.Input(shape=(5,))))
    ours.set_weights(theirs.get_weights())
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    for m, opt in ((ours, G.optimizers.SGD(0.1)), (theirs, keras.optimizers.SGD(0.1))):
        m.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
    h1 = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-4, err_msg=key)


def test_lstm_classifier_trains_like_keras():
    def make(L, inp):
        return [inp, L.Embedding(20, 6), L.LSTM(8, return_sequences=True), L.GRU(5),
                L.Dense(3, activation="softmax")]
    ours = G.models.Sequential(make(G.layers, G.layers.Input(shape=(7,))))
    theirs = keras.Sequential(make(keras.layers, keras.Input(shape=(7,))))
    ours.set_weights(theirs.get_weights())
    ids = rng.integers(0, 20, (24, 7))
    labels = rng.integers(0, 3, 24)
    # SGD: Keras's Adam on TensorFlow squares an Embedding's sparse gradient row by row
    # before summing repeated ids, a quirk of its IndexedSlices that is not imitated here
    for m, opt in ((ours, G.optimizers.SGD(0.5, momentum=0.9)),
                   (theirs, keras.optimizers.SGD(0.5, momentum=0.9))):
        m.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h1 = ours.fit(ids, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit(ids, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)
