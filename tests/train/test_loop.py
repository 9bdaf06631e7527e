"""fit / evaluate / predict and the callbacks, on small synthetic problems."""
import csv
import io

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn as nn
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import (CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                            evaluate, fit, predict)


def _blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.standard_normal((n, 2)) + np.array([[0, 3], [3, -2], [-3, -2]])[y]).astype(np.float32)
    return TensorDataset(x, y)


def _model():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_learns_and_records_history():
    model = _model()
    train, val = DataLoader(_blobs(), 32, shuffle=True), DataLoader(_blobs(seed=1), 100)
    out = io.StringIO()
    history = fit(model, train, nn.CrossEntropyLoss(), gn.optim.Adam(model.parameters(), 0.01),
                  epochs=5, val_data=val, stream=out)
    h = history.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert len(h["loss"]) == 5 and h["loss"][-1] < h["loss"][0] and h["val_accuracy"][-1] > 0.9
    assert out.getvalue().count("epoch") == 5 and "img/s" in out.getvalue()
    result = evaluate(model, val, nn.CrossEntropyLoss())
    assert result["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    assert predict(model, val).shape == (400, 3)
    assert model.training


def test_quiet_prints_nothing():
    out = io.StringIO()
    fit(_model(), DataLoader(_blobs(), 50), nn.CrossEntropyLoss(),
        gn.optim.SGD(_model().parameters(), 0.1), 1, quiet=True, stream=out)
    assert out.getvalue() == ""


def test_nan_loss_stops_with_epoch_and_step():
    model = _model()
    with gn.no_grad():
        model[0].weight._array[0, 0] = np.nan
    out = io.StringIO()
    history = fit(model, DataLoader(_blobs(), 50), nn.CrossEntropyLoss(),
                  gn.optim.SGD(model.parameters(), 0.1), 3, stream=out)
    assert history.stop_reason.startswith("the loss became nan at epoch 1, step 1")
    assert "training stopped" in out.getvalue() and history.epochs == []


def test_early_stopping_restores_the_best_weights():
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.05)
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    # a learning rate that explodes after epoch 2 makes validation loss rise
    boost = LearningRateScheduler(lambda epoch, lr: 0.05 if epoch <= 2 else 5.0)
    history = fit(model, DataLoader(_blobs(), 20), nn.CrossEntropyLoss(), opt, 10,
                  val_data=DataLoader(_blobs(seed=2), 100), callbacks=[stopper, boost],
                  quiet=True)
    assert history.history["lr"][:3] == [0.05, 0.05, 5.0]
    assert history.stop_reason is not None and len(history.epochs) < 10
    best = min(history.history["val_loss"])
    assert evaluate(model, DataLoader(_blobs(seed=2), 100),
                    nn.CrossEntropyLoss())["loss"] == pytest.approx(best, rel=1e-5)


def test_checkpoint_and_csv_logger(tmp_path):
    model = _model()
    fit(model, DataLoader(_blobs(), 50), nn.CrossEntropyLoss(),
        gn.optim.Adam(model.parameters(), 0.01), 3, val_data=DataLoader(_blobs(seed=1), 100),
        callbacks=[ModelCheckpoint(tmp_path / "best.gn", save_best_only=True),
                   ModelCheckpoint(str(tmp_path / "epoch{epoch}.gn")),
                   CSVLogger(tmp_path / "log.csv")], quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.gn", "epoch1.gn", "epoch2.gn",
                                                          "epoch3.gn", "log.csv"]
    fresh = _model()
    fresh.load_state_dict(gn.load(tmp_path / "epoch3.gn"))
    np.testing.assert_array_equal(fresh[0].weight._array, model[0].weight._array)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"] and "val_accuracy" in rows[0]


def test_monitoring_a_missing_value_says_so():
    with pytest.raises(KeyError, match="'val_loss' is not in the logs"):
        fit(_model(), DataLoader(_blobs(), 50), nn.CrossEntropyLoss(),
            gn.optim.SGD(_model().parameters(), 0.1), 2, callbacks=[EarlyStopping()], quiet=True)
