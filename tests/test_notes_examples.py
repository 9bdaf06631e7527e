"""The notes' PyTorch programs (examples/notes/) run on glassnet with only their imports
changed. Each runs here on a small MNIST-format set written in tmp_path: images whose
class decides where a bright square sits, so that a network that learns shows it."""
import gzip
import pathlib
import re
import runpy
import struct

import numpy as np
import pytest

import glassnet as gn

NOTES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "notes"


def _write_idx(path, magic, array):
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _learnable_digits(n, seed):
    """n 28x28 uint8 images: noise, plus a 6x6 square at one of 10 places given by the label."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, (n, 28, 28))
    for i, label in enumerate(labels):
        row, col = 3 + 12 * (label // 5), 1 + 5 * (label % 5)
        images[i, row:row + 6, col:col + 6] = 255
    return images, labels


def _mnist_folder(folder, n_train, n_test):
    folder.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = _learnable_digits(n, seed)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, labels)


def _run(name, folder, monkeypatch, capsys):
    monkeypatch.chdir(folder)
    gn.manual_seed(0)         # seed 003 does not seed; the others seed themselves
    runpy.run_path(str(NOTES / name), run_name="__main__")
    return capsys.readouterr().out


@pytest.fixture
def mnist_here(tmp_path):
    """./mnist as the seed-000 programs expect it (the IDX files directly inside)."""
    _mnist_folder(tmp_path / "mnist", 1280, 256)
    return tmp_path


def _first_and_last_mean_loss(out):
    first, last = re.search(r"first 10 steps ([\d.]+), last 10 steps ([\d.]+)", out).groups()
    return float(first), float(last)


def test_seed003_complete_script_trains_the_notes_cnn(tmp_path, monkeypatch, capsys):
    # torchvision's own layout: ./data/MNIST/raw
    _mnist_folder(tmp_path / "data" / "MNIST" / "raw", 512, 128)
    out = _run("seed003_mnist_cnn.py", tmp_path, monkeypatch, capsys)
    epochs = re.findall(r"Epoch (\d+) Train Loss ([\d.e-]+) Train  Accuracy ([\d.]+) "
                        r"Teat Loss ([\d.e-]+) Test Accuracy ([\d.]+)", out)
    assert [int(e[0]) for e in epochs] == list(range(1, 21))
    assert float(epochs[-1][4]) > 0.8                 # the squares are learnt
    assert float(epochs[-1][1]) < float(epochs[0][1])


def test_seed000_cnn_training_step(mnist_here, monkeypatch, capsys):
    out = _run("seed000_cnn.py", mnist_here, monkeypatch, capsys)
    lines = re.findall(r"^(\d+) ([\d.e-]+) (\d\.\d\d)$", out, re.M)
    assert [int(step) for step, _, _ in lines] == [0]      # 26 steps, printed every 50
    assert np.isfinite(float(lines[0][1]))


def test_seed000_lstm_reads_images_row_by_row(mnist_here, monkeypatch, capsys):
    out = _run("seed000_rnn_classifier.py", mnist_here, monkeypatch, capsys)
    assert "LSTM(28, 64, batch_first=True)" in out
    accuracy = re.findall(r"test accuracy: ([\d.]+)", out)
    assert len(accuracy) == 1 and 0 <= float(accuracy[0]) <= 1


def test_seed000_rnn_regression_carries_h_state_data(tmp_path, monkeypatch, capsys):
    out = _run("seed000_rnn_regression.py", tmp_path, monkeypatch, capsys)
    first, last = _first_and_last_mean_loss(out)
    assert last < first / 5


def test_seed000_autoencoder_learns_to_reconstruct(mnist_here, monkeypatch, capsys):
    out = _run("seed000_autoencoder.py", mnist_here, monkeypatch, capsys)
    first, last = _first_and_last_mean_loss(out)
    assert last < first
    codes = re.findall(r"digit \d code \[(.*?)\]", out)
    assert len(codes) == 5 and all(len(c.split()) == 3 for c in codes)
