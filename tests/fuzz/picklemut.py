"""Mutations of pickles: CIFAR batches, a `.pth` archive's data.pkl, torch's legacy stream.

They work opcode by opcode (`pickletools.genops` finds the boundaries): an opcode
swapped for another, deleted or repeated; an integer argument set to an edge value; a
length prefix that lies; a global replaced by one the readers must refuse; a call to
`open` slipped in whose result is thrown away (if the reader runs it, a file named
`CODE_RAN_MARKER` appears in the worker's folder, and the value looks unchanged);
deep nesting; an early STOP. CIFAR batches also get `cifar_content`: the batch's dict
re-pickled with wrong labels, data of the wrong shape or type, or keys missing.
"""
import io
import pickle
import pickletools
import struct

import numpy as np

from .worker import CODE_RAN_MARKER

_OPS = list(pickletools.opcodes)
_BY_NAME = {op.name: op for op in _OPS}
_LENGTH_WIDTH = {"string1": 1, "bytes1": 1, "unicodestring1": 1, "string4": 4, "bytes4": 4,
                 "unicodestring4": 4, "long4": 4, "bytes8": 8, "unicodestring8": 8,
                 "bytearray8": 8, "uint8": 8}
_MEMO_WIDTH = {"BINGET": 1, "BINPUT": 1, "LONG_BINGET": 4, "LONG_BINPUT": 4}
_INT_EDGES = (-1, 0, 255, 2 ** 31 - 1, -2 ** 31, 2 ** 32, 2 ** 62, 2 ** 63, 2 ** 64,
              -2 ** 63 - 1, 10 ** 30)
FORBIDDEN = (("os", "system"), ("builtins", "eval"), ("builtins", "getattr"),
             ("builtins", "bytearray"), ("__builtin__", "set"), ("_codecs", "encode"),
             ("copyreg", "_reconstructor"), ("torch", "load"), ("numpy", "load"),
             ("numpy", "frombuffer"), ("numpy.core.multiarray", "scalar"),
             ("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
             ("numpy", "dtype"), ("collections", "OrderedDict"),
             ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
             ("torch", "FloatStorage"), ("torch", "ComplexFloatStorage"),
             ("torch", "QInt8Storage"), ("torch", "BFloat16Storage"), ("torch", "bfloat16"),
             ("torch", "float8_e4m3fn"), ("torch.storage", "UntypedStorage"))
_OPENERS = (("builtins", "open"), ("io", "open"), ("__builtin__", "open"), ("_io", "open"),
            ("codecs", "open"))


def ops(data, start=0):
    """[(opcode, argument, start, end)] of the pickle beginning at `start`, to its STOP."""
    found = []
    stream = io.BytesIO(data)
    stream.seek(start)
    for op, arg, pos in pickletools.genops(stream):
        if found:
            found[-1][3] = pos
        found.append([op, arg, pos, pos + 1])
    return [tuple(f) for f in found]


def _splice(data, start, end, new):
    return data[:start] + new + data[end:]


def _push_int(value):
    if -2 ** 31 <= value < 2 ** 31:
        return b"J" + struct.pack("<i", value)
    body = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(body)]) + body


def _global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _after_proto(listing):
    first = listing[0]
    return first[3] if first[0].name == "PROTO" else first[2]


def opcode(data, rng):
    """One opcode byte replaced by another opcode (its argument bytes left behind)."""
    listing = ops(data)
    op, _, start, _ = rng.choice(listing)
    new = rng.choice(_OPS)
    return _splice(data, start, start + 1, new.code.encode("latin1")), \
        f"pickle opcode {op.name} at {start} -> {new.name}"


def delete_or_repeat(data, rng):
    """One opcode with its argument deleted, or repeated."""
    op, _, start, end = rng.choice(ops(data)[:-1])
    if rng.random() < 0.5:
        return _splice(data, start, end, b""), f"pickle: delete {op.name} at {start}"
    return _splice(data, start, start, data[start:end]), f"pickle: repeat {op.name} at {start}"


