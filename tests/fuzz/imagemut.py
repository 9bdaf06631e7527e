"""Mutations of PNG chunks and JPEG segments.

PNG: the file is split into chunks (length, type, data, CRC) and written back with
fresh CRCs unless the mutation is about the CRC or the length field, so a change to
IHDR, IDAT or a text chunk reaches Pillow's decoder instead of its checksum test.
JPEG: the marker segments up to the scan (SOF, DQT, DHT, SOS, APPn), and the scan's
entropy-coded data. Both get bombs: headers declaring more pixels than Pillow's limit,
or (PNG) image data and compressed text that inflate to gigabytes.
"""
import struct
import zlib

from . import mutators

SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------ PNG
def chunks(data):
    """[(type, data)] of a PNG file (the signature checked by the caller)."""
    found, pos = [], len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        found.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return found


def chunk(kind, body, crc=None):
    """One chunk, its CRC computed over type and data unless given."""
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc & 0xFFFFFFFF)


def png(parts):
    """A PNG file from (type, data) pairs, every CRC right."""
    return SIGNATURE + b"".join(chunk(kind, body) for kind, body in parts)


def _index(parts, kind):
    return next(i for i, (k, _) in enumerate(parts) if k == kind)


_IHDR = {"width": (0, ">I"), "height": (4, ">I"), "bit depth": (8, "B"), "colour type": (9, "B"),
         "compression": (10, "B"), "filter": (11, "B"), "interlace": (12, "B")}


def ihdr(data, rng):
    """One IHDR field set to an edge value (CRC fixed)."""
    parts = chunks(data)
    i = _index(parts, b"IHDR")
    field = rng.choice(sorted(_IHDR))
    at, fmt = _IHDR[field]
    body = bytearray(parts[i][1])
    (old,) = struct.unpack_from(fmt, body, at)
    values = (0, 1, 60000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, old + 1, old - 1) if fmt == ">I" \
        else (0, 1, 2, 3, 4, 5, 6, 7, 16, 255)
    value = rng.choice(values) % (1 << (8 * struct.calcsize(fmt)))
    struct.pack_into(fmt, body, at, value)
    parts[i] = (b"IHDR", bytes(body))
    return png(parts), f"PNG IHDR {field} {old} -> {value}"


def _chunk_position(data, rng):
    """(start, type, length) of a random chunk."""
    pos, found = len(SIGNATURE), []
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        found.append((pos, kind, length))
        pos += 12 + length
    return rng.choice(found)


def length_field(data, rng):
    """One chunk's length field lies (the CRC does not cover it)."""
    pos, kind, old = _chunk_position(data, rng)
    value = rng.choice((0, old - 1 if old else 1, old + 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF))
    return data[:pos] + struct.pack(">I", value) + data[pos + 4:], \
        f"PNG {kind.decode('latin1')} length {old} -> {value}"


def crc(data, rng):
    """One chunk's CRC wrong."""
    pos, kind, length = _chunk_position(data, rng)
    at = pos + 8 + length
    (old,) = struct.unpack_from(">I", data, at)
    return data[:at] + struct.pack(">I", old ^ 0x1) + data[at + 4:], \
        f"PNG {kind.decode('latin1')} CRC wrong"


def chunk_data(data, rng):
    """One chunk's data mutated blindly, its CRC fixed (IDAT most often)."""
    parts = chunks(data)
    idats = [i for i, (k, _) in enumerate(parts) if k == b"IDAT"]
    i = rng.choice(idats) if idats and rng.random() < 0.6 else rng.randrange(len(parts))
    kind, body = parts[i]
    if not body:
        return None
    name = rng.choice(("flip", "truncate", "append", "zero", "overwrite"))
    new, what = mutators.BLIND[name](body, rng)
    parts[i] = (kind, new)
    return png(parts), f"PNG {kind.decode('latin1')} data: {what} (CRC fixed)"


