"""The benchmark scripts run to completion and report in the promised shape.

Timings are never asserted: the machine is shared and the numbers move with its load.
"""
import json
import math
import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")


def _run(script, *args):
    proc = subprocess.run([sys.executable, os.path.join(BENCHMARKS, script), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def _positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_vs_torch_quick_json():
    """The default mode: each framework in processes of its own, at its own defaults."""
    pytest.importorskip("torch")
    out = _run("vs_torch.py", "--quick", "--json", "--workloads", "mlp")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["mode"] == "separate processes" and result["rounds"] == 2
    assert set(result["threads"]) == {"glassnet", "torch"}
    assert all(isinstance(n, int) and n >= 1 for n in result["threads"].values())
    assert "in their own processes: loss 2.30" in out        # each worker's own check
    assert _positive(result["sgemm_gflops"])
    r = result["workloads"]["mlp"]
    for key in ("glassnet", "torch", "ratio", "gflops"):
        assert _positive(r[key]), (key, r[key])
    for key in ("glassnet_spread", "torch_spread"):
        low, high = r[key]
        assert _positive(low) and low <= high, (key, r[key])
    # FLOPs counted analytically: 784*512 + 512*512 + 512*10 multiply-adds, x2, x3 to train
    assert r["mflop_per_image"] == pytest.approx(4.012, abs=1e-3)


def test_flops_are_counted_from_the_layers():
    import glassnet as gn
    from glassnet import models
    from workloads import forward_flops           # benchmarks/workloads.py
    # 1*16*25*28*28 + 16*32*25*14*14 + 1568*10 multiply-adds, x2
    with gn.no_grad():
        flops = forward_flops(models.get("cnn-mnist"), gn.zeros(1, 1, 28, 28))
    assert flops / 1e6 == pytest.approx(5.676, abs=1e-3)


def test_vs_torch_in_process_mode_is_labelled():
    pytest.importorskip("torch")
    out = _run("vs_torch.py", "--quick", "--json", "--in-process", "--workloads", "mlp")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["mode"] == "one process, passive OpenMP waits" and result["threads"] == 2
    assert out.startswith("mode: one process, passive OpenMP waits")
    assert _positive(result["workloads"]["mlp"]["ratio"])


def test_vs_torch_rejects_unknown_workload():
    proc = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "vs_torch.py"),
                           "--workloads", "resnet"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown workloads ['resnet']" in proc.stderr


def test_scaling_quick_writes_table_and_plot(tmp_path):
    out = _run("scaling.py", "--quick", "--batch-sizes", "4,8", "--seq-lens", "5",
               "--out", str(tmp_path))
    table = (tmp_path / "scaling.md").read_text()
    assert "| batch size |" in table and "\n| 8 | " in table
    assert "## lstm-mnist" in table and "## lstm-mnist" in out
    png = (tmp_path / "scaling.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_dataloader_vs_torch_quick_json(tmp_path):
    pytest.importorskip("torch")
    import numpy as np
    from data.test_data import _idx                    # tiny IDX files, not the real MNIST
    rng = np.random.default_rng(0)
    _idx(tmp_path / "train-images-idx3-ubyte", 2051, rng.integers(0, 256, (150, 28, 28)))
    _idx(tmp_path / "train-labels-idx1-ubyte", 2049, rng.integers(0, 10, 150))
    out = _run("dataloader_vs_torch.py", "--quick", "--rounds", "1", "--json",
               "--data-dir", str(tmp_path))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["images"] == 150 and result["batch_size"] == 64 and result["rounds"] == 1
    assert result["glassnet"]["batched"] is True and result["torch"]["batched"] is False
    for name in ("glassnet", "torch"):
        assert _positive(result[name]["median"]) and len(result[name]["seconds"]) == 1
    assert _positive(result["ratio"])


def test_airbench_torch_reference_runs_on_small_files(tmp_path):
    """The PyTorch reference of the fast recipe: one line per epoch, the result as JSON."""
    pytest.importorskip("torch")
    from data.test_cifar import _cifar_dir
    _cifar_dir(tmp_path, n=40)
    lines = _run("airbench_torch.py", "--data-dir", str(tmp_path), "--epochs", "2",
                 "--batch-size", "32", "--json").strip().splitlines()
    result = json.loads(lines[-1])
    assert result["train_images"] == 200 and result["steps"] == 2 * (200 // 32)
    assert [h["epoch"] for h in result["history"]] == [1, 2]
    for key in ("test_accuracy", "test_accuracy_tta"):
        assert 0 <= result[key] <= 1
    assert all(math.isfinite(h["loss"]) for h in result["history"])


def test_airbench_torch_shifts_are_windows_of_the_mirrored_image():
    torch = pytest.importorskip("torch")
    sys.path.insert(0, BENCHMARKS)
    import airbench_torch
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    padded = torch.nn.functional.pad(x, (2,) * 4, mode="reflect")
    out = airbench_torch.shifted(x, torch.Generator().manual_seed(0))
    for n in range(2):
        windows = [padded[n, :, i:i + 32, j:j + 32] for i in range(5) for j in range(5)]
        assert any(torch.equal(out[n], w) for w in windows)


def test_keras_vs_quick_json():
    """The Keras comparison runs its three frameworks and checks they start equal."""
    pytest.importorskip("keras")
    result = json.loads(_run("keras_vs.py", "--quick", "--workloads", "mlp", "--json")
                        .strip().splitlines()[-1])
    assert [r["workload"] for r in result] == ["mlp"]
    for framework in ("keras", "glassnet.keras", "glassnet.nn"):
        assert _positive(result[0]["images_per_second"][framework])
    losses = result[0]["loss"].values()
    assert max(losses) - min(losses) < 1e-3 * max(losses)
