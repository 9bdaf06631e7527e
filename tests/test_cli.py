"""The glassnet command on a small MNIST-format dataset built here."""
import json
import os
import subprocess
import sys

import numpy as np

from glassnet.cli import main
from data.test_data import _idx


def _tiny_mnist(folder, n=256, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = np.zeros((n, 28, 28))
    for k in range(10):            # each class a bright bar in its own rows: learnable
        images[labels == k, 2 * k + 4: 2 * k + 6, 4:24] = 255
    images = np.clip(images + rng.integers(0, 60, images.shape), 0, 255)
    for prefix in ("train", "t10k"):
        _idx(folder / f"{prefix}-images-idx3-ubyte", 2051, images)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", 2049, labels)


def test_train_reports_test_accuracy_and_saves_the_run(tmp_path, capsys):
    _tiny_mnist(tmp_path)
    code = main(["train", "softmax-regression", "--data-dir", str(tmp_path), "--epochs", "3",
                 "--val-split", "0.25", "--early-stopping", "2", "--out", str(tmp_path / "run"),
                 "--json", "--optimizer", "sgd", "--lr", "0.05"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert lines[-2].startswith("test accuracy: ")
    assert result["test_accuracy"] > 0.9 and result["epochs"] == 3 and result["params"] == 7850
    assert result["images_per_second"] > 0 and result["run_dir"] == str(tmp_path / "run")
    assert set(result["history"]) >= {"loss", "val_loss", "val_accuracy"}
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.gn", "result.json"]


def test_missing_data_is_reported_plainly(tmp_path, capsys):
    assert main(["train", "mlp", "--data-dir", str(tmp_path), "--quiet"]) == 2
    assert "train-images-idx3-ubyte(.gz) not found" in capsys.readouterr().err


def test_models_and_summary_commands(capsys):
    assert main(["models"]) == 0
    assert "cnn-mnist " in capsys.readouterr().out
    assert main(["summary", "mlp"]) == 0
    assert "Total params: 669,706" in capsys.readouterr().out


def test_python_dash_m_runs_the_command():
    out = subprocess.run([sys.executable, "-m", "glassnet", "models"], capture_output=True,
                         text=True, check=True).stdout
    assert "lenet5" in out


def test_summary_json(capsys):
    assert main(["summary", "cnn-mnist", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total_params"] == 28_938 and result["layers"][0]["output_shape"] == [-1, 16, 28, 28]


def test_datasets_command(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    _tiny_mnist(tmp_path)
    assert main(["datasets", "--data-dir", str(tmp_path), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["mnist"] == {"present": True, "test_samples": 256}
    assert main(["datasets", "--data-dir", str(tmp_path / "none")]) == 0
    assert "mnist           not found; looked in" in capsys.readouterr().out


def test_bad_arguments_exit_nonzero_without_a_traceback(capsys):
    import pytest
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "no-such-model"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