def idat_garbage(data, rng):
    """The image data split in two with another chunk between the halves: garbage of an
    unknown (ancillary or critical) type, or a text chunk."""
    parts = chunks(data)
    i = _index(parts, b"IDAT")
    body = parts[i][1]
    cut = rng.randrange(1, len(body))
    kind = rng.choice((b"tEXt", b"gaRb", b"GARB", b"IDAT", b"IHDR", b"IEND", b"\x00\x00\x00\x00"))
    middle = (kind, b"Comment\x00x" if kind == b"tEXt" else rng.randbytes(rng.choice((0, 5, 300))))
    parts[i:i + 1] = [(b"IDAT", body[:cut]), middle, (b"IDAT", body[cut:])]
    return png(parts), f"PNG: a {kind!r} chunk inside the image data"


def order(data, rng):
    """A critical chunk dropped, doubled or moved."""
    parts = chunks(data)
    kind = rng.choice((b"IHDR", b"IDAT", b"IEND", b"PLTE"))
    if kind not in [k for k, _ in parts]:
        return None
    i = _index(parts, kind)
    what = rng.choice(("drop", "double", "first", "last"))
    item = parts.pop(i)
    if what == "double":
        parts[i:i] = [item, item]
    elif what == "first":
        parts.insert(0, item)
    elif what == "last":
        parts.append(item)
    return png(parts), f"PNG: {what} {kind.decode()}"


def _before_iend(parts, extra):
    return parts[:-1] + extra + parts[-1:]


def text(data, rng):
    """Text chunks: huge, malformed, thousands of them, or compressed ones that inflate
    to gigabytes (zTXt, iTXt, iCCP)."""
    parts = chunks(data)
    kind = rng.choice(("huge", "no-separator", "bad-method", "many", "zTXt-bomb", "iTXt-bomb",
                       "iCCP-bomb"))
    if kind.endswith("bomb"):
        zeros = rng.choice(mutators.BOMB_SIZES)
        stream = mutators.zlib_stream(b"", zeros)
        body = {"zTXt-bomb": b"Comment\x00\x00", "iTXt-bomb": b"Comment\x00\x01\x00\x00\x00",
                "iCCP-bomb": b"icc\x00\x00"}[kind] + stream
        extra = [(kind[:4].encode(), body)]
        kind += f" ({zeros / mutators.GIB:.1f} GiB)"
    else:
        extra = {"huge": lambda: [(b"tEXt", b"Comment\x00" + b"x" * (4 << 20))],
                 "no-separator": lambda: [(b"tEXt", b"no separator here")],
                 "bad-method": lambda: [(b"zTXt", b"Comment\x00\x07" + zlib.compress(b"hi"))],
                 "many": lambda: [(b"tEXt", b"k%d\x00v" % i) for i in range(20000)]}[kind]()
    at = 1 if kind.startswith("iCCP") else len(parts) - 1     # iCCP must precede IDAT
    parts[at:at] = extra
    return png(parts), f"PNG text chunks: {kind}"


def bomb(data, rng):
    """IHDR declares a huge 8-bit gray image and the image data holds all its (zero)
    pixels, compressed: past Pillow's default limit, just under it, or the original size
    with the data running on for gigabytes."""
    parts = chunks(data)
    size = rng.choice(((20000, 20000), (60000, 60000), (9400, 9400), None))
    if size is None:
        header = parts[_index(parts, b"IHDR")][1]
        zeros = rng.choice(mutators.BOMB_SIZES)
        what = f"IDAT inflates to {zeros / mutators.GIB:.1f} GiB past a small image"
    else:
        width, height = size
        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        zeros = (width + 1) * height                  # a filter byte, then the row
        what = f"{width}x{height} gray pixels declared and present"
    idat = mutators.zlib_stream(b"", zeros)
    return png([(b"IHDR", header), (b"IDAT", idat), (b"IEND", b"")]), f"PNG bomb: {what}"


PNG = {"png-ihdr": ihdr, "png-length": length_field, "png-crc": crc, "png-chunk-data": chunk_data,
       "png-idat-garbage": idat_garbage, "png-order": order, "png-text": text, "png-bomb": bomb}


