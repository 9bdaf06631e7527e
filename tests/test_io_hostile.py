"""Checkpoint readers against hostile files (issue 13): bounded memory, one CheckpointError
naming the file and the problem, the original exception chained.

The archives are written byte by byte here (`_zip`), so that every field a reader trusts
can lie: declared sizes, CRCs, flags, ZIP versions, offsets. Peak memory is measured in
a child process (`_peak`), under an address-space limit, with ru_maxrss.
"""
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest

import glassnet as gn
from glassnet.archive import METADATA_LIMIT, byte_size
from glassnet.cli import main
from glassnet.io import CONTAINER_LIMIT, JSON_DEPTH_LIMIT, CheckpointError
from glassnet.pth_pickle import DTYPES
from glassnet.pth_write import _Pickle

GIB = 1 << 30


# --------------------------------------------------------------------- crafting files
def _member(name, data, method=0, **lies):
    """One member for _zip: `data` stored (method 0) or deflated (8); `lies` replace what
    the headers declare: size, csize, crc, flags, version, method, offset_of (another
    member's name: this entry then points at that member's bytes)."""
    payload = zlib.compress(data, 9, wbits=-15) if method == 8 else data
    return {"name": name, "payload": payload, "method": method, "crc": zlib.crc32(data),
            "size": len(data), "csize": len(payload), "flags": 0, "version": 20,
            "offset_of": None, **lies}


def _zip(path, members):
    """A ZIP archive written field by field, every field as the member says."""
    out, offsets, directory = bytearray(), {}, bytearray()
    for m in members:
        name = m["name"].encode()
        fields = (m["version"], m["flags"], m["method"], 0, 0, m["crc"], m["csize"], m["size"])
        if m["offset_of"] is None:
            offsets[m["name"]] = len(out)
            out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, len(name), 0)
            out += name + m["payload"]
        offset = offsets[m["offset_of"] or m["name"]]
        directory += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields,
                                 len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(directory), len(out), 0)
    path.write_bytes(bytes(out + directory + end))
    return path


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_claiming(shape, descr="<f4", data=b"\0" * 16, fortran=False, version=1):
    """A .npy member whose header says `shape` and `descr`, followed by `data`."""
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    width = "<H" if version == 1 else "<I"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(width, len(header)) + header + data


def _structure(obj):
    return json.dumps({"format": "glassnet-checkpoint", "version": 1, "object": obj})


def _checkpoint(path, obj, arrays=(), **lies):
    """A glassnet checkpoint holding structure `obj` (JSON text, or an object to encode)
    and the .npy members `arrays`; `lies` go to the structure.json member."""
    text = obj if isinstance(obj, (str, bytes)) else _structure(obj)
    text = text.encode() if isinstance(text, str) else text
    members = [_member("structure.json", text, **lies)]
    members += [_member(f"arrays/{i}.npy", data) for i, data in enumerate(arrays)]
    return _zip(path, members)


ONE = {"__array__": 0, "tensor": True}


def _short(value):
    """A test id of at most 40 characters (some cases are megabytes long)."""
    return repr(value)[:40]


def _refused(path, *fragments):
    """The CheckpointError of loading path; its message names the file and `fragments`."""
    with pytest.raises(CheckpointError) as caught:
        gn.load(path)
    message = str(caught.value)
    assert message.startswith(f"load: {path}"), message
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


def _bomb(path, gib_eighths, declared=None):
    """A checkpoint whose structure.json is gib_eighths / 8 GiB of valid JSON (spaces after
    a small object) deflated to ~1 KiB per MiB: a complete, honest deflate bomb. It
    declares its true size (with a correct CRC) unless `declared` says otherwise, then
    with the CRC of that many bytes."""
    compressor, block = zlib.compressobj(9, zlib.DEFLATED, -15), b" " * (1 << 20)
    head = b'{"format": "glassnet-checkpoint", "version": 1, "object": 0'
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = gib_eighths * 128
    stream = start + piece * blocks + compressor.compress(b"}") + compressor.flush()
    size = len(head) + blocks * len(block) + 1
    crc = zlib.crc32(head)
    for _ in range(blocks if declared is None else (declared - len(head)) // len(block)):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b"}" if declared is None else
                     block[:(declared - len(head)) % len(block)], crc)
    lies = dict(payload=stream, csize=len(stream), size=declared or size, crc=crc, method=8)
    return _zip(path, [_member("structure.json", b"", **lies)])


