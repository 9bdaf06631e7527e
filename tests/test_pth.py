"""PyTorch's checkpoint files: glassnet reads what torch.save writes (ZIP and legacy), torch
reads what gn.save(format="torch") writes, and hostile files fail cleanly without running."""
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.io import CheckpointError
from glassnet.pth_pickle import DTYPES
from glassnet.pth_write import _Pickle

DTYPE_CASES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
               "uint8", "bool"]


def _torch_tensor(name, shape=(3, 4)):
    g = torch.Generator().manual_seed(0)
    values = torch.randn(shape, generator=g) * 50
    return values > 0 if name == "bool" else values.to(getattr(torch, name))


def _expected(t):
    """What glassnet should hold for torch tensor t: bfloat16 widened exactly to float32."""
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def _same(ours, theirs):
    assert isinstance(ours, gn.Tensor) and not ours.requires_grad
    expected = _expected(theirs)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_array_equal(ours.numpy(), expected)


def _torch_save(obj, path, legacy=False):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


# ------------------------------------------------------------------- torch -> glassnet
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", DTYPE_CASES)
def test_every_state_dict_dtype_reads_as_torch_wrote_it(tmp_path, name, legacy):
    state = {"t": _torch_tensor(name), "scalar": _torch_tensor(name, ()),
             "empty": _torch_tensor(name, (0, 3))}
    back = gn.load(_torch_save(state, tmp_path / "x.pth", legacy))
    for key in state:
        _same(back[key], state[key])


def test_bfloat16_widens_to_the_exact_float32(tmp_path):
    # zero, -0, 1, -123.5, inf, -inf, the smallest subnormal, NaN
    pattern = np.array([0x0000, 0x8000, 0x3F80, 0xC2F7, 0x7F80, 0xFF80, 0x0001, 0x7FC0], np.uint16)
    bits = torch.from_numpy(pattern.view(np.int16)).view(torch.bfloat16)
    back = gn.load(_torch_save({"b": bits}, tmp_path / "b.pth"))["b"].numpy()
    assert back.dtype == np.float32
    bits32 = back.view(np.uint32)
    assert ((bits32 >> 16) == pattern).all() and not (bits32 & 0xFFFF).any()
    np.testing.assert_array_equal(back, bits.float().numpy())


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_keep_their_strides_and_share_one_buffer(tmp_path, legacy):
    w = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = {"w": w, "wt": w.t(), "row": w[2], "step": w[::2, 1::3], "tail": w.view(-1)[5:]}
    back = gn.load(_torch_save(state, tmp_path / "v.pth", legacy))
    for key, t in state.items():
        _same(back[key], t)
        assert back[key].numpy().strides == tuple(s * 4 for s in t.stride())
        assert np.shares_memory(back[key].numpy(), back["w"].numpy())
    back["w"].numpy()[2, 0] = -1.0                   # one storage, as in torch
    assert back["row"].numpy()[0] == -1.0 and back["wt"].numpy()[0, 2] == -1.0


def test_nested_containers_come_back_as_they_were(tmp_path):
    w = torch.ones(2)
    state = {"model": OrderedDict(a=w, b=torch.zeros(1, dtype=torch.int64)),
             "list": [1, 2.5, "x", None, True, 2 ** 70, -5, (w, {"k": [w]})],
             3: (), "empty": {}, "optimizer": {"state": {0: {"step": torch.tensor(4.0)}}}}
    back = gn.load(_torch_save(state, tmp_path / "n.pth"))
    assert type(back) is dict and type(back["model"]) is OrderedDict
    assert list(back["model"]) == ["a", "b"]
    assert back["list"][:7] == [1, 2.5, "x", None, True, 2 ** 70, -5] and back[3] == ()
    assert back["empty"] == {} and back["optimizer"]["state"][0]["step"].item() == 4.0
    inner = back["list"][7]
    assert type(inner) is tuple and inner[1]["k"][0] is inner[0]   # one tensor, shared as pickled


def test_parameters_and_uint16_tensors_load_as_plain_tensors(tmp_path):
    state = {"p": torch.nn.Parameter(torch.randn(3)), "u": torch.tensor([1, 2, 65535],
                                                                         dtype=torch.uint16)}
    back = gn.load(_torch_save(state, tmp_path / "p.pth"))
    _same(back["p"], state["p"].detach())
    assert back["u"].dtype == np.uint16 and back["u"].numpy().tolist() == [1, 2, 65535]


