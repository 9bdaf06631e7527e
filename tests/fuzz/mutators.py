"""Mutations of a seed file's bytes, each with a sentence saying what it changed.

A mutator is `fn(data, rng) -> (mutant bytes, description)`, or None when it does not
apply to these bytes (a PNG mutation of a ZIP file); `rng` is a `random.Random`, so a
fixed seed gives the same mutants on every run. Two kinds:

- blind ones, for every format: bit flips, interesting integers written over bytes,
  truncations, appended garbage, zeroed, duplicated and inserted ranges;
- structure-aware ones, chosen by what the seed is (`sniff`): ZIP archives (`zipmut`,
  which hands a checkpoint's JSON and `.npy` members to `gnmut` and a `.pth`'s pickle
  to `picklemut`), pickles (CIFAR batches, legacy `.pth`), IDX files and their gzip
  wrapping (here), PNG and JPEG (`imagemut`). These change one field or one element
  and repair what would otherwise give the change away at once (CRCs, lengths), so
  the mutation reaches the parser behind the checksum.

The decompression bombs (streams of zeros that inflate to gigabytes) are built here
without ever holding the inflated bytes: one compressed megabyte of zeros ends on a
full flush, so it can be repeated, and the checksums over the zeros are computed
arithmetically (`crc32_zeros`, `adler32_zeros`).
"""
import functools
import gzip
import struct
import zlib
from collections import namedtuple

Mutation = namedtuple("Mutation", "data name description")

GIB = 1 << 30
# how often a mutator is drawn relative to the others of its kind (default 1): bombs are
# slow to build and, against an unbounded reader, slow to fail, so they come rarely
WEIGHTS = {"zip-bomb": 0.25, "gzip-bomb": 0.25, "png-bomb": 0.25}
BOMB_SIZES = (2 * GIB, 3 * GIB + GIB // 2)        # both past the runner's 1 GiB margin
# values that sit on the edges of the integer types headers use
INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0xFFFFFFFF, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1)


# ------------------------------------------------------------------------------ blind
def _position(data, rng):
    """A position, more often near the start, where headers are."""
    if rng.random() < 0.4:
        return rng.randrange(min(len(data), 64))
    return rng.randrange(len(data))


def flip(data, rng):
    """Flip 1 to 8 bits at random positions."""
    out, flipped = bytearray(data), []
    for _ in range(rng.choice((1, 1, 1, 2, 4, 8))):
        pos, bit = _position(data, rng), rng.randrange(8)
        out[pos] ^= 1 << bit
        flipped.append(f"{pos}.{bit}")
    return bytes(out), f"flip bits (byte.bit) {', '.join(flipped)}"


def overwrite(data, rng):
    """Write an interesting integer (1, 2, 4 or 8 bytes, either byte order) over the data."""
    width, order = rng.choice((1, 2, 4, 8)), rng.choice(("little", "big"))
    value = rng.choice(INTERESTING + (len(data),)) % (1 << (8 * width))
    pos = _position(data, rng)
    out = bytearray(data)
    out[pos:pos + width] = value.to_bytes(width, order)
    return bytes(out[:max(len(data), pos + width)]), \
        f"write {value:#x} as {width} bytes {order}-endian at {pos}"


def truncate(data, rng):
    """Cut the file short: anywhere, just before the end, or inside the first header."""
    near = min(64, len(data))
    n = rng.choice((rng.randrange(len(data)), len(data) - 1,
                    len(data) - rng.randint(1, near), rng.randrange(near)))
    return data[:n], f"truncate to {n} of {len(data)} bytes"


def append(data, rng):
    """Garbage after the end: random bytes, zeros, or the file's own head again."""
    kind = rng.choice(("random", "zeros", "head"))
    n = rng.choice((1, 7, 64, 1000, 65536))
    extra = {"random": lambda: rng.randbytes(n), "zeros": lambda: bytes(n),
             "head": lambda: data[:n]}[kind]()
    return data + extra, f"append {len(extra)} bytes ({kind})"


