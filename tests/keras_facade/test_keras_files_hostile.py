"""Hostile Keras files: each must be refused with a KerasFileError naming the file and
the layer, class or key, before a model is returned or a weight changes; and writes that
fail leave the old file whole."""
import json
import sys
import zipfile

import numpy as np
import pytest

from .keras_file_models import cifar_cnn, h5_tree, mlp, randomize, rewrite
from .keras_oracle import real_keras

import glassnet.keras as G
from glassnet.keras.saving import KerasFileError

keras, tf = real_keras()
h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.keras"
    randomize(mlp(keras)).save(path)
    with zipfile.ZipFile(path) as z:
        return path, json.loads(z.read("config.json"))


def dense(config):
    """The first Dense layer's entry of a Sequential config."""
    return next(l for l in config["config"]["layers"] if l["class_name"] == "Dense")


def lam(c):
    c["config"]["layers"][1] = {"module": "keras.layers", "class_name": "Lambda",
                                "config": {"name": "lam", "function": {"code": "x"}},
                                "registered_name": None}


HOSTILE_CONFIGS = {
    "lambda": (lam, r"layer 'lam' \(Lambda\).*Python code"),
    "registered_name": (lambda c: dense(c).update(class_name="MyDense",
                                                  registered_name="my_pkg>MyDense"),
                        r"'MyDense' comes from custom code"),
    "module": (lambda c: dense(c).update(module="my_pkg.layers"), r"custom code"),
    "unknown class": (lambda c: dense(c).update(class_name="Conv3D"),
                      r"layer 'dense\w*' \(Conv3D\).*no layer class 'Conv3D'"),
    "unknown key": (lambda c: dense(c)["config"].update(foo=1), r"\(Dense\).*key 'foo'"),
    "non-default keras key": (lambda c: dense(c)["config"].update(
        quantization_config={"mode": "int8"}), r"quantization_config"),
    "dtype policy": (lambda c: dense(c)["config"].update(dtype="mixed_float16"), r"dtype"),
    "custom initializer": (lambda c: dense(c)["config"].update(kernel_initializer={
        "module": "my_pkg", "class_name": "MyInit", "config": {},
        "registered_name": "my_pkg>MyInit"}), r"kernel_initializer.*custom code"),
    "custom activation": (lambda c: dense(c)["config"].update(activation="my_act"),
                          r"activation 'my_act'"),
    "subclassed model": (lambda c: c.update(class_name="MyModel",
                                            registered_name="my_pkg>MyModel"), r"custom code"),
}


@pytest.mark.parametrize("case", list(HOSTILE_CONFIGS))
def test_hostile_configs_are_refused_naming_layer_and_key(case, good_file, tmp_path):
    path, config = good_file
    config = json.loads(json.dumps(config))
    mutate, message = HOSTILE_CONFIGS[case]
    mutate(config)
    bad = rewrite(path, tmp_path / "bad.keras", config=config)
    with pytest.raises(KerasFileError, match=message):
        G.models.load_model(bad)


def hdf5_instead(path, bad):
    with h5py.File(bad, "w") as f:
        f.attrs["model_config"] = "{}"


def units_17(path, bad, config):
    config = json.loads(json.dumps(config))
    dense(config)["config"]["units"] = 17       # the file's kernel is (8, 16)
    rewrite(path, bad, config=config)


HOSTILE_ARCHIVES = {
    "member outside": (lambda p, bad, c: rewrite(p, bad, extra={"../evil.py": b"import os"}),
                       "unexpected member"),
    "not a zip": (lambda p, bad, c: bad.write_bytes(b"#!/bin/sh\necho hello\n" * 10),
                  "not a zip archive"),
    "hdf5": (lambda p, bad, c: hdf5_instead(p, bad), "HDF5 file"),
    "newer keras": (lambda p, bad, c: rewrite(p, bad, metadata={"keras_version": "4.0.0"}),
                    "written by Keras 4.0.0"),
    "no config": (lambda p, bad, c: rewrite(p, bad, drop=("config.json",)), "no config.json"),
    "bad json": (lambda p, bad, c: rewrite(p, bad, extra={"config.json": b"{'a': Seq"}),
                 "not valid JSON"),
    "deep json": (lambda p, bad, c: rewrite(p, bad, extra={
        "config.json": b"[" * 5000 + b"]" * 5000}), "nests 5000 levels"),
    "weights shape": (units_17, r"shape \(8, 16\).*\(8, 17\)"),
}


