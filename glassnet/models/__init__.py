"""The notes' networks by name: `glassnet.models.get('cnn-mnist')`, `glassnet.models.names()`."""
from .. import nn

_REGISTRY = {}


def register(name, description, input_size):
    """Add a model builder to the zoo under `name`."""
    def wrap(builder):
        _REGISTRY[name] = (builder, description, tuple(input_size))
        return builder
    return wrap


def names():
    return list(_REGISTRY)


def describe(name):
    """(one-line description, input size without the batch dim)."""
    _, description, input_size = _lookup(name)
    return description, input_size


def get(name, **kwargs):
    """A fresh model of the named architecture."""
    builder, _, _ = _lookup(name)
    return builder(**kwargs)


def _lookup(name):
    if name not in _REGISTRY:
        raise KeyError(f"models: no model named {name!r}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


@register("logistic", "logistic regression: linear layer + sigmoid (2-D inputs)", (2,))
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


@register("cnn-mnist", "the notes' CNN: two 5x5 conv + ReLU + max-pool, linear 1568 -> 10",
          (1, 28, 28))
def cnn_mnist(num_classes=10):
    return nn.Sequential(nn.Conv2d(1, 16, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, num_classes))


@register("cnn-mnist-deep", "four 3x3 conv layers (16-32-64-128), two max-pools, "
          "dense 2048-1024-128-10", (1, 28, 28))
def cnn_mnist_deep(num_classes=10):
    return nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Conv2d(16, 32, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 128, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2048, 1024),
                         nn.ReLU(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, num_classes))


@register("lenet5", "LeNet-5: conv 6 and 16 with tanh and average pooling, dense 120-84-10",
          (1, 28, 28))
def lenet5(num_classes=10):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                         nn.Linear(84, num_classes))


@register("cnn-cifar", "three 2x2 'same' conv layers (16-32-64) with max-pools, dense 500-10",
          (3, 32, 32))
def cnn_cifar(num_classes=10):
    return nn.Sequential(nn.Conv2d(3, 16, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1024, 500), nn.ReLU(),
                         nn.Linear(500, num_classes))
