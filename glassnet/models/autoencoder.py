"""Autoencoders: squeeze an image through a small code and rebuild it (unsupervised)."""
from .. import nn
from . import register


class Autoencoder(nn.Module):
    """decoder(encoder(x)); `model.encoder` alone maps images to codes."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


@register("autoencoder", "dense autoencoder 784-128-64-12-3 (tanh) and back to 784 (sigmoid)",
          (1, 28, 28), task="autoencoder", epochs=5)
def autoencoder(code_size=3):
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 64),
                            nn.Tanh(), nn.Linear(64, 12), nn.Tanh(), nn.Linear(12, code_size))
    decoder = nn.Sequential(nn.Linear(code_size, 12), nn.Tanh(), nn.Linear(12, 64), nn.Tanh(),
                            nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 784), nn.Sigmoid(),
                            nn.Unflatten(1, (1, 28, 28)))
    return Autoencoder(encoder, decoder)


@register("conv-autoencoder", "conv encoder 1-16-32 (stride 2) / transposed-conv decoder "
          "32-16-1, sigmoid", (1, 28, 28), task="autoencoder", epochs=3)
def conv_autoencoder():
    encoder = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
                            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU())
    decoder = nn.Sequential(
        nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
    return Autoencoder(encoder, decoder)
