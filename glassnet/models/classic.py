"""The notes' first networks: the perceptron, logistic and softmax regression, the MLP."""
import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..tensor import Tensor
from . import register


class Perceptron(nn.Module):
    """Rosenblatt's perceptron: y_hat = step(w . x + b), learned by the perceptron rule

        w <- w + lr * (y - y_hat) * x,     b <- b + lr * (y - y_hat)

    not by gradient descent: the step's derivative is zero wherever it exists. The
    rule, summed over a batch (with batch size 1 it is the classic online rule), is
    handed to the optimizer as the "gradient" g = -(y - y_hat) x, so plain SGD with
    learning rate lr applies exactly the update above. `fit` calls `train_step`
    instead of loss.backward() for models that define it (Keras' convention).
    """

    def __init__(self, in_features=2):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return F.step(self.linear(x)).reshape(-1)

    def train_step(self, x, y, optimizer):
        """One application of the rule to the batch (x, y); returns (y_hat, error rate)."""
        with no_grad():
            y_hat = self(x)._array
        target = np.asarray(y._array if isinstance(y, Tensor) else y, dtype=y_hat.dtype)
        error = target - y_hat                                     # (N,), in {-1, 0, 1}
        inputs = x._array if isinstance(x, Tensor) else np.asarray(x, dtype=y_hat.dtype)
        self.linear.weight.grad = Tensor(-(error @ inputs)[None, :].astype(y_hat.dtype))
        self.linear.bias.grad = Tensor(np.array([-error.sum()], dtype=y_hat.dtype))
        optimizer.step()
        return Tensor(y_hat), float(np.mean(error != 0))


@register("perceptron", "the perceptron: step(w.x + b), the perceptron learning rule "
          "(2-D points)", (2,), task="binary", dataset="blobs",
          optimizer="sgd", lr=1.0, batch_size=1, epochs=5)
def perceptron(in_features=2):
    return Perceptron(in_features)


@register("logistic", "logistic regression: linear layer + sigmoid, cross-entropy (2-D points)",
          (2,), task="binary", dataset="blobs", optimizer="sgd", lr=0.1, batch_size=16, epochs=10)
def logistic(in_features=2):
    return nn.Sequential(nn.Linear(in_features, 1), nn.Sigmoid(), nn.Flatten(0))


@register("softmax-regression", "one linear layer 784 -> 10, softmax in the loss", (1, 28, 28))
def softmax_regression(num_classes=10):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))


@register("mlp", "784-512-512-10 MLP with ReLU and dropout 0.2 (669,706 params)", (1, 28, 28))
def mlp(num_classes=10, dropout=0.2):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(512, 512), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(512, num_classes))
