"""The notes' TF1 programs (examples/notes/seed002_tf1_*.py) run on glassnet.compat.v1,
on small learnable IDX files."""
import re

import numpy as np

import glassnet as gn
import glassnet.graph as gg
from test_notes_examples import _mnist_folder, _run as _run_in_process


def _run(name, folder, monkeypatch, capsys):
    gg.reset_default_graph()          # each program as if in a fresh process
    return _run_in_process(name, folder, monkeypatch, capsys)


def test_basics_prints_what_tensorflow_prints(tmp_path, monkeypatch, capsys):
    out = _run("seed002_tf1_basics.py", tmp_path, monkeypatch, capsys)
    lines = out.splitlines()
    assert lines[:4] == ["b'Hello TensorFlow!'", "int32 [3] [2, 3]", "Hello Tensorflow!",
                         "Test string"]
    np.testing.assert_allclose([float(v) for v in lines[4].strip("[] ").split()],
                               [0.6590011, 0.24243295, 0.0985659], rtol=1e-6)
    assert abs(float(lines[5]) - np.log(0.7)) < 1e-6
    assert re.sub(r"\s+", " ", " ".join(lines[6:])) == \
        "[[ 5.11 8.440001] [ 0. 0. ] [24.01 38.24 ]]"


def test_saver_restores_what_it_saved(tmp_path, monkeypatch, capsys):
    out = _run("seed002_tf1_saver.py", tmp_path, monkeypatch, capsys)
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", out)]
    assert len(numbers) == 18 and numbers[:9] == numbers[9:]
    assert (tmp_path / "models" / "test.ckpt").exists()


def test_logistic_regression_learns(tmp_path, monkeypatch, capsys):
    _mnist_folder(tmp_path / "mnist", 5000 + 1280, 256)   # 5000: the validation split
    monkeypatch.setenv("NOTES_MNIST", str(tmp_path / "mnist"))
    monkeypatch.setenv("NOTES_EPOCHS", "10")
    monkeypatch.setenv("NOTES_LR", "0.5")
    out = _run("seed002_tf1_mnist_logistic.py", tmp_path, monkeypatch, capsys)
    acc = float(re.search(r"test accuracy: ([\d.]+)", out).group(1))
    assert acc > 0.5, out


def test_cnn_learns(tmp_path, monkeypatch, capsys):
    _mnist_folder(tmp_path / "mnist", 5000 + 1280, 256)
    monkeypatch.setenv("NOTES_MNIST", str(tmp_path / "mnist"))
    monkeypatch.setenv("NOTES_EPOCHS", "3")
    monkeypatch.setenv("NOTES_LR", "0.0001")
    gn.manual_seed(0)
    out = _run("seed002_tf1_cnn.py", tmp_path, monkeypatch, capsys)
    acc = float(re.search(r"test accuracy: ([\d.]+)", out).group(1))
    assert acc > 0.3, out