def test_the_format_is_told_by_content_not_by_name(tmp_path):
    _torch_save({"w": torch.ones(2)}, tmp_path / "torch.gn")
    gn.save({"w": gn.ones(2)}, tmp_path / "glassnet.pth")
    assert gn.load(tmp_path / "torch.gn")["w"].numpy().tolist() == [1.0, 1.0]
    assert gn.load(tmp_path / "glassnet.pth")["w"].numpy().tolist() == [1.0, 1.0]


# ------------------------------------------------------------------- glassnet -> torch
def test_torch_reads_every_dtype_glassnet_writes(tmp_path):
    rng = np.random.default_rng(0)
    state = OrderedDict((name, gn.from_numpy((rng.standard_normal((3, 2)) * 50).astype(name)))
                        for name in ["float32", "float64", "float16", "int64", "int32", "int16",
                                     "int8", "uint8", "bool", "uint16"])
    state["scalar"], state["empty"] = gn.tensor(7), gn.zeros(0, 4)
    state["array"] = np.arange(6, dtype=np.float64).reshape(2, 3)     # arrays become tensors
    gn.save(state, tmp_path / "g.pth", format="torch")
    back = torch.load(tmp_path / "g.pth", weights_only=True)
    assert type(back) is OrderedDict and list(back) == list(state)
    for key, value in state.items():
        expected = np.asarray(value)
        assert back[key].numpy().dtype == expected.dtype and back[key].shape == expected.shape
        np.testing.assert_array_equal(back[key].numpy(), expected)


def test_torch_reads_glassnet_views_with_their_strides_and_storage(tmp_path):
    w = gn.from_numpy(np.arange(24, dtype=np.float32).reshape(4, 6))
    state = {"w": w, "wt": w.t(), "step": w[::2, 1::3], "tail": gn.from_numpy(w.numpy()[1:, 2:])}
    gn.save(state, tmp_path / "v.pth", format="torch")
    back = torch.load(tmp_path / "v.pth", weights_only=True)
    for key, value in state.items():
        np.testing.assert_array_equal(back[key].numpy(), value.numpy())
        assert back[key].stride() == tuple(s // 4 for s in value.numpy().strides)
        assert back[key].untyped_storage().data_ptr() == back["w"].untyped_storage().data_ptr()
    again = gn.load(tmp_path / "v.pth")                          # and back: still one buffer
    assert np.shares_memory(again["step"].numpy(), again["w"].numpy())


def test_a_view_writes_only_the_span_it_covers(tmp_path):
    big = np.arange(10 ** 6, dtype=np.float32)
    gn.save({"part": gn.from_numpy(big[1000:1010])}, tmp_path / "s.pth", format="torch")
    assert os.path.getsize(tmp_path / "s.pth") < 4096
    part = torch.load(tmp_path / "s.pth", weights_only=True)["part"]
    assert part.tolist() == list(range(1000, 1010))


def test_nested_containers_reach_torch_as_they_were(tmp_path):
    state = {"epoch": 3, "history": [0.5, float("inf"), -2 ** 40, 2 ** 70], "name": "né",
             "groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "x": None,
                         "flag": False, "one": (1,), "four": (1, 2, 3, 4)}], 7: {}}
    gn.save(state, tmp_path / "c.pth", format="torch")
    assert torch.load(tmp_path / "c.pth", weights_only=True) == state
    assert gn.load(tmp_path / "c.pth") == state


def test_the_archive_is_laid_out_as_torch_lays_it_out(tmp_path):
    gn.save({"a": gn.ones(3), "b": gn.zeros(5, dtype=gn.int64)}, tmp_path / "net.pth",
            format="torch")
    data = (tmp_path / "net.pth").read_bytes()
    with zipfile.ZipFile(tmp_path / "net.pth") as z:
        names = z.namelist()
        assert names == ["net/data.pkl", "net/.format_version", "net/.storage_alignment",
                         "net/byteorder", "net/data/0", "net/data/1", "net/version",
                         "net/.data/serialization_id"]
        assert z.read("net/byteorder") == b"little" and z.read("net/version") == b"3\n"
        for info in z.infolist():                    # every member's data 64-byte aligned
            name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:
                                                                  info.header_offset + 30])
            assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0
            assert info.compress_type == zipfile.ZIP_STORED
    assert torch.load(tmp_path / "net.pth", weights_only=True, mmap=True)["b"].dtype == torch.int64


