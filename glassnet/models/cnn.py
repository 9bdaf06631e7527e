"""The notes' convolutional networks."""
from .. import nn
from . import register


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
          (3, 32, 32), dataset="cifar10")
def cnn_cifar(num_classes=10):
    return nn.Sequential(nn.Conv2d(3, 16, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1024, 500), nn.ReLU(),
                         nn.Linear(500, num_classes))
