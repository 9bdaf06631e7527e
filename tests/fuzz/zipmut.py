"""Structure-aware mutations of ZIP archives (glassnet checkpoints, PyTorch `.pth` files).

`parse` finds every member's local header, its data and whatever follows the data
(torch writes a data descriptor there), the central directory entries and the end
record; `rebuild` writes the archive back with some members' contents replaced, every
CRC, size and offset recomputed. The mutations either change one header field to an
edge value (and leave the rest as it was, so the lie is the only fault), or change one
member's content cleanly, so the reader's parser behind the CRC check sees it: a
checkpoint's JSON and `.npy` members go to `gnmut`, a `.pth`'s pickle to `picklemut`.
"""
import bz2
import struct
import zlib
from collections import namedtuple

from . import gnmut, mutators, picklemut

LOCAL = struct.Struct("<IHHHHHIIIHH")
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
EOCD = struct.Struct("<IHHHHIIH")
# field -> byte offset (format) in each record
LOCAL_FIELDS = {"version": (4, "H"), "flags": (6, "H"), "method": (8, "H"), "crc": (14, "I"),
                "compressed_size": (18, "I"), "size": (22, "I"), "name_length": (26, "H"),
                "extra_length": (28, "H")}
CENTRAL_FIELDS = {"version_made": (4, "H"), "version": (6, "H"), "flags": (8, "H"),
                  "method": (10, "H"), "crc": (16, "I"), "compressed_size": (20, "I"),
                  "size": (24, "I"), "name_length": (28, "H"), "extra_length": (30, "H"),
                  "comment_length": (32, "H"), "disk": (34, "H"), "offset": (42, "I")}
EOCD_FIELDS = {"disk": (4, "H"), "entries_here": (8, "H"), "entries": (10, "H"),
               "directory_size": (12, "I"), "directory_offset": (16, "I"),
               "comment_length": (20, "H")}
EDGES = {"version": (0, 10, 20, 45, 51, 63, 64, 99, 0xFF, 0xFFFF),
         "flags": (0x1, 0x8, 0x40, 0x800, 0x2000, 0xFFFF),
         "method": (1, 6, 8, 9, 12, 14, 19, 93, 98, 99, 0xFFFF)}

Member = namedtuple("Member", "name local data_start data_end next central central_end")
Archive = namedtuple("Archive", "members directory directory_end eocd")


def parse(data):
    """The layout of a ZIP archive; None if it has no end record. `next` is where the
    bytes after a member's data (descriptor, padding) stop; between `directory_end` and
    the end record, torch writes a ZIP64 end record and its locator."""
    eocd = data.rfind(b"PK\x05\x06")
    if eocd < 0:
        return None
    _, _, _, _, count, size, directory, _ = EOCD.unpack_from(data, eocd)
    entries, pos = [], directory
    for _ in range(count):
        fields = CENTRAL.unpack_from(data, pos)
        name_length, extra_length, comment_length, offset = fields[10], fields[11], fields[12], \
            fields[16]
        name = data[pos + CENTRAL.size:pos + CENTRAL.size + name_length].decode("utf-8")
        end = pos + CENTRAL.size + name_length + extra_length + comment_length
        local = LOCAL.unpack_from(data, offset)
        start = offset + LOCAL.size + local[9] + local[10]
        entries.append([name, offset, start, start + fields[8], pos, end])
        pos = end
    entries.sort(key=lambda e: e[1])
    members = [Member(*e[:4], next=(entries[i + 1][1] if i + 1 < len(entries) else directory),
                      central=e[4], central_end=e[5]) for i, e in enumerate(entries)]
    return Archive(members, directory, pos, eocd)


def _put(buffer, at, fmt, value):
    struct.pack_into("<" + fmt, buffer, at, value % (1 << (8 * struct.calcsize(fmt))))


def _get(data, at, fmt):
    return struct.unpack_from("<" + fmt, data, at)[0]


Content = namedtuple("Content", "payload crc size method")


def content(raw, method=0):
    """A member's new content: raw bytes stored (0) or compressed, deflate (8) or bzip2 (12)."""
    payload = {0: lambda b: b, 8: lambda b: mutators.deflate(b, 0), 12: bz2.compress}[method](raw)
    return Content(payload, zlib.crc32(raw), len(raw), method)


