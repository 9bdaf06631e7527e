"""Recurrent models of the notes: an LSTM that reads an MNIST image row by row, its
bidirectional and GRU variants, and an RNN that turns sin(t) into cos(t)."""
from .. import nn
from . import register


class SequenceClassifier(nn.Module):
    """Read an image's rows as time steps — (N, 1, 28, 28) becomes 28 steps of 28
    inputs — through a recurrent layer, and classify from the last step's output."""

    def __init__(self, kind="lstm", input_size=28, hidden_size=64, num_layers=1,
                 bidirectional=False, num_classes=10):
        super().__init__()
        layers = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
        self.rnn = layers[kind](input_size, hidden_size, num_layers=num_layers,
                                batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        if x.ndim == 4:                  # (N, 1, H, W) images: H steps of W values
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


class SequenceRegressor(nn.Module):
    """An RNN with a linear head on every step: (N, T, 1) -> (N, T, 1).

    Stateful, as the notes' time-series example: the final hidden state of one batch
    is the initial state of the next (detached, so backpropagation through time is
    truncated at the batch boundary) as long as the batch size stays the same;
    `reset_states()` starts afresh (`fit` and `evaluate` call it at each epoch).
    """

    def __init__(self, input_size=1, hidden_size=32, output_size=1, stateful=True):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        self.stateful, self.state = stateful, None

    def reset_states(self):
        self.state = None

    def forward(self, x):
        state = self.state
        if state is not None and state.shape[1] != x.shape[0]:
            state = None
        out, h = self.rnn(x, state)
        if self.stateful:
            self.state = h.detach()
        return self.head(out)


@register("lstm-mnist", "LSTM (hidden 64) over the 28 rows of an MNIST image, last output "
          "-> linear 10", (1, 28, 28), optimizer="adam", lr=3e-3, epochs=2)
def lstm_mnist(num_classes=10, hidden_size=64):
    return SequenceClassifier("lstm", 28, hidden_size, num_classes=num_classes)


@register("bilstm-mnist", "2-layer bidirectional LSTM (hidden 64) over the rows of an MNIST "
          "image -> linear 10", (1, 28, 28), optimizer="adam", lr=3e-3, epochs=2)
def bilstm_mnist(num_classes=10, hidden_size=64):
    return SequenceClassifier("lstm", 28, hidden_size, num_layers=2, bidirectional=True,
                              num_classes=num_classes)


@register("gru-mnist", "GRU (hidden 64) over the 28 rows of an MNIST image -> linear 10",
          (1, 28, 28), optimizer="adam", lr=3e-3, epochs=2)
def gru_mnist(num_classes=10, hidden_size=64):
    return SequenceClassifier("gru", 28, hidden_size, num_classes=num_classes)


@register("rnn-regression", "RNN (hidden 32) + per-step linear head: cos(t) from sin(t), "
          "state carried across batches", (50, 1), task="regression", dataset="sine",
          optimizer="adam", lr=0.01, batch_size=32, epochs=20)
def rnn_regression(hidden_size=32):
    return SequenceRegressor(1, hidden_size, 1)