def _range(data, rng):
    n = min(len(data), rng.choice((1, 4, 16, 64, 512, 4096)))
    start = rng.randrange(len(data) - n + 1)
    return start, start + n


def zero(data, rng):
    """Zero a range of bytes."""
    start, end = _range(data, rng)
    return data[:start] + bytes(end - start) + data[end:], f"zero bytes {start}..{end}"


def duplicate(data, rng):
    """Copy a range of bytes and insert the copy somewhere else."""
    start, end = _range(data, rng)
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[start:end] + data[at:], \
        f"duplicate bytes {start}..{end} at {at}"


def insert(data, rng):
    """Insert random bytes somewhere."""
    at, n = _position(data, rng), rng.choice((1, 3, 8, 100))
    return data[:at] + rng.randbytes(n) + data[at:], f"insert {n} random bytes at {at}"


BLIND = {"flip": flip, "overwrite": overwrite, "truncate": truncate, "append": append,
         "zero": zero, "duplicate": duplicate, "insert": insert}


# ------------------------------------------------------------------ compressed zeros
def _gf2_apply(matrix, vector):
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def crc32_zeros(crc, n):
    """zlib.crc32(bytes(n), crc) without the n bytes: appending zeros is a linear map of
    the CRC register, raised to the n-th power by repeated squaring (as zlib's
    crc32_combine does)."""
    op = [0xEDB88320] + [1 << i for i in range(31)]          # one zero bit
    register = crc ^ 0xFFFFFFFF
    for _ in range(3):                                       # -> one zero byte
        op = [_gf2_apply(op, row) for row in op]
    while n:
        if n & 1:
            register = _gf2_apply(op, register)
        n >>= 1
        op = [_gf2_apply(op, row) for row in op]
    return register ^ 0xFFFFFFFF


def adler32_zeros(adler, n):
    """zlib.adler32(bytes(n), adler): zeros leave the low sum as it is and add it n times
    to the high one."""
    low, high = adler & 0xFFFF, adler >> 16
    return (((high + n * low) % 65521) << 16) | low


@functools.lru_cache(maxsize=None)
def _zero_block():
    """Raw deflate of 1 MiB of zeros, ending on a full flush: it can follow itself."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)


def deflate(prefix, zeros):
    """A raw deflate stream of `prefix` followed by `zeros` zero bytes (~1 KiB per MiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return head + _zero_block() * (zeros >> 20) + tail.compress(bytes(zeros & 0xFFFFF)) + \
        tail.flush()


def zlib_stream(prefix, zeros):
    """`deflate` wrapped as zlib (PNG's image data and compressed text)."""
    check = adler32_zeros(zlib.adler32(prefix), zeros)
    return b"\x78\xda" + deflate(prefix, zeros) + struct.pack(">I", check)


def gzip_stream(prefix, zeros):
    """`deflate` wrapped as gzip, with the true CRC and size."""
    crc = crc32_zeros(zlib.crc32(prefix), zeros)
    size = (len(prefix) + zeros) & 0xFFFFFFFF
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + deflate(prefix, zeros)
            + struct.pack("<II", crc, size))


# ---------------------------------------------------------------------------- IDX
def _idx_layout(data):
    """(ndim, header length) of an IDX file: magic 0x0000 TT NN, then NN uint32 dims."""
    ndim = data[3]
    return ndim, 4 + 4 * ndim


def idx_magic(data, rng):
    """Another magic: the other MNIST file's, another element type, more or fewer dims."""
    ndim, _ = _idx_layout(data)
    magic = rng.choice((2049, 2051, 0x0803 ^ 0x0100, 0x0D00 | ndim, 0x0800 | (ndim + 1),
                        0x0800 | (ndim - 1), 0x0800, 0x08FF, 0x01000803, 0xFFFFFFFF))
    return struct.pack(">I", magic) + data[4:], f"IDX magic -> {magic:#010x}"