@pytest.mark.parametrize("case", list(HOSTILE_ARCHIVES))
def test_hostile_archives_are_refused(case, good_file, tmp_path):
    path, config = good_file
    make, message = HOSTILE_ARCHIVES[case]
    make(path, tmp_path / "bad.keras", config)
    with pytest.raises(KerasFileError, match=message):
        G.models.load_model(tmp_path / "bad.keras")


# ------------------------------------------------------------- hostile weights files
def test_a_mismatch_changes_no_weight(tmp_path):
    src, dst = randomize(cifar_cnn(G)), randomize(cifar_cnn(G))
    src.save_weights(tmp_path / "w.h5")
    src.save_weights(tmp_path / "w.weights.h5")
    for name in ("w.h5", "w.weights.h5"):
        with h5py.File(tmp_path / name, "a") as f:      # break the last Dense's bias
            path = [p for p in h5_tree(f) if p.endswith(("bias:0", "vars/1"))][-1]
            del f[path]
            f[path] = np.zeros(7, np.float32)
    before = dst.get_weights()
    for name in ("w.h5", "w.weights.h5"):
        with pytest.raises(KerasFileError, match=r"shape \(7,\).*\(10,\)"):
            dst.load_weights(tmp_path / name)
        for a, b in zip(dst.get_weights(), before):
            np.testing.assert_array_equal(a, b)


def test_layer_count_mismatch_and_extra_layers(tmp_path):
    mlp(G).save_weights(tmp_path / "w.h5")
    mlp(G).save_weights(tmp_path / "w.weights.h5")
    L = G.layers
    bigger = G.Sequential([G.Input((8,)), L.Dense(16), L.Dense(16), L.Dense(3)])
    with pytest.raises(KerasFileError, match="2 layer.*the model has 3"):
        bigger.load_weights(tmp_path / "w.h5")
    smaller = G.Sequential([G.Input((8,)), L.Dense(16)])
    with pytest.raises(KerasFileError, match="layers/dense_1, for a layer this model does "
                                             "not have"):
        smaller.load_weights(tmp_path / "w.weights.h5")
    with pytest.raises(KerasFileError, match="by_name"):
        smaller.load_weights(tmp_path / "w.weights.h5", by_name=True)


@pytest.mark.parametrize("kind", ["external link", "soft link", "external dataset"])
def test_links_out_of_the_file_are_refused(kind, tmp_path):
    model = mlp(G)
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "secret.bin").write_bytes(np.ones(48, np.float32).tobytes())
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/1"]
        if kind == "external link":
            f["layers/dense/vars/1"] = h5py.ExternalLink("other.h5", "/x")
        elif kind == "soft link":
            f["layers/dense/vars/1"] = h5py.SoftLink("/layers/dense_1/vars/1")
        else:
            f["layers/dense/vars"].create_dataset(
                "1", (16,), np.float32, external=[(str(tmp_path / "secret.bin"), 0, 64)])
    with pytest.raises(KerasFileError, match="link out|outside this file"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_not_an_hdf5_file(tmp_path):
    (tmp_path / "w.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(KerasFileError, match="not an HDF5 file"):
        mlp(G).load_weights(tmp_path / "w.h5")


# ----------------------------------------------------------------- writing safely
def test_writes_are_atomic_and_respect_overwrite(tmp_path, monkeypatch):
    import glassnet.io
    model = randomize(mlp(G))
    target = tmp_path / "m.keras"
    model.save(target)
    before = target.read_bytes()

    def crash(fd):
        raise OSError("disk full")
    monkeypatch.setattr(glassnet.io.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        randomize(model).save(target)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(tmp_path / "w.h5")
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    with pytest.raises(FileExistsError):
        model.save(target, overwrite=False)


def test_without_h5py_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        mlp(G).save_weights(tmp_path / "w.h5")
