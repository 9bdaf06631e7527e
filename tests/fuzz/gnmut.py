"""Mutations of a glassnet checkpoint's members: the JSON structure and the `.npy` arrays.

`zipmut.member_content` hands a member's content here and puts the result back with its
CRC fixed, so each mutation reaches `gn.load`'s parsing rather than its checksum test.
The JSON ones change the parsed document and write it back: non-finite and huge numbers
where numbers are, values of the wrong type, missing and unknown keys, malformed
`__dict__` items, deep nesting; or they damage the text itself. The `.npy` ones rewrite
one header entry (shape, dtype, fortran_order), the header's framing (magic, version,
length field) or the data's length.
"""
import ast
import copy
import json
import struct

from . import mutators

_RAW = "\x00raw{}\x00"            # a placeholder string, swapped for a raw JSON token after dumps

# replacement values; strings in RAW_TOKENS are written into the text as they are
RAW_TOKENS = ("NaN", "Infinity", "-Infinity", "1e999", "-0", "1" + "0" * 5000,
              "123456789012345678901234567890", "18446744073709551616", "-9223372036854775809")
VALUES = (-1, 0, 2 ** 63, 0.5, 1e308, "", "x" * 100, [], {}, None, True, False,
          {"__array__": 0}, {"__array__": 999}, {"__dict__": 1}, {"__tuple__": "ab"},
          {"__dict__": [], "ordered": "yes"}, [[[]]])


def _nodes(tree, path=()):
    """Every (path, node) of a JSON document, the root first."""
    yield path, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _nodes(v, path + (i,))


def _replace(tree, path, value):
    if not path:
        return value
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return tree


def _dump(tree, raws=()):
    text = json.dumps(tree)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(_RAW.format(i)), raw)
    return text.encode()


def _describe(path):
    return "".join(f"[{p!r}]" for p in path) or "the document"


def json_value(raw, rng):
    """One node (preferably a number or an array reference) replaced by a non-finite or
    huge number, or by a value of another type."""
    tree = json.loads(raw)
    nodes = list(_nodes(tree))
    numbers = [n for n in nodes if isinstance(n[1], (int, float)) and not isinstance(n[1], bool)]
    path, old = rng.choice(numbers if numbers and rng.random() < 0.5 else nodes)
    if rng.random() < 0.4:
        token = rng.choice(RAW_TOKENS)
        shown = token if len(token) < 40 else f"a {len(token)}-digit integer"
        return _dump(_replace(tree, path, _RAW.format(0)), [token]), \
            f"JSON {_describe(path)}: {str(old)[:40]} -> {shown}"
    value = copy.deepcopy(rng.choice(VALUES))
    return _dump(_replace(tree, path, value)), \
        f"JSON {_describe(path)}: {str(old)[:40]} -> {str(value)[:40]}"


def json_key(raw, rng):
    """One object loses a key, has it renamed, or gains an unknown one."""
    tree = json.loads(raw)
    objects = [(p, n) for p, n in _nodes(tree) if isinstance(n, dict) and n]
    path, node = rng.choice(objects)
    key = rng.choice(sorted(node))
    kind = rng.choice(("drop", "rename", "add"))
    if kind == "drop":
        del node[key]
    elif kind == "rename":
        node[key.upper() + "_"] = node.pop(key)
    else:
        node["__surprise__"] = [1, 2]
    return _dump(tree), f"JSON {_describe(path)}: {kind} key {key!r}"


def json_items(raw, rng):
    """One item of a `__dict__` list made malformed: too short, too long, not a pair, an
    unhashable or non-string key, or duplicated."""
    tree = json.loads(raw)
    lists = [(p, n["__dict__"]) for p, n in _nodes(tree)
             if isinstance(n, dict) and isinstance(n.get("__dict__"), list) and n["__dict__"]]
    if not lists:
        return None
    path, items = rng.choice(lists)
    i = rng.randrange(len(items))
    key, value = items[i]
    bad = rng.choice(([key], [key, value, 3], key, [[1, 2], value], [{"a": 1}, value],
                      [None, value], [1.5, value], [True, value], [key, value]))
    if bad == [key, value]:
        items.insert(i, bad)                      # the same key twice
    else:
        items[i] = bad
    return _dump(tree), f"JSON {_describe(path)}['__dict__'][{i}] -> {str(bad)[:60]}"