def idx_dims(data, rng):
    """One dimension set to an edge value (0, off by one, 2**31, 2**32-1)."""
    ndim, header = _idx_layout(data)
    axis = rng.randrange(ndim)
    old = struct.unpack_from(">I", data, 4 + 4 * axis)[0]
    new = rng.choice((0, 1, old - 1, old + 1, 2 * old, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF))
    out = bytearray(data)
    struct.pack_into(">I", out, 4 + 4 * axis, new % (1 << 32))
    return bytes(out), f"IDX dim {axis}: {old} -> {new % (1 << 32)}"


def idx_wrapping_dims(data, rng):
    """Three dimensions whose product is 2**64, with no data: in int64 arithmetic the
    product wraps to 0 and matches the empty data (a lie only exact integers notice)."""
    ndim, _ = _idx_layout(data)
    if ndim != 3:
        return None
    dims = (2 ** 31, 2 ** 31, 4)
    return data[:4] + struct.pack(">3I", *dims), f"IDX dims -> {dims} (product 2**64), no data"


def idx_data(data, rng):
    """The data one element short or one too long, or gone (a header alone)."""
    _, header = _idx_layout(data)
    end = rng.choice((len(data) - 1, len(data) + 1, header))
    body = data[:end] if end <= len(data) else data + b"\x01"
    return body, f"IDX data: {len(data) - header} -> {len(body) - header} bytes"


IDX = {"idx-magic": idx_magic, "idx-dims": idx_dims, "idx-wrapping-dims": idx_wrapping_dims,
       "idx-data": idx_data}


def gzip_inner(data, rng):
    """A mutation of the IDX file inside the gzip wrapping, re-compressed cleanly."""
    inner = gzip.decompress(data)
    name = rng.choice(sorted(IDX) + ["truncate", "append", "flip"])
    result = (IDX.get(name) or BLIND[name])(inner, rng)
    if result is None:
        return None
    return gzip.compress(result[0], mtime=0), f"inside gzip: {result[1]}"


def gzip_bomb(data, rng):
    """The original IDX header and data, then gigabytes of zeros, with true CRC and size:
    the header promises a small file, the stream inflates to a huge one."""
    zeros = rng.choice(BOMB_SIZES)
    return gzip_stream(gzip.decompress(data), zeros), \
        f"gzip bomb: the IDX file followed by {zeros / GIB:.1f} GiB of zeros"


GZIP = {"gzip-inner": gzip_inner, "gzip-bomb": gzip_bomb}


# ------------------------------------------------------------------------- dispatch
def sniff(data):
    """What a seed is, by its first bytes: zip, gzip, png, jpeg, legacy-pth, pickle, idx."""
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:2] == b"\xff\xd8":
        return "jpeg"
    if data[:1] == b"\x80":
        return "legacy-pth" if picklemut.is_legacy_pth(data) else "pickle"
    if data[:3] == b"\x00\x00\x08":
        return "idx"
    raise ValueError(f"sniff: {data[:8]!r} starts no format the fuzzer knows")


def structured(kind):
    """The structure-aware mutators for one kind of seed."""
    return {"zip": zipmut.MUTATORS, "gzip": GZIP, "idx": IDX, "png": imagemut.PNG,
            "jpeg": imagemut.JPEG, "pickle": picklemut.CIFAR,
            "legacy-pth": picklemut.LEGACY}[kind]


def mutate(data, rng, names=None, blind_share=0.4):
    """One Mutation of data: blind with probability blind_share, else structure-aware;
    `names` restricts the choice to those mutators (by name)."""
    table = {**BLIND, **structured(sniff(data))}
    if names is not None:
        table = {k: table[k] for k in names if k in table}
    blind = [k for k in table if k in BLIND]
    aware = [k for k in table if k not in BLIND]
    for _ in range(100):
        pool = blind if blind and (not aware or rng.random() < blind_share) else aware
        name = rng.choices(pool, [WEIGHTS.get(k, 1.0) for k in pool])[0]
        result = table[name](data, rng)
        if result is not None and result[0] != data:
            return Mutation(result[0], name, result[1])
    raise ValueError(f"mutate: none of {sorted(table)} changes this {sniff(data)} file")


from . import imagemut, picklemut, zipmut  # noqa: E402  (they use the helpers above)
