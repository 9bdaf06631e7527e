"""Keras's files between glassnet.keras and real Keras 3, both ways: .keras models (with
their compile settings), weights in Keras 3's and Keras 2's HDF5 layouts, and
ModelCheckpoint's best weights. The hostile files are in test_keras_files_hostile.py."""
import json
import warnings
import zipfile

import numpy as np
import pytest

from .keras_file_models import (cifar_cnn, h5_tree, inputs, mlp, randomize, recurrent,
                                residual, rewrite, rng, same_predictions, shared, variants,
                                zoo)
from .keras_oracle import real_keras

import glassnet.keras as G
from glassnet.keras.saving import KerasFileError
from glassnet.keras.saving.graph import keras_layers

keras, tf = real_keras()
h5py = pytest.importorskip("h5py")

MODELS = [mlp, cifar_cnn, residual, recurrent, variants, zoo]


# ------------------------------------------------------------------------ .keras
@pytest.mark.parametrize("build", MODELS, ids=lambda b: b.__name__)
def test_our_keras_file_loads_in_keras(build, tmp_path):
    ours = randomize(build(G))
    ours.save(tmp_path / "m.keras")
    theirs = keras.models.load_model(tmp_path / "m.keras")
    same_predictions(ours, theirs, inputs(build))
    assert [l.name for l in keras_layers(ours)] == [l.name for l in theirs.layers]
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert z.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert json.loads(z.read("metadata.json"))["keras_version"] == "3.15.1"


@pytest.mark.parametrize("build", MODELS, ids=lambda b: b.__name__)
def test_keras_file_loads_in_glassnet(build, tmp_path):
    theirs = randomize(build(keras))
    theirs.save(tmp_path / "k.keras")
    ours = G.models.load_model(tmp_path / "k.keras")
    same_predictions(ours, theirs, inputs(build))
    assert [l.name for l in keras_layers(ours)] == [l.name for l in theirs.layers]


def test_shared_layers_both_ways_in_any_listed_order(tmp_path):
    theirs = randomize(shared(keras))
    theirs.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "k.keras") as z:
        config = json.loads(z.read("config.json"))
    config["config"]["layers"].reverse()        # every call listed before its inputs
    rewrite(tmp_path / "k.keras", tmp_path / "r.keras", config=config)
    x = rng.standard_normal((3, 4))
    for name in ("k.keras", "r.keras"):
        same_predictions(G.models.load_model(tmp_path / name), theirs, x)
    ours = randomize(shared(G))
    ours.save(tmp_path / "o.keras")
    same_predictions(ours, keras.models.load_model(tmp_path / "o.keras"), x)