def test_format_choices_and_atomic_failure(tmp_path):
    gn.save({"w": gn.ones(2)}, tmp_path / "a", format="glassnet")
    with zipfile.ZipFile(tmp_path / "a") as z:
        assert "structure.json" in z.namelist()
    with pytest.raises(ValueError, match="format must be 'glassnet' or 'torch', got 'onnx'"):
        gn.save({"w": gn.ones(2)}, tmp_path / "b", format="onnx")
    gn.save({"w": gn.ones(2)}, tmp_path / "c.pth", format="torch")
    before = (tmp_path / "c.pth").read_bytes()
    with pytest.raises(TypeError, match="float128|longdouble|PyTorch dtype"):
        gn.save({"w": np.zeros(2, np.longdouble)}, tmp_path / "c.pth", format="torch")
    with pytest.raises(TypeError, match=r"obj\['m'\] is a Linear"):
        gn.save({"m": nn.Linear(2, 2)}, tmp_path / "c.pth", format="torch")
    assert (tmp_path / "c.pth").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["a", "c.pth"]


# ------------------------------------------------------------------ a CNN, both ways
def _cnns():
    def build(lib):
        L = lib.nn
        return L.Sequential(L.Conv2d(1, 4, 3, padding=1), L.BatchNorm2d(4), L.ReLU(),
                            L.MaxPool2d(2), L.Conv2d(4, 6, 3), L.BatchNorm2d(6), L.ReLU(),
                            L.Flatten(), L.Linear(6 * 2 * 2, 5))
    torch.manual_seed(0)
    gn.manual_seed(0)
    return build(torch), build(gn)


def test_a_cnn_moves_from_torch_to_glassnet_and_back(tmp_path):
    theirs, ours = _cnns()
    x = np.random.default_rng(1).standard_normal((3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        for _ in range(2):                          # non-trivial running statistics
            theirs(torch.from_numpy(x) * 2 + 1)
    theirs.eval()
    ours.eval()
    torch.save(theirs.state_dict(), tmp_path / "net.pth")
    ours.load_state_dict(gn.load(tmp_path / "net.pth"))
    assert ours.state_dict()["1.num_batches_tracked"].item() == 2
    with gn.no_grad():
        np.testing.assert_allclose(ours(gn.from_numpy(x)).numpy(),
                                   theirs(torch.from_numpy(x)).detach().numpy(), atol=1e-5)

    ours.train()
    with gn.no_grad():
        ours(gn.from_numpy(x) * 3 - 1)              # glassnet's own statistics now
    ours.eval()
    gn.save(ours.state_dict(), tmp_path / "ours.pth", format="torch")
    fresh = _cnns()[0].eval()
    fresh.load_state_dict(torch.load(tmp_path / "ours.pth", weights_only=True))
    assert fresh[1].num_batches_tracked.dtype == torch.int64 and fresh[1].num_batches_tracked == 3
    with gn.no_grad():
        np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(),
                                   ours(gn.from_numpy(x)).numpy(), atol=1e-5)


# --------------------------------------------------------------------- hostile files
def _archive(path, pickled, storages=(), byteorder=b"little", compression=zipfile.ZIP_STORED):
    """A torch-style ZIP checkpoint with the given pickle and storage members."""
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", byteorder)
        for key, data in storages:
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", b"3\n")
    return path


def _one_tensor(offset=0, shape=(2, 3), strides=(3, 1), numel=6, dtype="float32"):
    """The pickle of {"w": tensor} with the given layout, as pth_write emits it."""
    placement = (0, DTYPES[dtype], offset, shape, strides, numel)
    return _Pickle([placement]).dumps({"__dict__": [["w", {"__array__": 0}]]})


def _legacy(pickled, storages=b"", keys=("0",)):
    """A legacy-format file: magic, protocol, system info, pickled object, keys, storages."""
    head = b"".join(pickle.dumps(v, protocol=2) for v in (
        0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}))
    return head + pickled + pickle.dumps(list(keys), protocol=2) + storages


