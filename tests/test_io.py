"""Checkpoints: round trip, corruption, atomic writes, and no code execution on load."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.io import CheckpointError


def _state():
    return {"model": {"fc.weight": gn.randn(3, 4), "fc.bias": gn.zeros(3),
                      "steps": gn.tensor(7), "mask": gn.tensor([True, False])},
            "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones((3, 4), np.float32)}},
                          "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                            "nesterov": False, "name": None}]},
            "epoch": 2, "history": [0.5, 0.25, float("inf")], "rng": gn.get_rng_state()}


def test_round_trip_keeps_types_values_and_order(tmp_path):
    state = _state()
    gn.save(state, tmp_path / "ckpt.gn")
    back = gn.load(tmp_path / "ckpt.gn")
    assert list(back["model"]) == list(state["model"])
    for k, v in state["model"].items():
        assert isinstance(back["model"][k], gn.Tensor) and back["model"][k].dtype == v.dtype
        assert back["model"][k].shape == v.shape
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    opt = back["optimizer"]
    assert list(opt["state"]) == [0] and opt["state"][0]["step"] == 3
    assert isinstance(opt["state"][0]["exp_avg"], np.ndarray)
    assert opt["param_groups"][0]["betas"] == (0.9, 0.999) and opt["param_groups"][0]["name"] is None
    assert back["epoch"] == 2 and back["history"] == [0.5, 0.25, float("inf")]
    assert back["rng"] == state["rng"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_rng_state_resumes_the_same_draws():
    gn.manual_seed(3)
    state = gn.get_rng_state()
    a = gn.rand(5).numpy()
    gn.set_rng_state(state)
    np.testing.assert_array_equal(gn.rand(5).numpy(), a)


def test_truncated_and_flipped_files_are_rejected(tmp_path):
    path = tmp_path / "ckpt.gn"
    gn.save(_state(), path)
    data = path.read_bytes()
    (tmp_path / "short.gn").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="short.gn is truncated, corrupt"):
        gn.load(tmp_path / "short.gn")
    flipped = bytearray(data)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("arrays/0.npy")
    flipped[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF   # inside the array data
    (tmp_path / "flipped.gn").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="flipped.gn"):
        gn.load(tmp_path / "flipped.gn")
    (tmp_path / "text.gn").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="text.gn"):
        gn.load(tmp_path / "text.gn")


def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "ckpt.gn"
    gn.save({"w": gn.ones(3)}, path)
    before = path.read_bytes()

    class Boom:
        pass
    with pytest.raises(TypeError, match="Boom"):
        gn.save({"w": gn.zeros(3), "bad": Boom()}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.gn"]
    np.testing.assert_array_equal(gn.load(path)["w"].numpy(), np.ones(3))


def test_a_saved_file_gets_the_permissions_open_would_give(tmp_path):
    """Written through a private temporary file, but not left private: a new file gets
    0666 less the umask, an overwritten one keeps its mode."""
    old = os.umask(0o027)
    try:
        path = tmp_path / "new.gn"
        gn.save({"w": gn.ones(2)}, path)
        assert os.stat(path).st_mode & 0o777 == 0o640
        os.chmod(path, 0o604)
        gn.save({"w": gn.zeros(2)}, path)
        assert os.stat(path).st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


class _Payload:
    def __reduce__(self):
        return (open, (os.environ["GN_PAYLOAD_MARK"], "w"))


def test_a_pickle_payload_is_rejected_not_executed(tmp_path, monkeypatch):
    mark = tmp_path / "executed"
    monkeypatch.setenv("GN_PAYLOAD_MARK", str(mark))
    gn.save({"w": gn.ones(2)}, tmp_path / "good.gn")
    # A crafted archive whose array member is a pickled object array.
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload()
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, evil, allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "good.gn") as src, \
            zipfile.ZipFile(tmp_path / "evil.gn", "w") as dst:
        dst.writestr("structure.json", src.read("structure.json"))
        dst.writestr("arrays/0.npy", buffer.getvalue())
    with pytest.raises(CheckpointError, match="never unpickles"):
        gn.load(tmp_path / "evil.gn")
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps({"w": _Payload()}))
    with pytest.raises(CheckpointError, match="raw.pkl"):
        gn.load(tmp_path / "raw.pkl")
    assert not mark.exists()


def test_unsupported_objects_name_their_place(tmp_path):
    with pytest.raises(TypeError, match=r"save: obj\['a'\]\[1\] is a set"):
        gn.save({"a": [1, {2}]}, tmp_path / "x.gn")
