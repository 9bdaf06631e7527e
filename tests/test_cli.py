"""The glassnet command, every subcommand and its error paths, on small data sets built here."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import glassnet as gn
from glassnet import cli
from glassnet.cli import main
from data.test_data import _idx


def _bars(labels, rng):
    """Each class a bright bar in its own rows, plus noise: learnable in a few steps."""
    images = np.zeros((len(labels), 28, 28))
    for k in range(10):
        images[labels == k, 2 * k + 4: 2 * k + 6, 4:24] = 255
    return np.clip(images + rng.integers(0, 60, images.shape), 0, 255).astype(np.uint8)


def _tiny_mnist(folder, n=256, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = _bars(labels, rng)
    for prefix in ("train", "t10k"):
        _idx(folder / f"{prefix}-images-idx3-ubyte", 2051, images)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", 2049, labels)


@pytest.fixture
def mnist_dir(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    _tiny_mnist(folder)
    return folder


def _json_line(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1]), out


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in err, err
    return err


# ------------------------------------------------------------------------ train
def test_train_reports_the_test_score_and_writes_the_run_directory(mnist_dir, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "softmax-regression", "--data-dir", str(mnist_dir), "--epochs", "3",
                 "--val-split", "0.25", "--out", str(run), "--json", "--optimizer", "sgd",
                 "--lr", "0.05"])
    assert code == 0
    result, lines = _json_line(capsys)
    assert any(line.startswith("test accuracy: ") for line in lines)
    assert result["test_accuracy"] > 0.9 and result["epochs"] == 3 and result["params"] == 7850
    for key in ("model", "dataset", "train_seconds", "images_per_second", "test_loss",
                "run_dir"):
        assert key in result
    assert result["images_per_second"] > 0 and result["run_dir"] == str(run)
    assert {"checkpoint.gn", "config.json", "history.csv", "history.json", "result.json",
            "curves.png", "confusion.png"} <= set(os.listdir(run))
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "softmax-regression" and config["lr"] == 0.05
    assert config["val_split"] == 0.25 and config["normalize"] == [[0.1307], [0.3081]]
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3] and len(history["val_loss"]) == 3
    csv_lines = (run / "history.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,loss,accuracy,val_loss") and len(csv_lines) == 4


def test_conv_net_run_gets_a_filter_picture(mnist_dir, tmp_path, capsys):
    run = tmp_path / "cnn"
    assert main(["train", "cnn-mnist", "--data-dir", str(mnist_dir), "--limit-train", "64",
                 "--out", str(run), "--quiet", "--json"]) == 0
    result, _ = _json_line(capsys)
    assert result["epochs"] == 1 and result["params"] == 28_938
    assert (run / "filters.png").stat().st_size > 1000


def _weights(run):
    return {k: v.numpy() for k, v in gn.load(run / "checkpoint.gn")["model"].items()}


def test_resume_ends_where_an_uninterrupted_run_ends(mnist_dir, tmp_path, capsys):
    common = ["--data-dir", str(mnist_dir), "--augment", "--prefetch", "2", "--val-split",
              "0.2", "--quiet", "--json", "--seed", "3"]
    assert main(["train", "mlp", "--epochs", "2", "--out", str(tmp_path / "a")] + common) == 0
    straight, _ = _json_line(capsys)
    assert main(["train", "mlp", "--epochs", "1", "--out", str(tmp_path / "b")] + common) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "b"), "--epochs", "2", "--quiet",
                 "--json"]) == 0
    resumed, _ = _json_line(capsys)
    assert resumed["epochs"] == 2 and resumed["test_loss"] == straight["test_loss"]
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    history = json.loads((tmp_path / "b" / "history.json").read_text())
    assert history["epoch"] == [1, 2]


def test_resume_refuses_a_finished_run_and_changed_settings(mnist_dir, tmp_path, capsys):
    run = str(tmp_path / "r")
    assert main(["train", "softmax-regression", "--data-dir", str(mnist_dir), "--out", run,
                 "--quiet"]) == 0
    assert main(["train", "--resume", run, "--quiet"]) == 2
    _one_line_error(capsys, "already has 1 epochs of 1")
    assert main(["train", "--resume", run, "--epochs", "2", "--lr", "0.5"]) == 2
    _one_line_error(capsys, "only --epochs, --data-dir and --prefetch", "--lr")
    assert main(["train", "--resume", str(tmp_path / "nothing"), "--epochs", "2"]) == 2
    _one_line_error(capsys, "no checkpoint at")


def test_perceptron_and_logistic_separate_the_blobs(tmp_path, capsys):
    for model in ("perceptron", "logistic"):
        run = tmp_path / model
        assert main(["train", model, "--out", str(run), "--quiet", "--json"]) == 0
        result, _ = _json_line(capsys)
        assert result["dataset"] == "blobs" and result["test_accuracy"] == 1.0
        history = json.loads((run / "history.json").read_text())
        assert history["binary_accuracy"][-1] == 1.0          # all training points right
        assert (run / "decision.png").exists()


def test_rnn_regression_reports_mse_and_plots_the_series(tmp_path, capsys):
    run = tmp_path / "rnn"
    assert main(["train", "rnn-regression", "--epochs", "2", "--out", str(run), "--quiet",
                 "--json"]) == 0
    result, _ = _json_line(capsys)
    assert result["dataset"] == "sine" and result["test_accuracy"] is None
    assert 0 < result["test_mse"] < 0.5 and (run / "prediction.png").exists()


@pytest.mark.parametrize("model", ["autoencoder", "conv-autoencoder"])
def test_autoencoder_reconstructs_and_plots_codes(model, mnist_dir, tmp_path, capsys):
    run = tmp_path / "ae"
    assert main(["train", model, "--data-dir", str(mnist_dir), "--epochs", "1",
                 "--out", str(run), "--quiet", "--json"]) == 0
    result, _ = _json_line(capsys)
    assert result["test_accuracy"] is None and 0 < result["test_mse"] < 0.25
    assert (run / "reconstructions.png").exists() and (run / "codes.png").exists()


# ------------------------------------------------------------------------ eval, predict
@pytest.fixture
def trained(mnist_dir, tmp_path, capsys):
    run = tmp_path / "trained"
    assert main(["train", "softmax-regression", "--data-dir", str(mnist_dir), "--epochs", "3",
                 "--out", str(run), "--quiet", "--json", "--optimizer", "sgd", "--lr",
                 "0.05"]) == 0
    result, _ = _json_line(capsys)
    return run, result


def test_eval_gives_the_same_score_from_run_dir_or_checkpoint(trained, mnist_dir, capsys):
    run, trained_result = trained
    for target in (run, run / "checkpoint.gn"):
        assert main(["eval", str(target), "--dataset", "mnist", "--data-dir", str(mnist_dir),
                     "--json"]) == 0
        result, lines = _json_line(capsys)
        assert result["test_accuracy"] == trained_result["test_accuracy"]
        assert result["test_loss"] == pytest.approx(trained_result["test_loss"])
        assert result["checkpoint"].endswith("checkpoint.gn")
        assert any(line.startswith("test accuracy: ") for line in lines)


def test_predict_classifies_image_files(trained, tmp_path, capsys):
    run, _ = trained
    rng = np.random.default_rng(5)
    labels = np.array([3, 7, 1])
    paths = []
    for i, image in enumerate(_bars(labels, rng)):
        path = tmp_path / f"digit{i}.{'png' if i else 'jpg'}"
        Image.fromarray(image).resize((56, 56)).save(path)        # resized back to 28x28
        paths.append(str(path))
    assert main(["predict", str(run), *paths, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    predictions = json.loads(out[-1])["predictions"]
    assert [p["class"] for p in predictions] == labels.tolist()
    assert out[0].startswith(paths[0] + ": 3  (3 ")
    top = predictions[0]["probabilities"]
    assert len(top) == 3 and top[0][0] == "3" and top[0][1] >= top[1][1] >= top[2][1]
    Image.fromarray(255 - _bars(labels[:1], rng)[0]).save(tmp_path / "dark.png")
    assert main(["predict", str(run), str(tmp_path / "dark.png"), "--invert", "--json",
                 "--top", "1"]) == 0
    (prediction,) = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["predictions"]
    assert prediction["class"] == 3 and len(prediction["probabilities"]) == 1


def test_predict_errors(trained, tmp_path, capsys):
    run, _ = trained
    assert main(["predict", str(run), str(tmp_path / "missing.png")]) == 2
    _one_line_error(capsys, "no image at")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    assert main(["predict", str(run), str(junk)]) == 2
    _one_line_error(capsys, "is not a readable image")
    assert main(["train", "logistic", "--out", str(tmp_path / "lg"), "--quiet"]) == 0
    assert main(["predict", str(tmp_path / "lg"), str(junk)]) == 2
    _one_line_error(capsys, "does not classify images")


def test_predict_refuses_images_above_the_pixel_limit_which_a_flag_raises(trained, tmp_path,
                                                                          capsys):
    run, _ = trained
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(path)      # 10,000 pixels
    default = gn.data.max_image_pixels()
    try:
        assert main(["predict", str(run), str(path), "--max-image-pixels", "5000"]) == 2
        _one_line_error(capsys, "big.png")
        assert main(["predict", str(run), str(path), "--max-image-pixels", "20000"]) == 0
        assert main(["predict", str(run), str(path), "--max-image-pixels", "0"]) == 2
        _one_line_error(capsys, "")
    finally:
        gn.data.set_max_image_pixels(default)


def test_eval_of_a_corrupt_checkpoint_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.gn"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert main(["eval", str(bad)]) == 2
    _one_line_error(capsys, "truncated, corrupt or not a glassnet checkpoint")


# ------------------------------------------------------------------------ errors
def test_missing_data_is_reported_plainly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    assert main(["train", "mlp", "--data-dir", str(tmp_path), "--quiet"]) == 2
    _one_line_error(capsys, "train-images-idx3-ubyte(.gz) not found", str(tmp_path))


def test_model_and_data_that_do_not_fit_together(mnist_dir, tmp_path, capsys):
    assert main(["train", "perceptron", "--dataset", "mnist", "--data-dir", str(mnist_dir),
                 "--out", str(tmp_path / "x")]) == 2
    _one_line_error(capsys, "takes inputs of shape (2,)", "try --dataset blobs")


@pytest.mark.parametrize("args, fragment", [
    (["--val-split", "1.5"], "--val-split is a fraction"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--dataset", "imagenet"], "no data set named 'imagenet'"),
    (["--lr", "-1"], "--lr must be positive"),
])
def test_bad_options_are_one_line_errors(args, fragment, mnist_dir, tmp_path, capsys):
    assert main(["train", "softmax-regression", "--data-dir", str(mnist_dir), "--out",
                 str(tmp_path / "r")] + args) == 2
    _one_line_error(capsys, fragment)


def test_unknown_names_exit_nonzero_without_a_traceback(capsys):
    for argv in (["train", "no-such-model"], ["summary", "resnet"], ["frobnicate"],
                 ["diagnose", "everything"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "invalid choice" in capsys.readouterr().err


def test_train_without_a_model(capsys):
    assert main(["train"]) == 2
    _one_line_error(capsys, "name a MODEL")


def test_the_installed_command_prints_one_line_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "glassnet", "eval", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"glassnet eval: no checkpoint at {tmp_path / 'none'}"


# ------------------------------------------------------------------------ the rest
def test_models_and_summary_commands(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("cnn-mnist ", "perceptron ", "lstm-mnist ", "autoencoder "):
        assert name in out
    assert main(["summary", "mlp"]) == 0
    assert "Total params: 669,706" in capsys.readouterr().out


def test_python_dash_m_runs_the_command():
    out = subprocess.run([sys.executable, "-m", "glassnet", "models"], capture_output=True,
                         text=True, check=True).stdout
    assert "lenet5" in out


def test_summary_json(capsys):
    assert main(["summary", "cnn-mnist", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "cnn-mnist" and result["trainable_params"] == 28_938
    assert result["total_params"] == 28_938 and result["layers"][0]["output_shape"] == [-1, 16, 28, 28]


def test_datasets_command(mnist_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["datasets", "--data-dir", str(mnist_dir), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["mnist"]["present"] and found["mnist"]["test_samples"] == 256
    assert found["blobs"]["present"] and not found["cifar10"]["present"]
    assert main(["datasets", "--data-dir", str(tmp_path / "none")]) == 0
    assert "mnist           not found; looked in" in capsys.readouterr().out


# ------------------------------------------------------------------- the error contract
def _raising(error):
    def run(args):
        raise error
    return run


def test_a_bug_is_one_line_that_says_so_and_exit_3(monkeypatch, capsys):
    monkeypatch.setattr(cli, "list_models", _raising(ZeroDivisionError("division by zero")))
    assert main(["models"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a bug in glassnet (ZeroDivisionError: division by zero)" in err[0]
    assert "--debug" in err[0]


def test_ctrl_c_is_interrupted_and_exit_130(monkeypatch, capsys):
    monkeypatch.setattr(cli, "list_models", _raising(KeyboardInterrupt()))
    assert main(["models"]) == 130
    assert capsys.readouterr().err.strip() == "glassnet: interrupted"


@pytest.mark.parametrize("argv", [["--debug", "eval", "NONE"], ["eval", "NONE", "--debug"]])
def test_debug_shows_the_traceback_before_or_after_the_command(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at NONE"):
        main(argv)
    monkeypatch.setattr(cli, "list_models", _raising(ZeroDivisionError("x")))
    with pytest.raises(ZeroDivisionError):
        main(["models", "--debug"])
