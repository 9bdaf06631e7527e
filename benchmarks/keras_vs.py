"""The notes' Keras networks trained three ways, each in its own fresh process, alternating:
real Keras (TensorFlow's CPU backend), the same program on glassnet.keras, and the same
network written with glassnet.nn and a plain training loop (its "twin").

    python benchmarks/keras_vs.py [--rounds 5] [--workloads mlp cnn] [--quick] [--json]

Each framework is used as its users use it, at its own default settings: Keras and
glassnet.keras through `model.fit(x, y, batch_size, epochs=1)` on arrays in memory (one
untimed fit first: TensorFlow traces its graph there), the twin through a loop of forward,
loss, backward and step over in-memory batches. All three start from the same weights (the
parent writes them once, in Keras's layout; the twin's first Dense after Flatten gets its
rows reordered from Keras's (H, W, C) flattening to glassnet.nn's (C, H, W)) and the parent
checks that their losses on the first batch agree before timing anything.

Workloads: `mlp`, the notes' MNIST MLP (Flatten, Dense 512 relu, Dropout 0.2, Dense 512
relu, Dropout 0.2, Dense 10 softmax; 669,706 parameters; batch 128) and `cnn`, the notes'
CIFAR-10 CNN (three Conv2D 2x2 'same' relu + MaxPool2D blocks of 16, 32, 64 filters,
Flatten, Dense 500 relu, Dense 10 softmax; 528,054 parameters; batch 32), both with RMSprop
and categorical cross-entropy on one-hot targets, as the notes compile them.
"""
import sys

FRAMEWORKS = ("keras", "glassnet.keras", "glassnet.nn")

if __name__ == "__main__" and "--child" in sys.argv:
    if sys.argv[sys.argv.index("--child") + 1].startswith("glassnet"):
        import glassnet  # noqa: F401  (first, before NumPy, as the README says)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

WORKLOADS = {"mlp": dict(shape=(28, 28), batch=128, samples=8192),
             "cnn": dict(shape=(32, 32, 3), batch=32, samples=2048)}


def keras_model(L, Sequential, name):
    """The notes' network in any Keras-shaped API (real Keras or glassnet.keras)."""
    if name == "mlp":
        layers = [L.Input(shape=(28, 28)), L.Flatten(), L.Dense(512, activation="relu"),
                  L.Dropout(0.2), L.Dense(512, activation="relu"), L.Dropout(0.2),
                  L.Dense(10, activation="softmax")]
    else:
        layers = [L.Input(shape=(32, 32, 3))]
        for filters in (16, 32, 64):
            layers += [L.Conv2D(filters=filters, kernel_size=2, padding="same",
                                activation="relu"), L.MaxPooling2D(pool_size=2)]
        layers += [L.Flatten(), L.Dense(500, activation="relu"),
                   L.Dense(10, activation="softmax")]
    return Sequential(layers)


def twin(name):
    """The same network in glassnet.nn (channels-first, logits out)."""
    from glassnet import nn
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 10))
    blocks, c = [], 3
    for filters in (16, 32, 64):
        blocks += [nn.Conv2d(c, filters, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2)]
        c = filters
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(1024, 500), nn.ReLU(),
                         nn.Linear(500, 10))


def twin_state(name, weights):
    """Keras-layout weights as the twin's state dict."""
    keys = [k for k, _ in twin(name).state_dict().items()]
    state = {}
    for i, (key, w) in enumerate(zip(keys, weights)):
        if w.ndim == 4:                                   # (kh, kw, in, out) -> (out, in, kh, kw)
            w = w.transpose(3, 2, 0, 1)
        elif w.ndim == 2:
            if name == "cnn" and w.shape[0] == 1024:      # rows in (H, W, C) -> (C, H, W) order
                w = w.reshape(4, 4, 64, -1).transpose(2, 0, 1, 3).reshape(1024, -1)
            w = w.T
        state[key] = np.ascontiguousarray(w)
    return state


# ------------------------------------------------------------------- the child
def child(framework, name, directory, warmup, seconds):
    spec = WORKLOADS[name]
    data = np.load(os.path.join(directory, "data.npz"))
    x, y = data["x"], data["y"]
    weights = [data[f"w{i}"] for i in range(int(data["count"]))]
    if framework == "glassnet.nn":
        return _child_twin(name, spec, x, y, weights, warmup, seconds)
    if framework == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
        L, Sequential, optimizer = keras.layers, keras.Sequential, keras.optimizers.RMSprop()
    else:
        import glassnet.keras as keras
        L, Sequential, optimizer = keras.layers, keras.models.Sequential, \
            keras.optimizers.RMSprop()
    model = keras_model(L, Sequential, name)
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    loss = float(model.evaluate(x[:spec["batch"]], y[:spec["batch"]], verbose=0)[0])
    for _ in range(warmup):
        model.fit(x[:spec["batch"] * 4], y[:spec["batch"] * 4], batch_size=spec["batch"],
                  epochs=1, verbose=0)
    return _timed(lambda: model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0),
                  len(x), seconds, loss)