class _Evil:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def test_the_crafting_helpers_make_files_both_libraries_read(tmp_path):
    values = np.arange(6, dtype=np.float32)
    path = _archive(tmp_path / "ok.pth", _one_tensor(), [(0, values.tobytes())])
    np.testing.assert_array_equal(torch.load(path, weights_only=True)["w"].numpy(),
                                  values.reshape(2, 3))
    np.testing.assert_array_equal(gn.load(path)["w"].numpy(), values.reshape(2, 3))
    big = _archive(tmp_path / "big.pth", _one_tensor(), [(0, values.astype(">f4").tobytes())],
                   byteorder=b"big")
    np.testing.assert_array_equal(gn.load(big)["w"].numpy(), values.reshape(2, 3))
    legacy = tmp_path / "legacy.pth"
    pid_pickle = pickle.dumps({"w": 1}, protocol=2)      # no tensors: framing only
    legacy.write_bytes(_legacy(pid_pickle, keys=()))
    assert gn.load(legacy) == {"w": 1}


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("fn, shown", [(os.system, "posix.system"), (eval, "__builtin__.eval"),
                                       # protocol 2 names subprocess by its Python 2 name
                                       (__import__("subprocess").Popen, "commands.Popen")])
def test_code_in_a_pickle_never_runs(tmp_path, layout, fn, shown):
    marker = tmp_path / "ran"
    command = f"open({str(marker)!r}, 'w')" if fn is eval else (
        f"touch {marker}" if fn is os.system else ["touch", str(marker)])
    pickled = pickle.dumps({"w": _Evil(fn, command)}, protocol=2)
    path = tmp_path / "evil.pth"
    if layout == "zip":
        _archive(path, pickled)
    else:
        path.write_bytes(_legacy(pickled, keys=()))
    with pytest.raises(CheckpointError, match=rf"evil.pth: refuses global {shown}; a \.pth may "
                                              "hold only tensors and containers"):
        gn.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("pickled, message", [
    (b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93.", "refuses global os.system"),  # STACK_GLOBAL
    (b"(ios\nsystem\nS'true'\np0\n.", "refuses global os.system"),                    # INST
    (b"\x80\x02ccollections\nOrderedDict.fromkeys\n.",
     "refuses global collections.OrderedDict.fromkeys"),
    (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2.__globals__\n.", "refuses global torch._utils"),
    (b"\x80\x02ccollections\nOrderedDict\ncos\nsystem\n\x85R.", "refuses global os.system"),
    (b"\x80\x02ctorch\nComplexFloatStorage\n.", "glassnet has no complex"),
    (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x03\x00\x00\x00abcK\x00))\x89NtR.",
     "a tensor's storage must be a persistent storage, got str 'abc'"),
    (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}b.", "tries to set the state of torch._utils"),
    (b"\x80\x02ctorch\nFloatStorage\n)R.", "not callable"),
    (b"\x80\x02ctorch\nFloatStorage\n.", "holds torch.FloatStorage as a value"),
    (b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00"
     b"\x00cpuK\x01tQ.", "holds a bare storage"),
    (b"\x80\x02X\x05\x00\x00\x00helloQ.", "unknown persistent id"),
    (b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".", "nests deeper than 200 levels"),
    (b"\x80\x02X\xff\xff\xff\x7fabc.", "refuses its pickle: truncated or corrupt"),
    (b"\x80\x02}q\x00(X\x01\x00\x00\x00aX\x01", "refuses its pickle: truncated or corrupt"),
])
def test_hostile_pickles_are_refused_by_name(tmp_path, pickled, message):
    with pytest.raises(CheckpointError, match=r"h\.pth: .*" + message.replace(".", r"\.")):
        gn.load(_archive(tmp_path / "h.pth", pickled, [(0, b"\0" * 4)]))


