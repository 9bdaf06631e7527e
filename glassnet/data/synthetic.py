"""Generated data sets for the notes' first models: separable blobs and sine -> cosine.

Both draw from `numpy.random.SeedSequence(seed)`: whatever both splits share (the
blob centres) comes from the seed itself, and the training and test samples from two
independent child streams of it. So the splits are reproducible, disjoint, and the
test set does not change when the training set's size does.
"""
import numpy as np

from .dataset import TensorDataset

_TRAIN, _TEST = 0, 1


def _streams(seed):
    """(shared generator, [train generator, test generator]) from one seed."""
    root = np.random.SeedSequence(seed)
    shared, train, test = root.spawn(3)
    return np.random.default_rng(shared), [np.random.default_rng(train),
                                           np.random.default_rng(test)]


class Blobs(TensorDataset):
    """Gaussian blobs, one per class, that a linear boundary separates: the perceptron's and
    logistic regression's data. Samples are (float32 point (dim,), int64 label).

    The `centers` blob centres sit `separation` apart (on a line for two classes or
    dim=1, else on a regular polygon in a random plane). Each point is its centre plus
    N(0, spread^2) noise truncated to a ball of radius 0.45 * separation, so balls of
    different classes never touch: every pair of classes is linearly separable, by the
    perpendicular bisector of their centres. Classes are balanced (up to one sample).
    """
    task = "classification"

    def __init__(self, n=200, centers=2, dim=2, spread=0.5, seed=0, train=True, separation=4.0):
        if int(centers) < 2 or int(dim) < 1 or int(n) < 1:
            raise ValueError(f"Blobs: need n >= 1, centers >= 2 and dim >= 1, got n={n}, "
                             f"centers={centers}, dim={dim}")
        if spread <= 0 or separation <= 0:
            raise ValueError(f"Blobs: spread and separation must be > 0, got {spread}, "
                             f"{separation}")
        self.train, self.num_classes, self.input_shape = train, int(centers), (int(dim),)
        shared, split = _streams(seed)
        self.centers = _polygon(shared, self.num_classes, int(dim), separation)
        rng = split[_TRAIN if train else _TEST]
        labels = rng.permutation(np.arange(int(n)) % self.num_classes)
        noise = _truncated_normal(rng, (int(n), int(dim)), spread, 0.45 * separation)
        self.inputs = (self.centers[labels] + noise).astype(np.float32)
        self.targets = labels.astype(np.int64)
        super().__init__(self.inputs, self.targets)
        self.classes = [str(c) for c in range(self.num_classes)]


def _polygon(rng, k, dim, separation):
    """k points, neighbours `separation` apart: evenly spaced on a line if k == 2 or
    dim == 1, else the corners of a regular k-gon in a random plane through 0."""
    if dim == 1 or k == 2:
        offsets = separation * (np.arange(k) - (k - 1) / 2)
        direction = rng.standard_normal(dim)
        return offsets[:, None] * (direction / np.linalg.norm(direction))
    radius = separation / (2 * np.sin(np.pi / k))
    angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k
    plane, _ = np.linalg.qr(rng.standard_normal((dim, 2)))    # orthonormal columns
    return radius * np.stack([np.cos(angles), np.sin(angles)], 1) @ plane.T


def _truncated_normal(rng, shape, std, radius, rounds=100):
    """N(0, std^2 I) vectors redrawn until each lies within `radius` of 0."""
    x = rng.normal(0, std, shape)
    for _ in range(rounds):
        outside = np.linalg.norm(x, axis=1) >= radius
        if not outside.any():
            return x
        x[outside] = rng.normal(0, std, (int(outside.sum()), shape[1]))
    raise ValueError(f"Blobs: spread {std} is too large for separable blobs at this "
                     f"separation; lower spread or raise separation")


class Sine(TensorDataset):
    """sin(t) -> cos(t) sequences for the notes' RNN regression. Samples are
    (float32 (seq_len, 1) of sin(t), float32 (seq_len, 1) of cos(t)) with
    t = phase + step * [0, 1, ..., seq_len - 1] and a random phase in [0, 2 pi) per
    sequence. The cosine is the sine's derivative: the network must learn from the
    sequence where on the wave it is.
    """
    task, num_classes = "regression", None

    def __init__(self, n_sequences=512, seq_len=50, train=True, seed=0, step=0.1, streams=None):
        if int(n_sequences) < 1 or int(seq_len) < 1 or step <= 0:
            raise ValueError(f"Sine: need n_sequences >= 1, seq_len >= 1 and step > 0, got "
                             f"{n_sequences}, {seq_len}, {step}")
        if streams is not None and (int(streams) < 1 or int(n_sequences) % int(streams)):
            raise ValueError(f"Sine: streams must divide n_sequences ({n_sequences}), "
                             f"got {streams}")
        self.train, self.input_shape, self.streams = train, (int(seq_len), 1), streams
        _, split = _streams(seed)
        rng = split[_TRAIN if train else _TEST]
        if streams is None:
            phases = rng.uniform(0, 2 * np.pi, int(n_sequences))
        else:
            # `streams` long waves cut into consecutive chunks: sequence i is chunk
            # i // streams of wave i % streams, so batches of `streams` sequences taken
            # in order continue each other (for stateful RNNs)
            chunk = np.arange(int(n_sequences)) // int(streams)
            phases = rng.uniform(0, 2 * np.pi, int(streams))[np.arange(int(n_sequences))
                                                             % int(streams)]
            phases = phases + step * int(seq_len) * chunk
        t = phases[:, None] + step * np.arange(int(seq_len))
        self.phases = phases
        self.inputs = np.sin(t).astype(np.float32)[..., None]
        self.targets = np.cos(t).astype(np.float32)[..., None]
        super().__init__(self.inputs, self.targets)