_PEAK = textwrap.dedent("""
    import json, resource, sys
    import glassnet
    def vm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmSize")) * 1024
    if sys.argv[1] != "0":           # address space: what is mapped now, plus this much
        limit = vm() + int(sys.argv[1])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = []
    for path in sys.argv[2:]:
        try:
            glassnet.load(path)
            outcomes.append("loaded")
        except BaseException as e:
            outcomes.append(f"{type(e).__name__}: {e}")
    rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"rise": rise * 1024, "outcomes": outcomes}))
""")


def _peak(paths, address_space=GIB, pythonpath=None):
    """(rise of peak resident memory in bytes, outcome of each load) in a fresh process
    that may map at most `address_space` more bytes (0: no limit); `pythonpath`: the root
    of another checkout, to measure how it behaves (the figures from before this code)."""
    root = pythonpath or os.path.dirname(os.path.dirname(gn.__file__))
    done = subprocess.run([sys.executable, "-c", _PEAK, str(address_space)] + list(map(str, paths)),
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["rise"], result["outcomes"]


# ------------------------------------------------------------------- deflate bombs, lies
def test_a_deflate_bomb_in_the_structure_is_refused_within_bounded_memory(tmp_path):
    honest = _bomb(tmp_path / "honest.gn", 2)           # 256 MiB of JSON in 260 KiB
    assert honest.stat().st_size < 300_000
    lying = _bomb(tmp_path / "lying.gn", 2, declared=METADATA_LIMIT - 1)
    rise, outcomes = _peak([honest, lying])
    assert outcomes[0].startswith(f"CheckpointError: load: {honest}: member structure.json "
                                  "declares 256.0 MiB, more than the 16.0 MiB"), outcomes
    # under the cap, it is read up to what it declares (CRC right): 16 MiB of unfinished JSON
    assert outcomes[1].startswith(f"CheckpointError: load: {lying}: structure.json is not "
                                  "valid JSON"), outcomes
    assert rise < 96 << 20, byte_size(rise)   # measured: 37 MiB; before: 0.5 GiB, and the
    # honest bomb loaded at a peak of 543 MiB (2.0 GiB for the 1 GiB bomb of ~1 MB)


@pytest.mark.parametrize("gib", [1, 4, 16, 4096])
def test_an_array_header_claiming_gigabytes_is_refused_before_allocating(tmp_path, gib):
    shape = (gib * GIB // 4,)
    path = _checkpoint(tmp_path / f"lie{gib}.gn", ONE, [_npy_claiming(shape)])
    _refused(path, f"member arrays/0.npy declares {byte_size(gib * GIB)} (float32 of shape "
                   f"{shape}) but holds 16 bytes")


def test_lies_reserve_no_memory(tmp_path):
    """The lies above, and a ZIP directory declaring a huge member, loaded where the
    process may map only 256 MiB more: a reader that reserved what the file declares
    would fail with MemoryError, not with the file's own refusal."""
    paths = [_checkpoint(tmp_path / "npy.gn", ONE, [_npy_claiming((16 * GIB // 4,))]),
             _zip(tmp_path / "zip.gn", [_member("structure.json", _structure(ONE).encode()),
                                        _member("arrays/0.npy", _npy(np.ones(4)), size=GIB,
                                                csize=GIB)]),
             _zip(tmp_path / "inflate.gn", [_member("structure.json", _structure(ONE).encode()),
                                            _member("arrays/0.npy", _npy(np.ones(4)), 8,
                                                    size=GIB)])]
    rise, outcomes = _peak(paths, address_space=256 << 20)
    assert "arrays/0.npy declares 16.0 GiB (float32" in outcomes[0], outcomes
    assert "arrays/0.npy declares 1.0 GiB of data but the file holds" in outcomes[1], outcomes
    assert "deflate expands at most 1032:1" in outcomes[2], outcomes
    assert all(o.startswith("CheckpointError") for o in outcomes) and rise < 64 << 20


def test_a_deflated_checkpoint_still_loads(tmp_path):
    """Deflate is a legitimate ZIP method: a checkpoint re-packed with it reads the same."""
    state = {"w": gn.randn(40, 30), "mask": np.arange(12).reshape(3, 4) % 2 == 0, "n": [1.5]}
    gn.save(state, tmp_path / "stored.gn")
    with zipfile.ZipFile(tmp_path / "stored.gn") as src, \
            zipfile.ZipFile(tmp_path / "deflated.gn", "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    back = gn.load(tmp_path / "deflated.gn")
    np.testing.assert_array_equal(back["w"].numpy(), state["w"].numpy())
    np.testing.assert_array_equal(back["mask"], state["mask"])
    assert back["n"] == [1.5]


# ------------------------------------------------------------------------ ZIP headers
def _good_members():
    return [_member("structure.json", _structure(ONE).encode()),
            _member("arrays/0.npy", _npy(np.arange(6, dtype=np.float32)))]


def test_the_crafted_archive_itself_loads(tmp_path):
    back = gn.load(_zip(tmp_path / "good.gn", _good_members()))
    np.testing.assert_array_equal(back.numpy(), np.arange(6, dtype=np.float32))


def test_a_flipped_zip_version_names_the_member(tmp_path):
    members = _good_members()
    members[1]["version"] = 0xFF                          # 'version needed': 25.5
    error = _refused(_zip(tmp_path / "version.gn", members),
                     "member arrays/0.npy needs ZIP version 25.5 to be read")
    assert isinstance(error.__cause__.__cause__, NotImplementedError)   # zipfile's, chained


@pytest.mark.parametrize("flags, what", [(1, "0x0001"), (0x40 | 1, "0x0041"), (0x20, "0x0020")])
def test_encrypted_members_are_refused(tmp_path, flags, what):
    members = _good_members()
    members[1]["flags"] = flags
    _refused(_zip(tmp_path / "locked.gn", members),
             f"member arrays/0.npy is encrypted (ZIP flags {what}); glassnet reads "
             "unencrypted archives")


@pytest.mark.parametrize("method, name", [(12, "bzip2"), (14, "lzma"), (99, "an unknown method")])
def test_other_compression_methods_are_refused(tmp_path, method, name):
    members = _good_members()
    members[0]["method"] = method
    _refused(_zip(tmp_path / "method.gn", members),
             f"member structure.json is compressed with {name} (ZIP method {method}); this "
             "reader accepts stored or deflate members")


def test_members_sharing_bytes_are_refused(tmp_path):
    """Two directory entries for the same bytes: the overlapping zip bomb's trick."""
    structure = _structure([ONE, {"__array__": 1, "tensor": True}]).encode()
    members = [_member("structure.json", structure),
               _member("arrays/0.npy", _npy(np.zeros(1000))),
               _member("arrays/1.npy", _npy(np.zeros(1000)), offset_of="arrays/0.npy")]
    _refused(_zip(tmp_path / "overlap.gn", members),
             "members arrays/1.npy and arrays/0.npy overlap in the file")


@pytest.mark.parametrize("lie, message", [
    (dict(size=100), "is stored as it is, yet declares 100 bytes from"),
    (dict(crc=1), "member arrays/0.npy is corrupt (BadZipFile: Bad CRC-32"),
    (dict(offset_of="structure.json"), "members arrays/0.npy and structure.json overlap"),
])
def test_lying_member_headers_are_refused(tmp_path, lie, message):
    members = _good_members()
    members[1].update(lie)
    _refused(_zip(tmp_path / "lie.gn", members), message)


def test_a_cut_deflate_stream_is_refused(tmp_path):
    members = _good_members()
    deflated = _member("arrays/0.npy", _npy(np.arange(1000.0)), 8)
    deflated["payload"] = deflated["payload"][:-20]
    deflated["csize"] -= 20
    _refused(_zip(tmp_path / "cut.gn", members[:1] + [deflated]),
             "member arrays/0.npy is corrupt (BadZipFile: Bad CRC-32")
    short = _member("structure.json", _structure(ONE).encode(), 8)
    short["size"] += 100                                   # its CRC is that of what it holds
    _refused(_zip(tmp_path / "short.gn", [short] + members[1:]),
             "member structure.json ends after 91 bytes of the 191 bytes it declares: truncated")


def test_a_local_header_elsewhere_is_refused(tmp_path):
    path = _zip(tmp_path / "moved.gn", _good_members())
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x03\x04arrays"[:4], 10)          # the second local header
    data[at:at + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    _refused(path, "member arrays/0.npy has no local header where the ZIP directory says")


def test_path_problems_are_not_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        gn.load(tmp_path / "missing.gn")
    with pytest.raises(IsADirectoryError):
        gn.load(tmp_path)


# -------------------------------------------------------------------- structure.json
def test_infinity_where_an_integer_belongs_is_refused_but_stays_a_float_value(tmp_path):
    text = _structure({"__dict__": [["w", {"__array__": 0, "tensor": True}]]})
    path = _checkpoint(tmp_path / "inf.gn", text.replace('"__array__": 0', '"__array__": Infinity'),
                       [_npy(np.ones(2))])
    _refused(path, "structure.json: entry obj['w']['__array__'] is float inf; expected the "
                   "number of an arrays/<n>.npy member")
    # as a value, a non-finite float is what save wrote (a loss history can hold one)
    gn.save({"history": [float("nan"), float("-inf")]}, tmp_path / "values.gn")
    history = gn.load(tmp_path / "values.gn")["history"]
    assert np.isnan(history[0]) and history[1] == float("-inf")


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000, f"structure.json nests 100000 levels deep; glassnet reads at most "
                    f"{JSON_DEPTH_LIMIT}"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nests 5000 levels deep"),
    ("[" * 102 + '"[[[[\\"[[{{", "]]"' + "]" * 102, "nests 102 levels deep"),
    ("[" + "[]," * CONTAINER_LIMIT + "[]]", f"holds {CONTAINER_LIMIT + 2} lists and objects"),
    ('{"format": "glassnet-checkpoint", "version": 1, "object": 1' + "0" * 5000 + "}",
     "structure.json is not valid JSON (Exceeds the limit (4300 digits)"),
    ('{"format": "glassnet-checkpoint", "version": 1, "object": [1, 2}',
     "structure.json is not valid JSON (Expecting ',' delimiter"),
    (b'{"format": "glassnet-checkpoint", "version": 1, "object": "\xff"}',
     "structure.json is not UTF-8 text (invalid start byte at byte 59)"),
    ('[1, 2]', "structure.json does not describe a glassnet checkpoint"),
    ('{"format": "glassnet-checkpoint", "version": "1", "object": 0}',
     "has checkpoint version str '1', this glassnet reads 1"),
], ids=_short)
def test_malformed_json_is_refused_before_parsing_runs_away(tmp_path, text, message):
    _refused(_checkpoint(tmp_path / "bad.gn", text), message)


def test_the_nesting_save_writes_stays_readable(tmp_path):
    """Fifteen dicts deep (45 JSON levels) is far beyond a state dict and still loads."""
    deep = 7
    for _ in range(15):
        deep = {"k": deep}
    gn.save(deep, tmp_path / "deep.gn")
    assert gn.load(tmp_path / "deep.gn") == deep


@pytest.mark.parametrize("obj, message", [
    ({"__array__": "0"}, "entry obj['__array__'] is str '0'; expected the number of an "
                         "arrays/<n>.npy member"),
    ({"__array__": -1}, "entry obj['__array__'] is int -1; expected the number"),
    ({"__array__": 2 ** 80}, "entry obj['__array__'] is an int of 81 bits"),
    ({"__array__": True}, "entry obj['__array__'] is bool True"),
    ({"__array__": 0, "tensor": 1}, "entry obj['tensor'] is int 1; expected true or false"),
    ({"__array__": 0, "shape": [2]}, "entry obj has the unknown key str 'shape' beside __array__"),
    ({"__array__": 7}, "entry obj names arrays/7.npy, which the archive lacks"),
    ([ONE, {"__array__": 0}], "entries obj[0] and obj[1] both name arrays/0.npy"),
    ({"__dict__": 5}, "entry obj['__dict__'] is int 5; expected a list"),
    ({"__dict__": [[1, 2, 3]]}, "entry obj['__dict__'][0] is a list; expected a [key, value] "
                                "pair with a str or int key"),
    ({"__dict__": [["a", 1], [[1], 2]]}, "entry obj['__dict__'][1] is a list; expected"),
    ({"__dict__": [[None, 2]]}, "entry obj['__dict__'][0] is a list; expected"),
    ({"__dict__": [], "ordered": "yes"}, "entry obj['ordered'] is str 'yes'; expected true or "
                                         "false"),
    ({"__dict__": [["a", {"__tuple__": {}}]]}, "entry obj['a']['__tuple__'] is a dict; "
                                               "expected a list"),
    ({"__dict__": [[3, [0, {"x": 1}]]]}, "entry obj[3][1] is a dict; expected a value, a list, "
                                         "or an object with __array__, __tuple__ or __dict__"),
], ids=_short)
def test_malformed_structures_name_the_entry(tmp_path, obj, message):
    path = _checkpoint(tmp_path / "bad.gn", obj, [_npy(np.ones(2))])
    _refused(path, "structure.json: " + message)


# ------------------------------------------------------------------------ .npy members
@pytest.mark.parametrize("member, message", [
    (_npy_claiming((2,), "|O", b"\0" * 16), "holds an array of dtype object; glassnet never "
                                           "unpickles data"),
    (_npy_claiming((2,), [("a", "<f4"), ("b", "<i4")]), "holds an array of dtype [('a', "),
    (_npy_claiming((2,), "<c8"), "holds an array of dtype complex64"),
    (_npy_claiming((1,), "(2,2)<f4"), "holds an array of dtype ('<f4', (2, 2))"),
    (_npy_claiming((-1, 4)), "has an impossible shape: (-1, 4)"),
    (_npy_claiming((1,) * 65, data=b"\0" * 4), "has an impossible shape"),
    (_npy_claiming((5,)), "declares 20 bytes (float32 of shape (5,)) but holds 16 bytes"),
    (_npy_claiming((2,), data=b"\0" * 64), "declares 8 bytes (float32 of shape (2,)) but holds 64"),
    (_npy_claiming((16,), "|b1"), "is a bool array holding bytes other than 0 and 1"),
    (b"\x93NUMPY\x03\x00" + b"\0" * 100, "is not a .npy array of format 1.0 or 2.0"),
    (b"PK\x03\x04" + b"\0" * 100, "is not a .npy array of format 1.0 or 2.0 (it starts b'PK"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30) + b"{}", "has a .npy header of 1.0 GiB"),
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 16) + b"{'descr': (((((\n", "has a corrupt .npy "
                                                                          "header"),
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 50), "ends inside its .npy header (50 bytes "
                                                     "declared, 0 bytes present)"),
    (b"\x93NUM", "holds 4 bytes, too few for a .npy array"),
], ids=_short)
def test_malformed_array_members_are_refused(tmp_path, member, message):
    if message == "is a bool array holding bytes other than 0 and 1":
        member = member[:-16] + b"\1" * 15 + b"\2"
    path = _checkpoint(tmp_path / "npy.gn", ONE, [member])
    _refused(path, "member arrays/0.npy " + message)


def test_arrays_in_fortran_order_or_big_endian_read_right(tmp_path):
    values = np.arange(12, dtype=np.float64).reshape(3, 4)
    members = [_npy(np.asfortranarray(values)), _npy(values.astype(">i4")),
               _npy_claiming((2, 3), "<f4", np.arange(6, dtype="<f4").tobytes(), version=2)]
    obj = [{"__array__": i} for i in range(3)]
    fortran, big, version2 = gn.load(_checkpoint(tmp_path / "orders.gn", obj, members))
    np.testing.assert_array_equal(fortran, values)
    np.testing.assert_array_equal(big, values.astype(np.int32))
    assert big.dtype == np.int32 and big.dtype.isnative
    np.testing.assert_array_equal(version2, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_eval_of_a_hostile_checkpoint_is_one_line(tmp_path, capsys):
    members = _good_members()
    members[1]["version"] = 0xFF
    assert main(["eval", str(_zip(tmp_path / "version.gn", members))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs ZIP version 25.5" in err, err


# ------------------------------------------------------------------- PyTorch's .pth
def _pth(path, pickled, storages=(), **lies):
    """A torch-style ZIP checkpoint; `lies` go to its data.pkl member."""
    members = [_member("archive/data.pkl", pickled, **lies)]
    members += [_member(f"archive/data/{key}", data) for key, data in storages]
    return _zip(path, members)


def _pickled_tensors(count):
    """{"t0": ..., "t1": ...}: `count` float32 tensors of 4 elements, each in its own
    storage (keys 0, 1, ...), pickled by pth_write as torch pickles them."""
    placements = [(i, DTYPES["float32"], 0, (4,), (1,), 4) for i in range(count)]
    tree = {"__dict__": [[f"t{i}", {"__array__": i}] for i in range(count)]}
    return _Pickle(placements).dumps(tree)


def test_the_crafted_pth_itself_loads(tmp_path):
    values = np.arange(4, dtype=np.float32)
    back = gn.load(_pth(tmp_path / "ok.pth", _pickled_tensors(1), [(0, values.tobytes())]))
    np.testing.assert_array_equal(back["t0"].numpy(), values)


def test_pth_pickles_that_would_crash_or_reserve_are_refused_in_a_child(tmp_path):
    """Run where a crash cannot take the tests down, and the process may map only 256 MiB
    more: a pickle declaring a terabyte of bytes (CPython's unpickler would allocate it
    before reading), a tuple nested a million deep as a dict key (hashing it recursed in C
    until the process died), a memo index of 2^31 (the unpickler's memo grows to twice)."""
    huge = b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc."
    deep = b"\x80\x02}" + b")" + b"\x85" * 1_000_000 + b"Ns."
    memo = b"\x80\x02Nr" + struct.pack("<I", 1 << 31) + b"."     # the unpickler's memo: 2^32
    paths = [_pth(tmp_path / "huge.pth", huge), _pth(tmp_path / "deep.pth", deep),
             _pth(tmp_path / "memo.pth", memo)]
    rise, outcomes = _peak(paths, address_space=256 << 20)
    assert outcomes[0] == (f"CheckpointError: load: {paths[0]}: refuses its pickle: truncated "
                           "or corrupt (expected 1099511627776 bytes in a bytes8, but only 4 "
                           "remain)"), outcomes
    assert outcomes[1] == (f"CheckpointError: load: {paths[1]}: refuses its pickle: its data "
                           "nests deeper than 200 levels"), outcomes
    assert outcomes[2] == (f"CheckpointError: load: {paths[2]}: refuses its pickle: it stores "
                           "memo entry 2,147,483,648, past the 1,048,576 a pickle of at most that "
                           "many opcodes can number"), outcomes
    assert rise < 64 << 20, byte_size(rise)


def test_pth_metadata_beyond_the_limits_is_refused(tmp_path):
    big = _pth(tmp_path / "big.pth", b"\x80\x02N." + b" " * (17 << 20))
    _refused(big, "member archive/data.pkl declares 17.0 MiB, more than the 16.0 MiB this "
                  "reader accepts for it")
    sets = _pth(tmp_path / "sets.pth", b"\x80\x04(" + b"\x8f" * (1 << 20) + b"l.")
    _refused(sets, "refuses its pickle: more than 1,048,576 pickle opcodes")
    legacy = b"".join(pickle.dumps(v, protocol=2) for v in (
        0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}, b" " * (17 << 20), []))
    (tmp_path / "legacy.pth").write_bytes(legacy)
    _refused(tmp_path / "legacy.pth", "its pickle is longer than 16.0 MiB, the most glassnet "
                                      "reads")


def test_pth_storages_sharing_bytes_are_refused(tmp_path):
    members = [_member("archive/data.pkl", _pickled_tensors(2)),
               _member("archive/data/0", b"\0" * 16),
               _member("archive/data/1", b"\0" * 16, offset_of="archive/data/0")]
    _refused(_zip(tmp_path / "shared.pth", members),
             "members archive/data/1 and archive/data/0 overlap in the file")
