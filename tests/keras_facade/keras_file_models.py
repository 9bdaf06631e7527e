"""The models of the Keras-file tests, each built by one function in glassnet.keras or in
real Keras (`build(glassnet.keras)`, `build(keras)`), and the helpers both test modules use."""
import json
import zipfile

import numpy as np

rng = np.random.default_rng(7)


def mlp(k):
    L = k.layers
    return k.Sequential([k.Input((8,)), L.Dense(16, activation="relu"), L.Dropout(0.2),
                         L.Dense(3, activation="softmax")])


def cifar_cnn(k):
    """The notes' CIFAR CNN (at 16x16 to stay quick)."""
    L = k.layers
    return k.Sequential([
        k.Input((16, 16, 3)),
        L.Conv2D(filters=8, kernel_size=2, padding="same", activation="relu"),
        L.MaxPool2D(pool_size=2),
        L.Conv2D(filters=16, kernel_size=2, padding="same", activation="relu"),
        L.MaxPool2D(pool_size=2), L.Flatten(), L.Dense(20, activation="relu"),
        L.Dense(10, activation="softmax")])


def residual(k):
    """Functional, with Add, Concatenate and BatchNormalization; the 1x1 branch is made
    first but sits shallower, so Keras's layer order differs from the creation order."""
    L = k.layers
    x = k.Input((6, 6, 3))
    short = L.Conv2D(4, 1)(x)
    a = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(4, 3, padding="same")(x)))
    a = L.Conv2D(4, 3, padding="same")(a)
    h = L.Concatenate()([L.Add()([short, a]), short])
    return k.Model(x, L.Dense(2)(L.Flatten()(L.MaxPooling2D()(h))))


def recurrent(k):
    L = k.layers
    return k.Sequential([k.Input((7,), dtype="int32"), L.Embedding(20, 5),
                         L.Bidirectional(L.LSTM(4, return_sequences=True)),
                         L.GRU(3), L.Dense(2)])


def zoo(k):
    """Every layer class of glassnet.keras.layers in one three-input model."""
    L = k.layers
    img, seq = k.Input((8, 8, 3), name="img"), k.Input((6, 4), name="seq")
    ids = k.Input((5,), dtype="int32", name="ids")
    a = L.MaxPooling2D()(L.BatchNormalization()(L.Conv2D(4, 3, padding="same",
                                                         activation="relu")(img)))
    b = L.AveragePooling2D(2)(L.Conv2D(4, 1)(img))
    m, s, p, v = (L.Add()([a, b]), L.Subtract()([a, b]), L.Multiply()([a, b]),
                  L.Average()([a, b]))
    img_f = L.Concatenate()([L.GlobalAveragePooling2D()(m), L.GlobalMaxPooling2D()(s),
                             L.Flatten()(L.Activation("tanh")(p)), L.Reshape((64,))(v)])
    c = L.Conv1D(5, 2, padding="causal")(seq)
    seq_f = L.Concatenate()([L.GlobalAveragePooling1D()(L.MaxPooling1D()(c)),
                             L.GlobalMaxPooling1D()(L.AveragePooling1D(2)(c)),
                             L.SimpleRNN(3)(seq), L.LSTM(3)(seq)])
    t = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum")(
        L.Embedding(10, 4)(ids))
    h = L.Dropout(0.1)(L.Dense(8, activation="relu")(L.Concatenate()([img_f, seq_f,
                                                                      L.GRU(2)(t)])))
    return k.Model([img, seq, ids], L.Dense(3, activation="softmax")(h))


def variants(k):
    """Options that change a layer's weights or their layout: strides, dilation, no bias,
    BatchNormalization without gamma or beta, RNNs run backwards, merge modes."""
    L = k.layers
    x = k.Input((9, 9, 2))
    h = L.Conv2D(3, (3, 2), strides=(2, 1), use_bias=False)(x)
    h = L.BatchNormalization(center=False, momentum=0.9, epsilon=1e-2)(h)
    h = L.Conv2D(4, 3, dilation_rate=2, padding="same", kernel_initializer="he_normal")(h)
    h = L.Reshape((-1, 4))(L.BatchNormalization(scale=False)(h))
    h = L.SimpleRNN(3, go_backwards=True, return_sequences=True, activation="relu")(h)
    h = L.LSTM(3, unit_forget_bias=False, return_sequences=True, go_backwards=True)(h)
    h = L.Bidirectional(L.GRU(2, use_bias=False), merge_mode="ave")(h)
    return k.Model(x, L.Dense(2, use_bias=False, activation="sigmoid")(h))


def inputs(build, n=3):
    return {mlp: lambda: rng.standard_normal((n, 8)),
            cifar_cnn: lambda: rng.random((n, 16, 16, 3)),
            residual: lambda: rng.standard_normal((n, 6, 6, 3)),
            variants: lambda: rng.standard_normal((n, 9, 9, 2)),
            recurrent: lambda: rng.integers(0, 20, (n, 7)),
            zoo: lambda: [rng.standard_normal((n, 8, 8, 3)), rng.standard_normal((n, 6, 4)),
                          rng.integers(0, 10, (n, 5))]}[build]()


def randomize(model):
    """Weights no initialiser gives (nonzero biases, BatchNormalization statistics), so a
    weight in the wrong place shows."""
    for w in model.weights:
        shape = tuple(w.shape)
        value = rng.uniform(0.5, 1.5, shape) if "variance" in w.path else \
            rng.standard_normal(shape) * 0.3
        w.assign(value.astype(np.float32))
    return model


def same_predictions(ours, theirs, x):
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)


def shared(k):
    """One Dense called three times, at two depths."""
    L = k.layers
    x = k.Input((4,))
    d = L.Dense(4, activation="tanh", name="shared")
    return k.Model(x, L.Add()([d(L.Dense(4, name="middle")(d(x))), d(x)]))


def h5_tree(f):
    """{path: shape of a dataset, or attributes of a group} of an open HDF5 file."""
    import h5py
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(
        name, getattr(obj, "shape", None) if isinstance(obj, h5py.Dataset)
        else dict(obj.attrs)))
    return out


def rewrite(src, dst, config=None, metadata=None, extra=None, drop=()):
    """A copy of the .keras file src with parts replaced: the hostile files of the tests."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist() if n not in drop}
    if config is not None:
        members["config.json"] = json.dumps(config).encode()
    if metadata is not None:
        members["metadata.json"] = json.dumps(metadata).encode()
    members.update(extra or {})
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return dst