def test_a_whole_model_is_refused_with_a_hint(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pth")
    with pytest.raises(CheckpointError, match="refuses global torch.nn.modules.linear.Linear; "
                                              r"save model.state_dict\(\), not the model"):
        gn.load(tmp_path / "model.pth")


@pytest.mark.parametrize("layout, storage, message", [
    (dict(numel=6), b"\0" * 8, "storage '0' holds 8 bytes, the pickle claims 24"),
    (dict(numel=2 ** 60), b"\0" * 24, "the pickle claims 4.0 EiB"),
    (dict(offset=5), b"\0" * 24, r"offset 5 reaches element 11 of a float32 storage of 6"),
    (dict(shape=(2 ** 40,), strides=(1,)), b"\0" * 24, "reaches element 1099511627776"),
    (dict(shape=(2, 3), strides=(3, 2)), b"\0" * 24, "reaches element 8"),
    (dict(shape=(2, 3), strides=(3,)), b"\0" * 24, r"has size \(2, 3\) but stride \(3,\)"),
    (dict(numel=3, dtype="bool", shape=(3,), strides=(1,)), b"\0\1\2", "bytes other than 0 and 1"),
])
def test_layouts_outside_their_storage_are_refused(tmp_path, layout, storage, message):
    with pytest.raises(CheckpointError, match=r"x\.pth: .*" + message):
        gn.load(_archive(tmp_path / "x.pth", _one_tensor(**layout), [(0, storage)]))


def test_damaged_archives_are_refused(tmp_path):
    good = _torch_save({"w": torch.arange(64, dtype=torch.float32)}, tmp_path / "good.pth")
    data = good.read_bytes()
    (tmp_path / "half.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="half.pth is truncated, corrupt or not a glassnet "
                                              "checkpoint nor a PyTorch file"):
        gn.load(tmp_path / "half.pth")
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("good/data/0")
        members = {n: z.read(n) for n in z.namelist()}
    flipped = bytearray(data)
    start = info.header_offset + 30 + struct.unpack("<HH", data[info.header_offset + 26:
                                                               info.header_offset + 30])[0]
    flipped[start + struct.unpack("<H", data[info.header_offset + 28:
                                              info.header_offset + 30])[0] + 10] ^= 0xFF
    (tmp_path / "flip.pth").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="flip.pth: member good/data/0 is corrupt"):
        gn.load(tmp_path / "flip.pth")
    with zipfile.ZipFile(tmp_path / "deflated.pth", "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in members.items():
            z.writestr(name, value)
    with pytest.raises(CheckpointError, match="deflated.pth: member good/.* is compressed"):
        gn.load(tmp_path / "deflated.pth")
    with zipfile.ZipFile(tmp_path / "missing.pth", "w") as z:
        for name, value in members.items():
            if name != "good/data/0":
                z.writestr(name, value)
    with pytest.raises(CheckpointError, match="member good/data/0 is missing"):
        gn.load(tmp_path / "missing.pth")
    for name, content in [("empty.pth", b""), ("text.pth", b"hello"), ("pickle.pth",
                                                                        pickle.dumps([1]))]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=f"{name} is truncated, corrupt or not a "
                                                  "glassnet checkpoint nor a PyTorch file"):
            gn.load(tmp_path / name)


def test_damaged_legacy_files_are_refused(tmp_path):
    good = _torch_save({"w": torch.arange(16, dtype=torch.float32)}, tmp_path / "good.pth",
                       legacy=True)
    data = good.read_bytes()
    header_at = len(data) - 64 - 8                   # the storage's element count
    assert struct.unpack("<q", data[header_at:header_at + 8]) == (16,)
    for name, content, message in [
            ("cut.pth", data[:-10], "storage '\\d+' claims 64 bytes, the file holds 54 bytes more"),
            ("cutpickle.pth", data[:120], "pickle: truncated or corrupt"),
            ("huge.pth", data[:header_at] + struct.pack("<q", 2 ** 61) + data[header_at + 8:],
             "claims 8.0 EiB"),
            ("negative.pth", data[:header_at] + struct.pack("<q", -1) + data[header_at + 8:],
             "has -1 elements")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=f"{name}: .*{message}"):
            gn.load(tmp_path / name)
    keys = _legacy(pickle.dumps({"w": 1}, protocol=2), keys=("7",))
    (tmp_path / "keys.pth").write_bytes(keys)
    with pytest.raises(CheckpointError, match="list of storage keys does not match"):
        gn.load(tmp_path / "keys.pth")