def rebuild(data, archive, contents):
    """The archive with members' contents replaced (contents: name -> Content); CRCs,
    sizes (in the local header unless deferred to a data descriptor, in the descriptor,
    in the directory) and every offset after them are recomputed."""
    out, moved, numbers = bytearray(data[:archive.members[0].local]), {}, {}
    for m in archive.members:
        local = bytearray(data[m.local:m.data_start])
        payload, trailer = data[m.data_start:m.data_end], bytearray(data[m.data_end:m.next])
        if m.name in contents:
            new = contents[m.name]
            payload = new.payload
            numbers[m.name] = {"crc": new.crc, "compressed_size": len(payload),
                               "size": new.size, "method": new.method}
            for field, value in numbers[m.name].items():
                at, fmt = LOCAL_FIELDS[field]
                if field == "method" or _get(local, at, fmt):   # 0: deferred to the descriptor
                    _put(local, at, fmt, value)
            if trailer[:4] == b"PK\x07\x08":
                struct.pack_into("<III", trailer, 4, new.crc, len(payload), new.size % (1 << 32))
        moved[m.name] = len(out)
        out += local + payload + trailer
    directory_start = len(out)
    for m in sorted(archive.members, key=lambda m: m.central):
        entry = bytearray(data[m.central:m.central_end])
        for field, value in numbers.get(m.name, {}).items():
            _put(entry, *CENTRAL_FIELDS[field], value)
        _put(entry, *CENTRAL_FIELDS["offset"], moved[m.name])
        out += entry
    return bytes(out + _ends(data, archive, directory_start, len(out) - directory_start))


def _ends(data, archive, directory, size):
    """The end record (and torch's ZIP64 end record and locator before it) pointing at a
    directory of `size` bytes at `directory`."""
    tail = bytearray(data[archive.directory_end:])
    if tail[:4] == b"PK\x06\x06":                     # ZIP64 end record, then its locator
        struct.pack_into("<QQ", tail, 40, size, directory)
        locator = 12 + struct.unpack_from("<Q", tail, 4)[0]
        struct.pack_into("<Q", tail, locator + 8, directory + size)
    end = archive.eocd - archive.directory_end
    _put(tail, end + EOCD_FIELDS["directory_size"][0], "I", size)
    _put(tail, end + EOCD_FIELDS["directory_offset"][0], "I", directory)
    return bytes(tail)


def _pick_member(archive, rng, prefer=()):
    chosen = [m for m in archive.members if m.name.endswith(prefer)] if prefer else []
    return rng.choice(chosen if chosen and rng.random() < 0.7 else archive.members)


# ------------------------------------------------------------------------- mutations
def header_field(data, rng):
    """One field of one member's local header or directory entry set to an edge value."""
    archive = parse(data)
    m = _pick_member(archive, rng)
    central = rng.random() < 0.5
    table, base = (CENTRAL_FIELDS, m.central) if central else (LOCAL_FIELDS, m.local)
    field = rng.choice(sorted(table))
    at, fmt = table[field]
    old = _get(data, base + at, fmt)
    value = rng.choice(EDGES.get(field, ()) + (
        0, 1, old - 1, old + 1, 2 * old, 0xFFFF if fmt == "H" else 0xFFFFFFFF,
        len(data), 0x7FFFFFFF, old ^ (1 << rng.randrange(8 * struct.calcsize(fmt)))))
    out = bytearray(data)
    _put(out, base + at, fmt, value)
    where = "directory entry" if central else "local header"
    return bytes(out), f"{where} of {m.name}: {field} {old} -> {_get(out, base + at, fmt)}"


def end_record(data, rng):
    """One field of the end-of-central-directory record set to an edge value."""
    archive = parse(data)
    field = rng.choice(sorted(EOCD_FIELDS))
    at, fmt = EOCD_FIELDS[field]
    old = _get(data, archive.eocd + at, fmt)
    value = rng.choice((0, 1, old - 1, old + 1, 0xFFFF if fmt == "H" else 0xFFFFFFFF))
    out = bytearray(data)
    _put(out, archive.eocd + at, fmt, value)
    return bytes(out), f"end record: {field} {old} -> {_get(out, archive.eocd + at, fmt)}"