@pytest.mark.parametrize("build", [residual, recurrent], ids=lambda b: b.__name__)
def test_weights_file_is_the_one_keras_writes(build, tmp_path):
    ours, theirs = build(G), build(keras)
    ours.save_weights(tmp_path / "o.weights.h5")
    theirs.save_weights(tmp_path / "k.weights.h5")
    with h5py.File(tmp_path / "o.weights.h5") as a, h5py.File(tmp_path / "k.weights.h5") as b:
        mine, real = h5_tree(a), h5_tree(b)
    assert set(mine) == set(real)           # the same groups and datasets ...
    datasets = {k: v for k, v in real.items() if not isinstance(v, dict)}
    assert {k: mine[k] for k in datasets} == datasets      # ... of the same shapes
    for path, attrs in real.items():        # the objects' names, where no counter is in them
        if path.endswith("cell/vars") or path == "vars":
            assert mine[path]["name"] in (attrs["name"], ours.name)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_compile_settings_travel_both_ways(tmp_path):
    ours = mlp(G)
    ours.compile(optimizer=G.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ours.save(tmp_path / "c.keras")
    theirs = keras.models.load_model(tmp_path / "c.keras")
    config = theirs.optimizer.get_config()
    assert type(theirs.optimizer).__name__ == "SGD" and config["nesterov"]
    assert config["momentum"] == pytest.approx(0.9)
    assert config["learning_rate"] == pytest.approx(0.05)
    assert theirs.loss == "sparse_categorical_crossentropy"
    theirs = mlp(keras)
    theirs.compile(optimizer=keras.optimizers.Adam(0.003),
                   loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                   metrics=["accuracy"])
    theirs.save(tmp_path / "k.keras")
    back = G.models.load_model(tmp_path / "k.keras")
    assert isinstance(back.optimizer, G.optimizers.Adam)
    assert back.optimizer.learning_rate == pytest.approx(0.003)
    assert back.loss.options["from_logits"] is True
    assert G.models.load_model(tmp_path / "k.keras", compile=False).optimizer is None


def test_settings_that_are_code_are_not_written_and_unknown_ones_not_read(tmp_path):
    ours = mlp(G)
    ours.compile(optimizer="adam", loss=lambda y, p: ((y - p) ** 2).mean(-1))
    with pytest.warns(UserWarning, match="compile settings are not written"):
        ours.save(tmp_path / "f.keras")
    with zipfile.ZipFile(tmp_path / "f.keras") as z:
        assert "compile_config" not in json.loads(z.read("config.json"))
    theirs = mlp(keras)
    theirs.compile(optimizer="adamw", loss=keras.losses.Huber())
    theirs.save(tmp_path / "k.keras")
    with pytest.warns(UserWarning, match="left uncompiled"):
        assert G.models.load_model(tmp_path / "k.keras").optimizer is None


# ----------------------------------------------------------------------- weights
@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "model.weights.best.hdf5"])
@pytest.mark.parametrize("build", [residual, recurrent, zoo], ids=lambda b: b.__name__)
def test_save_weights_both_layouts_into_keras_and_back(build, name, tmp_path):
    ours, theirs = randomize(build(G)), build(keras)
    ours.save_weights(tmp_path / name)
    theirs.load_weights(tmp_path / name)
    x = inputs(build)
    same_predictions(ours, theirs, x)
    randomize(theirs)
    if name.endswith(".weights.h5"):
        theirs.save_weights(tmp_path / "k.weights.h5")
        ours.load_weights(tmp_path / "k.weights.h5")
    else:       # Keras 3 writes Keras 2's layout only inside a whole-model .h5
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.save(tmp_path / "k.h5")
        ours.load_weights(tmp_path / "k.h5")
    same_predictions(ours, theirs, x)


def test_legacy_layout_is_keras_2s(tmp_path):
    ours = recurrent(G)
    ours.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == [l.name for l in ours.layers]
        assert {"backend", "keras_version"} <= set(f.attrs)
        bidir, forward = ours.layers[1].name, ours.layers[1].forward_layer.name
        weight_names = [n.decode() for n in f[bidir].attrs["weight_names"]]
        assert weight_names[0] == f"{bidir}/{forward}/lstm_cell/kernel:0"
        assert f[bidir][weight_names[0]].shape == (5, 16)


def test_weights_of_a_keras_file_and_by_name(tmp_path):
    theirs = randomize(recurrent(keras))
    theirs.save(tmp_path / "k.keras")
    ours = recurrent(G)
    ours.load_weights(tmp_path / "k.keras")
    same_predictions(ours, theirs, inputs(recurrent))
    # by_name: the layers found by name, in any order and with others around them
    src = randomize(mlp(G))
    src.save_weights(tmp_path / "w.h5")
    L = G.layers
    dst = G.Sequential([G.Input((8,)), L.Dense(16, name=src.layers[0].name, activation="relu"),
                        L.Dense(5, name="extra"), L.Dense(3, name=src.layers[2].name)])
    with pytest.raises(KerasFileError, match="shape"):
        dst.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="skipping"):
        dst.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(dst.layers[0].get_weights()[0], src.layers[0].get_weights()[0])


def test_model_checkpoint_best_only_to_hdf5(tmp_path):
    path = str(tmp_path / "model.weights.best.hdf5")
    x, y = rng.standard_normal((64, 8)), np.eye(3)[rng.integers(0, 3, 64)]
    ours = mlp(G)
    ours.compile(optimizer=G.optimizers.SGD(0.5), loss="categorical_crossentropy")
    seen = []

    class Record(G.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.get_weights()))

    ours.fit(x, y, epochs=6, batch_size=16, verbose=0, validation_data=(x[:16], y[:16]),
             callbacks=[G.callbacks.ModelCheckpoint(path, save_best_only=True),
                        Record()])
    best = min(seen, key=lambda s: s[0])[1]
    fresh = mlp(G)
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), best):
        np.testing.assert_array_equal(a, b)
    theirs = mlp(keras)
    theirs.load_weights(path)
    same_predictions(fresh, theirs, x[:4])
