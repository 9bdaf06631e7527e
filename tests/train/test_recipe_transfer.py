"""CIFAR training as users expect it (recipe defaults, schedules, time budget, cutout,
label smoothing, flip TTA, per-class results) and transfer learning (--init, --freeze,
--classes, --per-class), on small CIFAR-10 files built here in the real format."""
import csv
import json
import os
import shutil

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import models, nn, optim, runs
from glassnet.cli import main
from glassnet.data import CIFAR10, ClassSubset
from glassnet.data import transforms as T
from glassnet.train import StepSchedule, TimeBudget, fit, schedule_factor
from glassnet.train import callbacks as callbacks_module
from data.test_cifar import _cifar_dir

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]


@pytest.fixture
def cifar(tmp_path):
    """Every batch holds 2 images of each class: 10 per class to train on, 2 to test."""
    root = tmp_path / "cifar"
    root.mkdir()
    _cifar_dir(root, n=20, labels=list(range(10)) * 2)
    return str(root)


class FakeClock:
    """time.perf_counter for callbacks: advances `step` seconds per call."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


# ---------------------------------------------------------------------------- pieces
def test_cutout_blanks_one_clipped_square_per_image():
    images = np.ones((64, 3, 12, 12), np.float32)
    out = T.Cutout(4, generator=np.random.default_rng(0))(images)
    assert out.shape == images.shape and out.dtype == np.float32 and images.min() == 1
    blanked = out[:, 0] == 0
    assert (blanked == (out == 0).all(axis=1)).all()          # the same square in every channel
    sizes = blanked.sum(axis=(1, 2))
    assert sizes.max() == 16 and 0 < sizes.min() < 16          # whole inside, clipped at borders
    for mask in blanked:
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        assert mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()   # a rectangle
    again = T.Cutout(4, generator=np.random.default_rng(0))(images)
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ValueError, match="Cutout: size"):
        T.Cutout(0)


def test_class_subset_relabels_in_the_given_order_and_keeps_batches(cifar):
    ds = CIFAR10(cifar, train=True)
    sub = ClassSubset(ds, ["ship", "cat", 2])
    assert sub.classes == ["ship", "cat", "bird"] and sub.num_classes == 3 and len(sub) == 30
    x, y = sub.get_batch(np.arange(len(sub)))
    originals = ds.labels[sub.indices]
    np.testing.assert_array_equal(y, np.select([originals == 8, originals == 3], [0, 1], 2))
    for i in (0, 7, 29):
        xi, yi = sub[i]
        np.testing.assert_array_equal(np.asarray(xi), x[i])
        assert yi == y[i]


def test_class_subset_per_class_is_seeded_and_exact(cifar):
    ds = CIFAR10(cifar, train=True)
    a = ClassSubset(ds, ["dog", "frog"], per_class=4, generator=np.random.default_rng(1))
    b = ClassSubset(ds, ["dog", "frog"], per_class=4, generator=np.random.default_rng(1))
    c = ClassSubset(ds, ["dog", "frog"], per_class=4, generator=np.random.default_rng(2))
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(np.sort(a.indices), np.sort(c.indices))
    assert np.bincount(a.get_batch(np.arange(8))[1]).tolist() == [4, 4]
    with pytest.raises(KeyError, match="unknown class 'sheep'.*airplane, automobile"):
        ClassSubset(ds, ["sheep"])
    with pytest.raises(ValueError, match="named twice"):
        ClassSubset(ds, ["cat", 3])
    with pytest.raises(ValueError, match="fewer than 11 samples"):
        ClassSubset(ds, ["cat"], per_class=11)


@pytest.mark.parametrize("shape", ["cosine", "onecycle"])
def test_schedule_shapes_match_torch_schedulers(shape):
    steps = 1000
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    if shape == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    else:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps,
                                                    cycle_momentum=False)
    ours, theirs = [], []
    for step in range(steps):
        theirs.append(opt.param_groups[0]["lr"])
        ours.append(0.1 * schedule_factor(shape, step / steps))
        opt.step()
        sched.step()
    # torch places OneCycle's phase boundaries at whole steps (pct_start * steps - 1)
    np.testing.assert_allclose(ours, theirs, atol=1e-7 if shape == "cosine" else 1e-3)
    with pytest.raises(ValueError, match="unknown shape 'linear'"):
        schedule_factor("linear", 0.5)


def _tiny_fit(callbacks, epochs=2, n=64, batch=8):
    gn.manual_seed(0)
    model = nn.Linear(3, 2)
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    batches = [(gn.tensor(x[i:i + batch]), gn.tensor(y[i:i + batch])) for i in range(0, n, batch)]
    opt = optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, batches, nn.CrossEntropyLoss(), opt, epochs, callbacks=callbacks,
                  quiet=True)
    return history, opt


def test_step_schedule_sets_the_rate_every_step():
    seen = []

    class Spy(callbacks_module.Callback):
        def on_batch_end(self, trainer, step, logs):
            seen.append(trainer.optimizer.param_groups[0]["lr"])

    history, opt = _tiny_fit([StepSchedule("cosine", total_steps=16), Spy()])
    # Spy runs after the schedule: it sees the rate for the next step
    expected = [0.5 * schedule_factor("cosine", (k + 1) / 16) for k in range(16)]
    np.testing.assert_allclose(seen, expected)
    assert opt.param_groups[0]["peak_lr"] == 0.5


def test_time_budget_stops_mid_epoch_and_the_schedule_follows_it(monkeypatch):
    monkeypatch.setattr(callbacks_module.time, "perf_counter", FakeClock(1.0))
    budget = TimeBudget(10.0)
    schedule = StepSchedule("cosine", total_steps=1000, time_budget=10.0)
    history, opt = _tiny_fit([schedule, budget], epochs=5)
    assert budget.exhausted and history.epochs == [1]
    assert "time budget of 0.166667 minutes ran out in epoch 1, step" in history.stop_reason
    assert not history.diverged
    # after ~10 s of a 10 s budget, the cosine is at its end although few steps were taken
    assert opt.param_groups[0]["lr"] < 0.5 * 0.01
    with pytest.raises(ValueError, match="seconds must be positive"):
        TimeBudget(0)


# ---------------------------------------------------------------------------- recipe
def test_cifar_families_carry_the_recipe_and_users_override_it():
    c = runs.resolve_config("resnet20")
    assert (c["optimizer"], c["lr"], c["weight_decay"], c["batch_size"], c["schedule"],
            c["augment"], c["decay_norm_and_bias"]) == ("nesterov", 0.1, 5e-4, 128, "cosine",
                                                        True, False)
    for name in ("alexnet", "vgg11-bn", "vgg16-bn", "resnet56", "resnet18", "inception",
                 "inception-resnet", "mobilenet", "mobilenetv2"):
        assert models.entry(name).defaults["schedule"] == "cosine", name
    assert runs.resolve_config("alexnet")["lr"] == 0.01             # no BatchNorm
    c = runs.resolve_config("resnet20", optimizer="adam", augment=False)
    assert c["lr"] is None and not c["augment"]           # the recipe's lr was for its SGD
    assert runs.resolve_config("cnn-mnist")["schedule"] == "constant"
    with pytest.raises(runs.RunError, match="unknown --schedule 'step'"):
        runs.resolve_config("resnet20", schedule="step")
    with pytest.raises(runs.RunError, match="--per-class needs --classes"):
        runs.resolve_config("resnet20", per_class=5)


def test_no_weight_decay_on_biases_and_norms(cifar):
    run = runs.Run(runs.resolve_config("resnet20", data_dir=cifar, epochs=1))
    decay, no_decay = run.optimizer.param_groups
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0
    assert all(p.ndim > 1 for p in decay["params"]) and all(p.ndim == 1 for p in
                                                            no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(run.model.parameters()))
    run = runs.Run(runs.resolve_config("resnet20", data_dir=cifar, decay_norm_and_bias=True))
    assert len(run.optimizer.param_groups) == 1


def test_run_reports_each_class_and_writes_a_named_confusion_matrix(cifar, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "resnet20", "--data-dir", cifar, "--epochs", "1", "--batch-size",
                 "32", "--tta", "--cutout", "8", "--label-smoothing", "0.1", "--out", str(out),
                 "--json", "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(result["per_class_accuracy"]) == CLASSES
    with open(out / "confusion.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == CLASSES and [r[0] for r in rows[1:]] == CLASSES
    matrix = np.array([[int(v) for v in r[1:]] for r in rows[1:]])
    assert matrix.sum() == 20 and (matrix.sum(1) == 2).all()
    assert np.trace(matrix) / 20 == pytest.approx(result["test_accuracy"])
    for name, row in zip(CLASSES, matrix):
        assert row[CLASSES.index(name)] / 2 == pytest.approx(result["per_class_accuracy"][name])
    config = json.load(open(out / "config.json"))
    assert (config["tta"], config["cutout"], config["label_smoothing"]) == ("flip", 8, 0.1)
    assert (out / "misclassified.png").exists() == (result["test_accuracy"] < 1)


def test_tta_averages_the_outputs_of_each_image_and_its_mirror(cifar):
    run = runs.Run(runs.resolve_config("resnet20", data_dir=cifar, tta=True))
    with_tta, targets = run.outputs(run.test_loader, tta=True)
    plain, _ = run.outputs(run.test_loader)
    x = next(iter(run.test_loader))[0]
    run.model.eval()
    with gn.no_grad():
        mirrored = run.model(gn.tensor(x.numpy()[..., ::-1].copy())).numpy()
    np.testing.assert_allclose(with_tta, (plain + mirrored) / 2, rtol=1e-5, atol=1e-6)
    assert not np.allclose(with_tta, plain)
    scores = run.test()
    assert scores["test_accuracy"] == np.mean(with_tta.argmax(1) == targets)


# ---------------------------------------------------------------------------- transfer
@pytest.fixture
def pretrained(cifar, tmp_path):
    out = str(tmp_path / "pre")
    run = runs.Run(runs.resolve_config("resnet20", data_dir=cifar, epochs=1, batch_size=50),
                   out=out)
    run.train(quiet=True)
    return out


def _state(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_init_and_freeze_train_only_the_new_head(cifar, pretrained, tmp_path):
    before = _state(runs.load_model(pretrained)[0])
    config = runs.resolve_config("resnet20", data_dir=cifar, epochs=2, batch_size=4,
                                 classes=["ship", "cat", "bird"], per_class=3, init=pretrained,
                                 freeze=["conv1", "bn1", "layer1", "layer2", "layer3"])
    run = runs.Run(config, out=str(tmp_path / "transfer"))
    assert len(run.train_set) == 9 and run.classes == ["ship", "cat", "bird"]
    assert run.model.fc.weight.shape == (3, 64)
    start = _state(run.model)
    for k, v in start.items():
        if not k.startswith("fc."):
            np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert run.transfer["new_head"] == ["fc.weight", "fc.bias"]
    trainable = [p for p in run.model.parameters() if p.requires_grad]
    assert trainable == [run.model.fc.weight, run.model.fc.bias]
    result = run.train(quiet=True)
    after = _state(run.model)
    for k, v in after.items():       # weights and BatchNorm statistics alike
        if not k.startswith("fc."):
            np.testing.assert_array_equal(v, start[k], err_msg=k)
    assert not np.array_equal(after["fc.weight"], start["fc.weight"])
    assert result["trainable_params"] == 3 * 64 + 3
    assert len(result["frozen"]) == len(list(run.model.parameters())) - 2
    state = run.optimizer.state_dict()
    assert sum(len(g["params"]) for g in state["param_groups"]) == 2


def test_full_fine_tuning_keeps_the_head_when_the_classes_are_the_same(cifar, pretrained):
    run = runs.Run(runs.resolve_config("resnet20", data_dir=cifar, init=pretrained))
    assert run.transfer["new_head"] == [] and run.transfer["loaded"] == len(run.model.state_dict())
    np.testing.assert_array_equal(run.model.fc.weight.detach().numpy(),
                                  runs.load_model(pretrained)[0].fc.weight.detach().numpy())


def test_a_resumed_transfer_run_does_not_need_the_init_weights(cifar, pretrained, tmp_path):
    out = str(tmp_path / "t")
    assert main(["train", "resnet20", "--data-dir", cifar, "--init", pretrained, "--classes",
                 "cat,dog", "--epochs", "1", "--out", out, "--quiet"]) == 0
    shutil.rmtree(pretrained)
    assert main(["train", "--resume", out, "--epochs", "2", "--quiet"]) == 0
    assert json.load(open(os.path.join(out, "result.json")))["epochs"] == 2


@pytest.mark.parametrize("flags, fragments", [
    (["--classes", "bird,sheep"], ["unknown class 'sheep'", "airplane, automobile"]),
    (["--classes", "bird", "--per-class", "50"], ["fewer than 50 samples"]),
    (["--freeze", "layer9"], ["'layer9' matches no parameter", "layer1, layer2, layer3"]),
    (["--init", "MISMATCH"], ["does not fit ResNet", "missing from the file: conv1.weight "
                              "(16, 3, 3, 3), bn1.weight (16,)", "10 not in the model: "
                              "0.weight (16, 3, 2, 2)"]),
    (["--init", "NOWHERE"], ["no run directory, checkpoint or weight file"]),
])
def test_bad_transfer_options_are_one_line_exit_2_and_write_nothing(cifar, tmp_path, capsys,
                                                                     flags, fragments):
    other = tmp_path / "other.gn"
    gn.save(models.get("cnn-cifar").state_dict(), other)
    flags = [str(other) if f == "MISMATCH" else str(tmp_path / "none") if f == "NOWHERE"
             else f for f in flags]
    out = tmp_path / "out"
    assert main(["train", "resnet20", "--data-dir", cifar, "--out", str(out)] + flags) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("glassnet train: ")
    assert "train: train:" not in err
    for fragment in fragments:
        assert fragment in err
    assert not out.exists()


def test_missing_cifar_files_are_one_line_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", "resnet20", "--data-dir", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "data_batch_1" in err and not out.exists()