def _child_twin(name, spec, x, y, weights, warmup, seconds):
    import glassnet as gn
    model = twin(name)
    model.load_state_dict({k: gn.from_numpy(v) for k, v in twin_state(name, weights).items()})
    optimizer = gn.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7,
                                 eps_inside=True)
    inputs = x.transpose(0, 3, 1, 2).copy() if x.ndim == 4 else x
    targets = y.argmax(1)
    batch = spec["batch"]
    model.eval()
    with gn.no_grad():
        loss = float(gn.nn.functional.cross_entropy(model(gn.from_numpy(inputs[:batch])),
                                                    gn.from_numpy(targets[:batch])))
    model.train()

    def epoch(n=len(inputs)):
        order = np.random.default_rng().permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            out = model(gn.from_numpy(inputs[idx]))
            value = gn.nn.functional.cross_entropy(out, gn.from_numpy(targets[idx]))
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
    for _ in range(warmup):
        epoch(batch * 4)
    return _timed(epoch, len(inputs), seconds, loss)


def _timed(run_epoch, samples, seconds, loss):
    start, done = time.perf_counter(), 0
    while True:
        run_epoch()
        done += samples
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"loss": loss, "samples": done, "seconds": elapsed,
                    "images_per_second": done / elapsed}


# ------------------------------------------------------------------ the parent
def prepare(name, directory):
    """Data and initial weights (Keras layout) for `name`, written to directory."""
    import glassnet.keras as gk
    spec = WORKLOADS[name]
    rng = np.random.default_rng(0)
    x = rng.random((spec["samples"],) + spec["shape"], dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, spec["samples"])]
    weights = keras_model(gk.layers, gk.models.Sequential, name).get_weights()
    np.savez(os.path.join(directory, "data.npz"), x=x, y=y, count=len(weights),
             **{f"w{i}": w for i, w in enumerate(weights)})


def run_child(framework, name, directory, warmup, seconds):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", framework,
                           name, directory, "--warmup", str(warmup), "--seconds", str(seconds)],
                          capture_output=True, text=True, env=dict(os.environ))
    if proc.returncode != 0:
        raise RuntimeError(f"the {framework} child failed on {name}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(name, rounds, warmup, seconds):
    rates = {f: [] for f in FRAMEWORKS}
    losses = {}
    with tempfile.TemporaryDirectory() as directory:
        prepare(name, directory)
        for r in range(rounds):
            order = FRAMEWORKS[r % 3:] + FRAMEWORKS[:r % 3]      # rotated every round
            for framework in order:
                report = run_child(framework, name, directory, warmup, seconds)
                rates[framework].append(report["images_per_second"])
                losses[framework] = report["loss"]
    spread = max(losses.values()) - min(losses.values())
    if spread > 1e-3 * max(losses.values()):
        raise AssertionError(f"{name}: the three start from different losses {losses}")
    medians = {f: statistics.median(v) for f, v in rates.items()}
    return {"workload": name, "images_per_second": medians, "rounds": rates, "loss": losses,
            "glassnet.keras / keras": medians["glassnet.keras"] / medians["keras"],
            "glassnet.keras / glassnet.nn": medians["glassnet.keras"] / medians["glassnet.nn"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 round, short runs (CI)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "WORKLOAD", "DIR"))
    args = parser.parse_args(argv)
    if args.child:
        framework, name, directory = args.child
        report = child(framework, name, directory, args.warmup, args.seconds)
        print(json.dumps({"framework": framework, **report}))
        return report
    rounds, seconds = (1, 0.0) if args.quick else (args.rounds, args.seconds)
    results = [measure(name, rounds, 1 if args.quick else args.warmup, seconds)
               for name in args.workloads]
    print(f"{'workload':9s} " + " ".join(f"{f + ' img/s':>20s}" for f in FRAMEWORKS)
          + f" {'gk/keras':>9s} {'gk/nn':>7s}")
    for r in results:
        print(f"{r['workload']:9s} " + " ".join(f"{r['images_per_second'][f]:20.1f}"
                                                for f in FRAMEWORKS)
              + f" {r['glassnet.keras / keras']:9.2f} {r['glassnet.keras / glassnet.nn']:7.2f}")
    if args.json:
        print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