def integer(data, rng):
    """An integer argument set to an edge value (a memo index keeps its width)."""
    listing = [o for o in ops(data) if isinstance(o[1], int) and o[0].name != "PROTO"]
    if not listing:
        return None
    op, arg, start, end = rng.choice(listing)
    if op.name in _MEMO_WIDTH:
        width = _MEMO_WIDTH[op.name]
        value = rng.choice((0, 1, 2 ** (8 * width) - 1, arg + 1))
        return _splice(data, start + 1, end, value.to_bytes(width, "little")), \
            f"pickle {op.name} at {start}: memo index {arg} -> {value}"
    value = rng.choice(_INT_EDGES)
    return _splice(data, start, end, _push_int(value)), \
        f"pickle {op.name} at {start}: {arg} -> {value}"


def length(data, rng):
    """A length prefix (of a string, bytes, long or frame) that lies about what follows."""
    listing = [o for o in ops(data) if o[0].arg is not None and o[0].arg.name in _LENGTH_WIDTH]
    if not listing:
        return None
    op, _, start, end = rng.choice(listing)
    width = _LENGTH_WIDTH[op.arg.name]
    old = int.from_bytes(data[start + 1:start + 1 + width], "little")
    value = rng.choice((0, old - 1, old + 1, 2 ** (8 * width - 1) - 1, 2 ** (8 * width) - 1,
                        2 ** 40 if width == 8 else old * 2)) % (1 << (8 * width))
    return _splice(data, start + 1, start + 1 + width, value.to_bytes(width, "little")), \
        f"pickle {op.name} at {start}: length {old} -> {value}"


def global_name(data, rng):
    """A global's module and name replaced by one the reader must refuse (or may know)."""
    listing = [o for o in ops(data) if o[0].name == "GLOBAL"]
    if not listing:
        return None
    op, arg, start, end = rng.choice(listing)
    module, name = rng.choice(FORBIDDEN)
    return _splice(data, start, end, _global(module, name)), \
        f"pickle GLOBAL {arg!r} -> '{module} {name}'"


def call(data, rng):
    """A call to open(CODE_RAN_MARKER, 'w') pushed and popped right after PROTO: the value
    is unchanged, so only the marker file shows whether the reader ran it."""
    module, name = rng.choice(_OPENERS)
    at = _after_proto(ops(data))
    payload = (_global(module, name) + b"(" + b"X" + struct.pack("<I", len(CODE_RAN_MARKER))
               + CODE_RAN_MARKER.encode() + b"X\x01\x00\x00\x00wtR0")
    return _splice(data, at, at, payload), f"pickle: calls {module}.{name}(marker, 'w') first"


def nesting(data, rng):
    """The object wrapped in many levels of lists."""
    listing = ops(data)
    depth = rng.choice((100, 1000, 100_000))
    at, stop = _after_proto(listing), listing[-1][2]
    return data[:at] + b"]" * depth + data[at:stop] + b"a" * depth + data[stop:], \
        f"pickle: object nested {depth} lists deep"


def early_stop(data, rng):
    """A STOP in the middle: the stack's top at that point is the value."""
    inner = ops(data)[1:-1]
    if not inner:
        return None
    op, _, start, _ = rng.choice(inner)
    return _splice(data, start, start, b"."), f"pickle: STOP before {op.name} at {start}"


def protocol(data, rng):
    """The PROTO opcode's version changed."""
    listing = ops(data)
    if listing[0][0].name != "PROTO":
        return None
    value = rng.choice((0, 1, 3, 5, 6, 255))
    return _splice(data, 1, 2, bytes([value])), f"pickle protocol {listing[0][1]} -> {value}"


def memo_get(data, rng):
    """A read of a memo slot never written (BINGET 254, LONG_BINGET 2**32-1), then a POP."""
    at = _after_proto(ops(data))
    get = rng.choice((b"h\xfe", b"j\xff\xff\xff\xff", b"g99999\n"))
    return _splice(data, at, at, get + b"0"), f"pickle: reads memo {get!r} that was never put"


MUTATORS = {"pickle-opcode": opcode, "pickle-delete-repeat": delete_or_repeat,
            "pickle-integer": integer, "pickle-length": length, "pickle-global": global_name,
            "pickle-call": call, "pickle-nesting": nesting, "pickle-stop": early_stop,
            "pickle-protocol": protocol, "pickle-memo": memo_get}


# ----------------------------------------------------------------- torch's legacy stream
_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def is_legacy_pth(data):
    """Whether data starts with the pickled magic number of torch's legacy format."""
    return data[:1] == b"\x80" and _LEGACY_MAGIC in data[:32]


