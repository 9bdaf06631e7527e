"""The notes' Keras programs (examples/notes/seed002_keras_*.py) run on glassnet.keras with
only their imports changed, here on small files in the real formats."""
import pathlib
import re
import runpy

import pytest

import glassnet as gn
from glassnet.keras.backend import clear_session
from data.test_cifar import _cifar_dir
from test_notes_examples import _mnist_folder

NOTES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "notes"


def _run(name, folder, monkeypatch, capsys, epochs=2):
    monkeypatch.chdir(folder)
    monkeypatch.setenv("GLASSNET_DATA", str(folder))
    monkeypatch.setenv("NOTES_EPOCHS", str(epochs))
    clear_session()
    gn.manual_seed(0)
    runpy.run_path(str(NOTES / name), run_name="__main__")
    return capsys.readouterr().out


def test_summary_examples_print_the_notes_numbers(tmp_path, monkeypatch, capsys):
    out = _run("seed002_keras_layers.py", tmp_path, monkeypatch, capsys)
    assert "│ conv2d (Conv2D)                 │ (None, 100, 100, 16)   │            80 │" in out
    assert "(None, 50, 50, 15)" in out
    assert "(None, 4, 4, 64)" in out
    assert " Total params: 528,054 (2.01 MB)" in out


def test_mnist_mlp_trains_and_reloads_its_best_weights(tmp_path, monkeypatch, capsys):
    _mnist_folder(tmp_path / "mnist", 1280, 256)
    out = _run("seed002_keras_mlp.py", tmp_path, monkeypatch, capsys, epochs=3)
    assert " Total params: 669,706 (2.55 MB)" in out
    assert "saving model to mnist.model.best.hdf5" in out
    before = float(re.search(r"Test accuracy before training: ([\d.]+)%", out).group(1))
    after = float(re.search(r"Test accuracy: ([\d.]+)%", out).group(1))
    assert after > 80 and after > before          # the squares are learnt
    assert (tmp_path / "mnist.model.best.hdf5").exists()


def test_cifar10_cnn_with_augmentation_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("h5py")
    (tmp_path / "cifar10").mkdir()
    _cifar_dir(tmp_path / "cifar10", n=1100)       # 5,500 images: 500 to train, 5,000 valid
    out = _run("seed002_keras_cifar10_cnn.py", tmp_path, monkeypatch, capsys)
    assert "x_train shape: (500, 32, 32, 3) valid: (5000, 32, 32, 3) test: (1100, 32, 32, 3)" \
        in out
    assert re.search(r"Epoch 2/2\n15/15 - \S+ - \S+ - accuracy: [\d.]+ - loss: [\d.]+ - "
                     r"val_accuracy: [\d.]+ - val_loss: [\d.]+", out)
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)", out).group(1))
    assert 0 <= accuracy <= 1
