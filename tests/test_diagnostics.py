"""Gradient diagnostics: the vanishing-gradient experiment's qualitative result, the
recording callback, and clipping taming an exploding RNN — on small, fast settings."""
import json

import numpy as np

import glassnet as gn
import glassnet.nn as nn
import glassnet.nn.functional as F
from glassnet import diagnostics as D
from glassnet.cli import main
from glassnet.train import fit


def test_rnn_gradient_vanishes_and_it_fails_where_the_lstm_learns():
    rnn = D.train_long_range("rnn", steps=40, hidden=16, train_steps=150)
    lstm = D.train_long_range("lstm", steps=40, hidden=16, train_steps=150)
    rnn_ratio = rnn["norms_after"][0] / rnn["norms_after"][-1]
    lstm_ratio = lstm["norms_after"][0] / lstm["norms_after"][-1]
    assert rnn_ratio < 1e-6 and lstm_ratio > 1e-3, (rnn_ratio, lstm_ratio)
    assert lstm["accuracy"] > 0.95 and rnn["accuracy"] < 0.7, (lstm["accuracy"],
                                                               rnn["accuracy"])


def test_clipping_keeps_an_exploding_rnn_finite():
    result = D.clipping_demo(steps=30, hidden=32, scale=4.0)
    assert result["without_clipping"]["diverged"]
    assert not result["with_clipping"]["diverged"]
    assert result["with_clipping"]["final_loss"] < 1.0


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


def _data(n=32, steps=7):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, steps, 3)).astype(np.float32)
    return [(gn.tensor(x[i:i + 8]), gn.tensor((x[i:i + 8, 0, 0] > 0).astype(np.int64)))
            for i in range(0, n, 8)]


def test_gradient_norm_callback_records_layers_and_time_steps(tmp_path):
    gn.manual_seed(0)
    model = _Net()
    recorder = D.GradientNorms(every=2)
    fit(model, _data(), nn.CrossEntropyLoss(), gn.optim.Adam(model.parameters()), 2,
        callbacks=[recorder], quiet=True)
    assert recorder.steps == [1, 3, 5, 7]
    assert set(recorder.layers) == {"lstm", "fc"}
    assert all(len(v) == 4 and min(v) > 0 for v in recorder.layers.values())
    assert list(recorder.hidden) == ["lstm.l0"] and recorder.hidden["lstm.l0"][-1].shape == (7,)
    assert not model.lstm._record                      # switched off after training
    recorder.plot(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000


def test_layer_norms_match_the_gradients_and_probing_leaves_grads_alone():
    gn.manual_seed(0)
    model = _Net()
    x, y = _data()[0]
    F.cross_entropy(model(x), y).backward()
    norms = D.layer_gradient_norms(model)
    expected = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in model.fc.parameters()))
    assert np.isclose(norms["fc"], expected)
    before = model.fc.weight.grad.numpy().copy()
    hidden = D.hidden_gradient_norms(model, x, y, F.cross_entropy)
    assert hidden["lstm.l0"].shape == (7,) and (hidden["lstm.l0"] > 0).all()
    np.testing.assert_array_equal(model.fc.weight.grad.numpy(), before)


def test_diagnose_command_json(tmp_path, capsys):
    assert main(["diagnose", "vanishing", "--quick", "--steps", "20", "--quiet", "--json",
                 "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for kind in ("rnn", "lstm"):
        assert {"accuracy", "grad_ratio_first_to_last", "grad_ratio_first_to_last_at_init"} \
            <= set(result[kind])
    assert set(result["clipping"]) == {"with_clipping", "without_clipping"}
    assert (tmp_path / "hidden_grad_norms.png").exists() and (tmp_path / "loss.png").exists()
