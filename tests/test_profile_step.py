"""benchmarks/profile_step.py runs to completion and reports in the promised shape.

Timings are never asserted (the machine is shared); the grouping is: its rows must add up
to the profiled step, and every convolution row must have received time.
"""
import json
import math
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "benchmarks", "profile_step.py")


def _run(*args):
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", SCRIPT, *args],
                          capture_output=True, text=True, timeout=120)


def test_profile_step_tiny_json():
    proc = _run("resnet20", "--steps", "1", "--warmup", "0", "--batch", "4", "--top", "5",
                "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "PerformanceWarning" not in proc.stderr          # glassnet came before NumPy
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (result["model"], result["batch"], result["steps"]) == ("resnet20", 4, 1)
    for key in ("ms_per_step", "images_per_second", "profiled_ms_per_step"):
        assert math.isfinite(result[key]) and result[key] > 0, key
    rows = {f["name"]: f for f in result["families"]}
    for name in ("conv forward", "conv backward: input grad", "conv backward: weight grad",
                 "batchnorm forward", "batchnorm backward", "relu/relu6 backward",
                 "add forward", "optimizer step + zero_grad", "autograd engine overhead"):
        assert rows[name]["ms"] > 0, name
    # option A shortcuts of ResNet-20: the strided slice and the channel padding
    assert any(n.startswith("other ops (ConstantPad, Index") for n in rows)
    # the rows split the profiled step: together they are all of it
    assert sum(f["percent"] for f in result["families"]) == pytest_approx(100)
    assert sum(f["ms"] for f in result["families"]) == pytest_approx(
        result["profiled_ms_per_step"])
    kinds = {(c["kind"], c["phase"]) for c in result["convolutions"]}
    assert ("dense 3x3 (direct)", "backward") in kinds
    assert len(result["top"]) == 5 and result["top"][0]["self_ms"] >= result["top"][-1]["self_ms"]
    assert "where the profiled step goes" in proc.stdout


def pytest_approx(x):
    import pytest
    return pytest.approx(x, rel=1e-6)


def test_profile_step_rejects_bad_settings():
    proc = _run("resnet20", "--steps", "0")
    assert proc.returncode == 2 and "--steps must be >= 1" in proc.stderr
    proc = _run("autoencoder", "--steps", "1")
    assert proc.returncode == 2 and "not a classifier" in proc.stderr