def json_array_ref(raw, rng):
    """An array reference pointing nowhere or written as the wrong type."""
    tree = json.loads(raw)
    refs = [(p, n) for p, n in _nodes(tree) if isinstance(n, dict) and "__array__" in n]
    if not refs:
        return None
    path, node = rng.choice(refs)
    if rng.random() < 0.3:
        node["tensor"] = rng.choice(("yes", 1, None, [], 2.5))
        return _dump(tree), f"JSON {_describe(path)}: tensor -> {node['tensor']!r}"
    if rng.random() < 0.3:
        token = rng.choice(("NaN", "Infinity", "1e999", "1" + "0" * 30))
        node["__array__"] = _RAW.format(0)
        return _dump(tree, [token]), f"JSON {_describe(path)}: __array__ -> {token}"
    value = rng.choice((-1, 999, "0", 0.5, True, 1e20, 2 ** 64, [0], {"i": 0}, None))
    node["__array__"] = value
    return _dump(tree), f"JSON {_describe(path)}: __array__ -> {value!r}"


def json_nesting(raw, rng):
    """One node wrapped in many levels of lists (or of tuples): how deep may a
    document go before the reader gives up in words rather than with RecursionError?"""
    tree = json.loads(raw)
    path, node = rng.choice(list(_nodes(tree)))
    depth = rng.choice((50, 1000, 100_000))
    open_, close = ("[", "]") if rng.random() < 0.5 else ('{"__tuple__": [', "]}")
    inner = json.dumps(node)
    return _dump(_replace(tree, path, _RAW.format(0)), [open_ * depth + inner + close * depth]), \
        f"JSON {_describe(path)} nested {depth} deep in {open_.strip('[ ') or 'lists'}"


def json_text(raw, rng):
    """The JSON text damaged: cut, bytes that are not UTF-8, a byte-order mark, garbage
    after the document, or a document that is not an object at all."""
    kind = rng.choice(("cut", "not-utf8", "bom", "trailing", "not-object", "flip"))
    if kind == "cut":
        return raw[:rng.randrange(len(raw))], "JSON text cut short"
    if kind == "not-utf8":
        at = rng.randrange(len(raw))
        return raw[:at] + b"\xff\xfe\xc3" + raw[at:], f"JSON text: invalid UTF-8 at {at}"
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw, "JSON text starts with a byte-order mark"
    if kind == "trailing":
        return raw + b" {}", "JSON text followed by another document"
    if kind == "not-object":
        doc = rng.choice((b"[]", b"null", b'"glassnet-checkpoint"', b"1", b""))
        return doc, f"JSON text -> {doc!r}"
    return mutators.flip(raw, rng)[0], "JSON text with flipped bits"


JSON = {"json-value": json_value, "json-key": json_key, "json-items": json_items,
        "json-array-ref": json_array_ref, "json-nesting": json_nesting, "json-text": json_text}


# ------------------------------------------------------------------------------ .npy
def _parse_npy(raw):
    """(version, header dict, data) of a .npy member."""
    major = raw[6]
    size = 2 if major == 1 else 4
    (length,) = struct.unpack_from("<H" if size == 2 else "<I", raw, 8)
    start = 8 + size
    header = ast.literal_eval(raw[start:start + length].decode("latin1"))
    return (major, raw[7]), header, raw[start + length:]