def directory(data, rng):
    """The directory lists a member twice or omits one, or the archive gains a prefix (a
    self-extracting stub, valid ZIP: readers find the shifted offsets)."""
    archive = parse(data)
    m = rng.choice(archive.members)
    kind = rng.choice(("twice", "drop", "prefix"))
    if kind == "prefix":
        stub = b"#!/bin/sh\nexit 0\n" * 3
        return stub + data, f"{len(stub)} bytes before the archive (offsets not adjusted)"
    entries = b"".join(data[x.central:x.central_end] for x in
                       sorted(archive.members, key=lambda x: x.central))
    entry, count = data[m.central:m.central_end], len(archive.members)
    if kind == "twice":
        entries, count = entries + entry, count + 1
    else:
        entries, count = entries.replace(entry, b"", 1), count - 1
    tail = bytearray(_ends(data, archive, archive.directory, len(entries)))
    end = archive.eocd - archive.directory_end
    struct.pack_into("<HH", tail, end + 8, count, count)
    if tail[:4] == b"PK\x06\x06":
        struct.pack_into("<QQ", tail, 24, count, count)
    said = "lists {} twice" if kind == "twice" else "omits {}"
    return data[:archive.directory] + entries + bytes(tail), "directory " + said.format(m.name)


def recompress(data, rng):
    """One member compressed with deflate or bzip2 (valid ZIP: the value is unchanged)."""
    archive = parse(data)
    m = _pick_member(archive, rng, (".json", ".pkl", ".npy"))
    raw = _content(data, m)
    if raw is None:
        return None
    method = rng.choice((8, 12))
    return rebuild(data, archive, {m.name: content(raw, method)}), \
        f"member {m.name} recompressed ({'deflate' if method == 8 else 'bzip2'})"


def bomb(data, rng):
    """One member replaced by a deflate stream of its own content followed by gigabytes of
    zeros; the headers declare the true size and CRC, or keep the old ones (a lie)."""
    archive = parse(data)
    m = _pick_member(archive, rng, ("structure.json", ".npy", "data.pkl"))
    raw = _content(data, m)
    if raw is None:
        return None
    zeros, lie = rng.choice(mutators.BOMB_SIZES), rng.random() < 0.5
    # the lie keeps the old size and CRC: a reader that stops where the size says reads
    # the old content, one that inflates to the end meets gigabytes
    new = Content(mutators.deflate(raw, zeros), zlib.crc32(raw), len(raw), 8) if lie else \
        Content(mutators.deflate(raw, zeros), mutators.crc32_zeros(zlib.crc32(raw), zeros),
                len(raw) + zeros, 8)
    declared = "declares the old size" if lie else "declares its true size"
    return rebuild(data, archive, {m.name: new}), (
        f"member {m.name}: deflate bomb, its content then {zeros / mutators.GIB:.1f} GiB of "
        f"zeros ({declared})")


def _content(data, m):
    """The uncompressed content of a member, or None if it is not stored/deflated."""
    method = _get(data, m.local + LOCAL_FIELDS["method"][0], "H")
    payload = data[m.data_start:m.data_end]
    if method == 0:
        return payload
    if method == 8:
        return zlib.decompress(payload, -15)
    return None


def member_content(data, rng):
    """One member's content mutated and the archive rebuilt with its CRC and sizes right:
    the JSON and `.npy` members of a checkpoint by `gnmut`, a `.pth` pickle by
    `picklemut`, anything else (raw storages, records) by a blind mutation."""
    archive = parse(data)
    m = _pick_member(archive, rng, ("structure.json", ".npy", "data.pkl", "byteorder"))
    raw = _content(data, m)
    if raw is None or not raw:
        return None
    if m.name.endswith("structure.json"):
        table = gnmut.JSON
    elif m.name.endswith(".npy"):
        table = gnmut.NPY
    elif m.name.endswith(".pkl"):
        table = picklemut.MUTATORS
    else:
        table = {k: mutators.BLIND[k] for k in ("truncate", "append", "flip", "overwrite")}
        if m.name.endswith("byteorder"):
            table["byteorder"] = lambda b, r: (r.choice((b"big", b"", b"middle", b"little\n")),
                                               "its text replaced")
    name = rng.choice(sorted(table))
    result = table[name](raw, rng)
    if result is None:
        return None
    return rebuild(data, archive, {m.name: content(result[0])}), \
        f"member {m.name} ({name}): {result[1]} (CRC and sizes fixed)"


MUTATORS = {"zip-header": header_field, "zip-end": end_record, "zip-directory": directory,
            "zip-recompress": recompress, "zip-bomb": bomb, "zip-member": member_content}