# ----------------------------------------------------------------------------- JPEG
def segments(data):
    """[(marker, start, end)] of the segments before the scan data, then ('scan', start,
    end) for the entropy-coded data (to the EOI marker or the end)."""
    found, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        (length,) = struct.unpack_from(">H", data, pos + 2)
        found.append((marker, pos, pos + 2 + length))
        pos += 2 + length
        if marker == 0xDA:
            end = data.rfind(b"\xff\xd9")
            found.append(("scan", pos, end if end > pos else len(data)))
            break
    return found


def _segment(data, markers):
    return [s for s in segments(data) if s[0] in markers]


def sof(data, rng):
    """One frame-header field (precision, height, width, component count, sampling
    factors, table number) set to an edge value."""
    (marker, start, end), = _segment(data, (0xC0, 0xC1, 0xC2))[:1]
    fields = {"precision": (4, ">B", (0, 12, 16, 255)), "height": (5, ">H", (0, 1, 65500, 65535)),
              "width": (7, ">H", (0, 1, 65500, 65535)), "components": (9, ">B", (0, 1, 4, 255)),
              "sampling": (11, ">B", (0x00, 0xFF, 0x44, 0x13)), "table": (12, ">B", (3, 15, 255))}
    field = rng.choice(sorted(fields))
    at, fmt, values = fields[field]
    out = bytearray(data)
    (old,) = struct.unpack_from(fmt, out, start + at)
    value = rng.choice(values)
    struct.pack_into(fmt, out, start + at, value)
    return bytes(out), f"JPEG SOF{marker - 0xC0} {field} {old} -> {value}"


def segment_length(data, rng):
    """One segment's length field set to an edge value."""
    marker, start, end = rng.choice([s for s in segments(data) if s[0] != "scan"])
    old = end - start - 2
    value = rng.choice((0, 1, 2, old - 1, old + 1, 0xFFFF))
    return data[:start + 2] + struct.pack(">H", value) + data[start + 4:], \
        f"JPEG segment {marker:#04x} length {old} -> {value}"


def segment_data(data, rng):
    """The content of a table (DQT, DHT), frame or scan header damaged, length kept."""
    marker, start, end = rng.choice(_segment(data, (0xDB, 0xC4, 0xC0, 0xC2, 0xDA)))
    body = data[start + 4:end]
    new, what = rng.choice((mutators.flip, mutators.zero, mutators.overwrite))(body, rng)
    return data[:start + 4] + new[:len(body)] + data[end:], f"JPEG segment {marker:#04x}: {what}"


def scan(data, rng):
    """The entropy-coded data damaged: bits flipped, zeroed, cut, a marker inserted, or
    the end-of-image marker gone."""
    (_, start, end), = [s for s in segments(data) if s[0] == "scan"]
    kind = rng.choice(("flip", "zero", "cut", "marker", "no-eoi"))
    if kind in ("flip", "zero"):
        new, what = mutators.BLIND[kind](data[start:end], rng)
        return data[:start] + new + data[end:], f"JPEG scan data: {what}"
    if kind == "cut":
        at = rng.randrange(start, end)
        return data[:at], f"JPEG cut inside the scan data at {at}"
    if kind == "marker":
        at = rng.randrange(start, end)
        marker = bytes([0xFF, rng.choice((0xD0, 0xD9, 0xDA, 0xC0, 0xFE, 0x00))])
        return data[:at] + marker + data[at:], f"JPEG scan data: marker {marker.hex()} at {at}"
    return data[:end], "JPEG without its end-of-image marker"


def structure(data, rng):
    """A segment dropped or doubled, or unknown application segments added."""
    kind = rng.choice(("drop", "double", "app", "many-app"))
    if kind in ("drop", "double"):
        marker, start, end = rng.choice([s for s in segments(data) if s[0] != "scan"])
        new = b"" if kind == "drop" else data[start:end] * 2
        return data[:start] + new + data[end:], f"JPEG: {kind} segment {marker:#04x}"
    body = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(40) if kind == "app" else b"x"
    count = 1 if kind == "app" else 5000
    extra = (b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body) * count
    return data[:2] + extra + data[2:], f"JPEG: {count} APP1 segment(s) with garbage"


JPEG = {"jpeg-sof": sof, "jpeg-length": segment_length, "jpeg-segment-data": segment_data,
        "jpeg-scan": scan, "jpeg-structure": structure}