def _segments(data):
    """(start, end) of the five pickles of a legacy file; the storages follow the last."""
    bounds, pos = [], 0
    for _ in range(5):
        end = ops(data, pos)[-1][3]
        bounds.append((pos, end))
        pos = end
    return bounds


def legacy_pickle(data, rng):
    """One of the five pickles (most often the object's) mutated in place."""
    bounds = _segments(data)
    start, end = bounds[3] if rng.random() < 0.6 else rng.choice(bounds)
    name = rng.choice(sorted(MUTATORS))
    result = MUTATORS[name](data[start:end], rng)
    if result is None:
        return None
    return data[:start] + result[0] + data[end:], f"legacy pickle at {start} ({name}): {result[1]}"


def legacy_storage(data, rng):
    """The element count in front of the first storage set to an edge value."""
    at = _segments(data)[-1][1]
    (old,) = struct.unpack_from("<q", data, at)
    value = rng.choice((-1, 0, old - 1, old + 1, 2 ** 40, 2 ** 62, 2 ** 63 - 1))
    return data[:at] + struct.pack("<q", value) + data[at + 8:], \
        f"legacy storage element count {old} -> {value}"


LEGACY = {"legacy-pickle": legacy_pickle, "legacy-storage": legacy_storage}


# ------------------------------------------------------------------------------ CIFAR
class Python2Pickler(pickle._Pickler):
    """Pickles bytes with Python 2's str opcodes, as the CIFAR files from Toronto were
    written (Python 3's protocol 2 would wrap them in `_codecs.encode` calls)."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else
                    pickle.BINSTRING + struct.pack("<i", n)) + obj)
        self.memoize(obj)
    dispatch[bytes] = save_bytes


def dump_python2(obj, numpy1_names=True):
    """obj pickled as the CIFAR files are: protocol 2, Python 2 strings, and (numpy1_names)
    NumPy 1's module name `numpy.core` where NumPy 2 writes `numpy._core`."""
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(obj)
    raw = buffer.getvalue()
    return raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n") \
        if numpy1_names else raw


def _cifar_changes(batch, rng):
    n = len(batch[b"labels"])
    data = batch[b"data"]
    return rng.choice((
        ("labels out of range", b"labels", [10] * n), ("a negative label", b"labels",
                                                        [-1] + [0] * (n - 1)),
        ("a huge label", b"labels", [2 ** 63] * n), ("float labels", b"labels", [1.5] * n),
        ("labels as text", b"labels", b"abc"), ("no labels", b"labels", None),
        ("one label too few", b"labels", batch[b"labels"][:-1]),
        ("nested labels", b"labels", [[1]] * n),
        ("labels as an int8 array", b"labels", np.zeros(n, np.int8)),
        ("rows of 3071 bytes", b"data", data[:, :-1].copy()),
        ("float32 data", b"data", data.astype(np.float32)),
        ("3-D data", b"data", data.reshape(n, 3, 1024)),
        ("data as a list", b"data", data.tolist()), ("data as bytes", b"data", data.tobytes()),
        ("Fortran-ordered data", b"data", np.asfortranarray(data)),
        ("no data", b"data", None), ("empty", b"data", np.zeros((0, 3072), np.uint8))))


def cifar_content(data, rng):
    """The batch re-pickled with one entry changed: wrong labels, data of another shape
    or type, an entry missing, text keys (legitimate), or no dict at all."""
    batch = pickle.loads(data, encoding="bytes")          # our own seed: trusted
    if b"label_names" in batch:                           # batches.meta
        what, key, value = rng.choice((
            ("nine label names", b"label_names", batch[b"label_names"][:-1]),
            ("label names as numbers", b"label_names", list(range(10))),
            ("label names as text", b"label_names", b"airplane"),
            ("a label name that is not UTF-8", b"label_names",
             [b"\xff\xfeplane"] + batch[b"label_names"][1:]),
            ("no label names", b"label_names", None)))
    else:
        what, key, value = _cifar_changes(batch, rng)
    if what == "empty":
        batch[b"labels"] = []
    if value is None:
        del batch[key]
    else:
        batch[key] = value
    if rng.random() < 0.1:
        batch, what = {k.decode(): v for k, v in batch.items()}, what + ", text keys"
    elif rng.random() < 0.05:
        batch, what = [batch], what + ", inside a list"
    return dump_python2(batch, b"numpy.core.multiarray" in data), f"CIFAR batch with {what}"


CIFAR = {**MUTATORS, "cifar-content": cifar_content}
