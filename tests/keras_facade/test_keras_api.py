"""glassnet.keras on its own (no TensorFlow): the notes' numbers, the training API, the
callbacks, the progress display, and clear errors for bad input."""
import io
import math

import numpy as np
import pytest

import glassnet
from glassnet.keras import callbacks, layers, optimizers
from glassnet.keras.backend import clear_session
from glassnet.keras.layers import (Conv2D, Dense, Dropout, Flatten, Input, MaxPool2D,
                                   MaxPooling2D)
from glassnet.keras.models import Model, Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    clear_session()
    glassnet.manual_seed(0)


def notes_mlp():
    model = Sequential()
    model.add(Flatten(input_shape=(28, 28)))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    return model


def notes_cnn():
    model = Sequential()
    model.add(Conv2D(filters=16, kernel_size=2, padding="same", activation="relu",
                     input_shape=(32, 32, 3)))
    model.add(MaxPool2D(pool_size=2))
    model.add(Conv2D(filters=32, kernel_size=2, padding="same", activation="relu"))
    model.add(MaxPool2D(pool_size=2))
    model.add(Conv2D(filters=64, kernel_size=2, padding="same", activation="relu"))
    model.add(MaxPool2D(pool_size=2))
    model.add(Flatten())
    model.add(Dense(500, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    return model


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_the_notes_parameter_counts_and_shapes():
    assert notes_mlp().count_params() == 669_706
    conv = Sequential()
    conv.add(Conv2D(filters=16, kernel_size=2, strides=2, activation="relu",
                    input_shape=(200, 200, 1)))
    assert conv.count_params() == 80 and conv.output_shape == (None, 100, 100, 16)
    pool = Sequential()
    pool.add(MaxPooling2D(pool_size=2, strides=2, input_shape=(100, 100, 15)))
    assert pool.output_shape == (None, 50, 50, 15)
    cnn = notes_cnn()
    assert cnn.count_params() == 528_054
    assert [l.output_shape for l in cnn.layers][:6:2] == [(None, 32, 32, 16), (None, 16, 16, 32),
                                                          (None, 8, 8, 64)]
    assert cnn.layers[5].output_shape == (None, 4, 4, 64)


def test_summary_is_keras_table():
    text = summary_text(notes_mlp())
    assert text.splitlines()[0] == 'Model: "sequential"'
    assert "│ dense (Dense)                   │ (None, 512)            │       401,920 │" in text
    assert "│ dropout_1 (Dropout)             │ (None, 512)            │             0 │" in text
    assert text.splitlines()[-3:] == [" Total params: 669,706 (2.55 MB)",
                                      " Trainable params: 669,706 (2.55 MB)",
                                      " Non-trainable params: 0 (0.00 B)"]


def test_summary_of_a_branching_model_names_the_inputs_and_wraps_cells():
    x = Input(shape=(8,), name="inp")
    s = layers.Add()([Dense(4)(x), Dense(4)(x)])
    text = summary_text(Model(x, s))
    assert "Connected to" in text
    assert "│ add (Add)           │ (None, 4)         │          0 │ dense[0][0],      │" in text
    assert "│                     │                   │            │ dense_1[0][0]     │" in text
    bn = Sequential([Input(shape=(4,)), layers.BatchNormalization()])
    text = summary_text(bn)
    assert "│ batch_normalization             │ (None, 4)              │            16 │" in text
    assert " Non-trainable params: 8 (32.00 B)" in text


def test_unbuilt_model_says_so():
    model = Sequential([Dense(3)])
    assert "has not yet been built" in summary_text(model)
    with pytest.raises(ValueError, match="not built yet|needs a built model"):
        model.count_params()
    model.build((None, 5))
    assert model.count_params() == 18


def test_fit_evaluate_predict_on_arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = Sequential([Dense(16, activation="relu"), Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.2, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=20, epochs=15, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history.history["loss"]) == 15 and history.epoch[-1] == 14
    assert history.history["accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9 and loss < history.history["loss"][0]
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (120, 2)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)
    assert model.output_shape == (None, 2) and model.input_shape == (None, 6)


def test_fit_generator_with_a_sequence_and_a_generator_and_callbacks(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]

    class Batches:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[16 * i:16 * i + 16], y[16 * i:16 * i + 16]

    def endless():
        while True:
            for i in range(4):
                yield x[16 * i:16 * i + 16], y[16 * i:16 * i + 16]

    seen = []
    log = tmp_path / "log.csv"
    model = Sequential([Input(shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    cbs = [callbacks.CSVLogger(log),
           callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch)),
           callbacks.LearningRateScheduler(lambda epoch: 0.01 / (1 + epoch))]
    model.fit(Batches(), epochs=2, verbose=0, callbacks=cbs)
    model.fit_generator(endless(), steps_per_epoch=4, epochs=3, verbose=0, callbacks=cbs,
                        validation_data=(x, y))
    assert seen == [0, 1, 0, 1, 2]
    assert math.isclose(model.optimizer.learning_rate, 0.01 / 3)
    rows = log.read_text().splitlines()      # (the scheduler, listed after, adds its rate later)
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(rows) == 4
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(endless(), epochs=1, verbose=0)


def test_early_stopping_and_reduce_lr_on_plateau_follow_keras():
    x = np.zeros((8, 2), np.float32)
    y = np.zeros((8, 1), np.float32)
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[reduce, stop])
    # the loss is 0 from the start: no improvement after epoch 0, stop after `patience`
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2)
    assert history.history["learning_rate"][0] == pytest.approx(0.1)


def test_progress_bar_lines(capsys):
    x = np.zeros((10, 2), np.float32)
    y = np.zeros((10, 1), np.float32)
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=4, epochs=2, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("3/3 ━━━━━━━━━━━━━━━━━━━━ ") and "/step - loss: 0.0000 - mae:" \
        in out[1]
    model.fit(x, y, batch_size=4, epochs=1, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/1" and out[1].startswith("3/3 - ") and "ms/step" in out[1]
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_freezing_layers_keeps_their_weights():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = rng.standard_normal((32, 2)).astype(np.float32)
    base = Dense(4, activation="relu")
    model = Sequential([Input(shape=(3,)), base, layers.BatchNormalization(), Dense(2)])
    base.trainable = False
    model.layers[1].trainable = False
    frozen = [w.copy() for w in base.get_weights() + model.layers[1].get_weights()]
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen, base.get_weights() + model.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 6


def test_names_are_numbered_per_class_and_must_be_unique():
    assert [Dense(1).name, Dense(1).name, Conv2D(1, 1).name, MaxPooling2D().name] == \
        ["dense", "dense_1", "conv2d", "max_pooling2d"]
    model = Sequential([Dense(2, name="a")])
    with pytest.raises(ValueError, match="unique"):
        model.add(Dense(2, name="a"))


# ------------------------------------------------------------------ bad input
def test_wrong_input_rank_names_the_layer():
    model = Sequential([Input(shape=(28, 28))])
    with pytest.raises(ValueError, match=r'layer "conv2d" \(Conv2D\).*expected ndim=4.*'
                                         r"\(None, 28, 28\)"):
        model.add(Conv2D(4, 3))


def test_mismatched_x_and_y_lengths():
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="10 inputs and 9 targets"):
        model.fit(np.zeros((10, 2)), np.zeros((9, 1)), verbose=0)


def test_wrong_feature_count_at_fit_time():
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"expected shape \(None, 3\), got an array of shape "
                                         r"\(4, 5\)"):
        model.fit(np.zeros((4, 5)), np.zeros((4, 1)), verbose=0)


@pytest.mark.parametrize("kwargs,message", [
    (dict(optimizer="sgd", loss="categorical_crossentropee"), "unknown loss"),
    (dict(optimizer="adamm", loss="mse"), "unknown optimizer"),
    (dict(optimizer="sgd", loss="mse", metrics=["acuracy"]), "unknown metric")])
def test_unknown_names_in_compile(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Sequential([Dense(1)]).compile(**kwargs)


def test_fit_before_compile_and_bad_arguments():
    model = Sequential([Input(shape=(2,)), Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(TypeError, match="unexpected keyword argument.*units_"):
        Dense(3, units_=3)
    with pytest.raises(TypeError, match=r"call the class: Dense\(10\)"):
        Sequential().add(Dense)
    with pytest.raises(ValueError, match="targets of shape"):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        model.fit(np.zeros((4, 2)), np.zeros((4, 3)), verbose=0)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2D(4, 0), "kernel_size must be a positive int"),
    (lambda: layers.Conv2D(4, 3, strides=0), "strides must be a positive int"),
    (lambda: layers.Conv2D(4, 3, dilation_rate=(1, 0)), "dilation_rate must be a positive int"),
    (lambda: layers.Conv2D(4, (3, "a")), "kernel_size must be a positive int"),
    (lambda: layers.Conv2D(4, 3, groups=0), "groups must be a positive int"),
    (lambda: layers.Conv1D(4, 3, strides=(1, 1)), "strides must be a positive int or a tuple of 1"),
    (lambda: layers.MaxPooling2D(pool_size=0), "pool_size must be a positive int"),
    (lambda: layers.AveragePooling2D(strides=-1), "strides must be a positive int"),
])
def test_window_sizes_must_be_positive(make, message):
    with pytest.raises(ValueError, match=message):
        make()
