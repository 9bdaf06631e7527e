"""End to end on the real MNIST: the notes' CNN, trained briefly with the engine alone,
learns to read digits. Uses the four IDX files from ../shared/datasets/mnist."""
import importlib.util
import pathlib

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "datasets" / "mnist"


def _example():
    spec = importlib.util.spec_from_file_location("mnist_cnn", ROOT / "examples" / "mnist_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the real MNIST is not at {MNIST}")
def test_cnn_learns_real_mnist():
    ex = _example()
    x_train, y_train = ex.load("train", str(MNIST))
    x_test, y_test = ex.load("test", str(MNIST))
    assert x_train.shape == (60000, 1, 28, 28) and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]  # the canonical label counts

    rng = np.random.default_rng(0)
    params = ex.init_params(rng)
    optimizer = ex.Adam(list(params.values()), lr=2e-3)
    for i in range(0, 6400, 64):
        loss = F.cross_entropy(ex.forward(params, gn.tensor(x_train[i:i + 64])),
                               gn.tensor(y_train[i:i + 64]))
        loss.backward()
        optimizer.step()
    with gn.no_grad():
        predicted = ex.forward(params, gn.tensor(x_test[:1000])).argmax(1).numpy()
    accuracy = float((predicted == y_test[:1000]).mean())
    assert accuracy > 0.9, f"test accuracy {accuracy:.3f} after 100 steps"


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the real MNIST is not at {MNIST}")
def test_command_trains_the_cnn_on_real_mnist(tmp_path, capsys):
    """The README's main job, shortened to 10,000 training images: the real loader, the
    CLI, a run directory, and the full 10,000-image test set (96.7% when measured)."""
    import json
    from glassnet.cli import main
    assert main(["train", "cnn-mnist", "--data-dir", str(MNIST), "--limit-train", "10000",
                 "--lr", "0.002",
                 "--out", str(tmp_path / "run"), "--quiet", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["dataset"] == "mnist" and result["epochs"] == 1
    assert result["test_accuracy"] > 0.9, result
    assert (tmp_path / "run" / "confusion.png").exists()