def _npy(version, text, data, length=None):
    """A .npy file from a header text (padded with spaces and a newline to 64 bytes, as
    NumPy writes it) and data; `length` overrides the header-length field."""
    size = 2 if version[0] == 1 else 4
    text = text.encode("latin1") if isinstance(text, str) else text
    pad = -(8 + size + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    field = struct.pack("<H" if size == 2 else "<I", len(text) if length is None else length)
    return b"\x93NUMPY" + bytes(version) + field + text + data


def _header_text(header):
    return "{" + "".join(f"{k!r}: {v!r}, " for k, v in header.items()) + "}"


def npy_shape(raw, rng):
    """The shape replaced: huge (terabytes, or past int64), negative, empty, off by one,
    many dimensions, or not a tuple of integers."""
    version, header, data = _parse_npy(raw)
    old = header["shape"]
    n = 1
    for d in old:
        n *= d
    header["shape"] = rng.choice(((2 ** 40,), (2 ** 62,), (2 ** 31, 2 ** 31), (2 ** 63,),
                                  (2 ** 64 + n,), (-1,), (0,), (), (n + 1,), (max(n - 1, 0),),
                                  (1,) * 64, (2,) * 33, (n,), (3.5,), "x", [n], (None,)))
    return _npy(version, _header_text(header), data), f".npy shape {old} -> {header['shape']}"


def npy_dtype(raw, rng):
    """The dtype replaced: wider, other byte order, objects (a pickle), strings, void,
    dates, complex, a record, or no dtype at all."""
    version, header, data = _parse_npy(raw)
    old = header["descr"]
    header["descr"] = rng.choice(("<f8", ">f4", ">i8", "|O", "<U4", "|S4", "|V4", "<M8[s]",
                                  "<m8[ns]", "<c8", [("a", "<f4")], [("a", "|O")], "float32",
                                  "nope", "<f2", "|b1", "<i8", "|u1", 123, "<f4" * 1000))
    shown = str(header["descr"])[:40]
    return _npy(version, _header_text(header), data), f".npy dtype {old!r} -> {shown}"


def npy_order(raw, rng):
    """fortran_order set to True (legitimate) or to something that is not a bool."""
    version, header, data = _parse_npy(raw)
    header["fortran_order"] = rng.choice((True, 1, "yes", None, [False]))
    return _npy(version, _header_text(header), data), \
        f".npy fortran_order -> {header['fortran_order']!r}"


def npy_header(raw, rng):
    """The header's framing or syntax broken: keys missing or extra, not a dict, code,
    a wrong length field, another version, a bad magic string."""
    version, header, data = _parse_npy(raw)
    kind = rng.choice(("drop-key", "extra-key", "not-dict", "code", "unclosed", "length",
                       "version", "magic"))
    text = _header_text(header)
    if kind == "drop-key":
        key = rng.choice(sorted(header))
        del header[key]
        return _npy(version, _header_text(header), data), f".npy header without {key!r}"
    if kind == "extra-key":
        header["extra"] = 1
        return _npy(version, _header_text(header), data), ".npy header with an extra key"
    if kind in ("not-dict", "code", "unclosed"):
        text = {"not-dict": "[1, 2, 3]", "code": "__import__('os').system('false')",
                "unclosed": text[:-3]}[kind]
        return _npy(version, text, data), f".npy header -> {text[:50]!r}"
    if kind == "length":
        good = len(_npy(version, text, b"")) - 8 - (2 if version[0] == 1 else 4)
        length = rng.choice((0, 1, good - 1, good + 1, good + 64, 0xFFFF, 0xFFFFFFFF))
        if version[0] == 1:
            length &= 0xFFFF
        return _npy(version, text, data, length), f".npy header length {good} -> {length}"
    if kind == "version":
        new = rng.choice(((2, 0), (3, 0), (0, 0), (4, 0), (255, 255), (1, 1)))
        out = bytearray(raw)
        out[6:8] = bytes(new)                     # the length field keeps its old width
        return bytes(out), f".npy version {version} -> {new}"
    return b"\x93NUMPZ" + raw[6:], ".npy magic string damaged"


def npy_data(raw, rng):
    """The data cut or extended (the header unchanged)."""
    version, header, data = _parse_npy(raw)
    size = rng.choice((0, max(len(data) - 1, 0), len(data) // 2, len(data) + 1, len(data) + 4096))
    body = data[:size] if size <= len(data) else data + bytes(size - len(data))
    text = _header_text(header)
    return _npy(version, text, body), f".npy data {len(data)} -> {len(body)} bytes"


NPY = {"npy-shape": npy_shape, "npy-dtype": npy_dtype, "npy-order": npy_order,
       "npy-header": npy_header, "npy-data": npy_data}
