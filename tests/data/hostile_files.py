"""Hostile data files, crafted in milliseconds, and a child process that reads one and
measures its peak memory: shared by the hostile-data tests (and usable by a fuzzer).

The bombs are built without compressing their payload: a deflate block of 1 MiB of zeros
compressed after a full flush refers to nothing before it, so repeating it gives a
valid stream of any length, and the checksums are computed over zeros a MiB at a time.
"""
import io
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from glassnet.data.mnist import IMAGES

from .test_cifar import _Python2Pickler

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
# numpy's own numpy_reconstruct (numpy.core or numpy._core, whichever this NumPy has)
numpy_reconstruct = pickle.loads(pickle.dumps(np.zeros(1), protocol=2)).__reduce__()[0]


def deflate_zeros(n):
    """A raw deflate stream of n zero bytes, made in milliseconds: one 1 MiB block,
    compressed after a full flush (so it refers to nothing before it), repeated."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(MiB)) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return block * (n // MiB) + tail.compress(bytes(n % MiB)) + tail.flush()


def _checksum_zeros(fn, n, start):
    value, zeros = start, bytes(MiB)
    for _ in range(n // MiB):
        value = fn(zeros, value)
    return fn(bytes(n % MiB), value)


def gzip_zeros(prefix, n):
    """A valid gzip file holding `prefix` then n zero bytes (CRC and size included)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH) + deflate_zeros(n)
    crc = _checksum_zeros(zlib.crc32, n, zlib.crc32(prefix))
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body +
            struct.pack("<II", crc, (len(prefix) + n) & 0xFFFFFFFF))


def zlib_zeros(n):
    """A valid zlib stream of n zero bytes (what a PNG's IDAT chunks hold)."""
    return (b"\x78\xda" + deflate_zeros(n) +
            struct.pack(">I", _checksum_zeros(zlib.adler32, n, 1)))


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, idat=None, before_idat=(), color=2):
    """A PNG of 8-bit gray (color 0) or RGB (color 2) pixels, all zero unless `idat`
    (the zlib stream of the filtered rows) is given, with extra chunks before IDAT."""
    if idat is None:
        idat = zlib_zeros(height * (1 + width * (3 if color == 2 else 1)))
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"".join(before_idat) +
            png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_with_garbage_in_idat(side=16):
    """A gray PNG whose image data is split in two IDAT chunks with junk bytes between
    them, where the next chunk header should be (Pillow: SyntaxError)."""
    rows = np.random.default_rng(1).integers(0, 256, (side, 1 + side), dtype=np.uint8)
    rows[:, 0] = 0                                              # filter type: none
    data = zlib.compress(rows.tobytes())
    head = png(side, side, idat=data[:8], color=0)[:-12]        # up to the first IDAT
    return (head + b"\x00\x00\x00\x10\xde\xad\xbe\xef" + bytes(20) +
            png_chunk(b"IDAT", data[8:]) + png_chunk(b"IEND", b""))


def text_chunk_bomb(kind=b"zTXt", inflated=64 * MiB):
    """A 4x4 PNG with one compressed text (or ICC profile) chunk that inflates to
    `inflated` bytes."""
    compressed = b"\x78\xda" + deflate_zeros(inflated) + struct.pack(
        ">I", _checksum_zeros(zlib.adler32, inflated, 1))
    # zTXt and iCCP: name, 0, method 0; iTXt: name, 0, compressed 1, method 0, language
    # 0, translated keyword 0
    body = b"bomb\x00\x01\x00\x00\x00" + compressed if kind == b"iTXt" else \
        b"bomb\x00\x00" + compressed
    return png(4, 4, before_idat=[png_chunk(kind, body)])


def many_text_chunks(count=12, each=MiB - 1024):
    """A PNG whose text chunks each stay under the per-chunk limit but not together (each
    under its own keyword: Pillow keeps the last text of a keyword only)."""
    text = zlib.compress(b"a" * each, 9)
    return png(4, 4, before_idat=[png_chunk(b"zTXt", b"k%d\x00\x00" % k + text)
                                  for k in range(count)])


def truncated_jpeg(path):
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, format="JPEG", quality=90)
    path.write_bytes(path.read_bytes()[:1200])
    return path


def idx_header(dims, magic=IMAGES):
    return struct.pack(f">{1 + len(dims)}I", magic, *dims)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def nested_tuple_key_pickle(depth):
    """A dict whose key is a tuple nested `depth` deep, one byte a level: hashing it
    overflows the C stack for depths near a million (a segmentation fault)."""
    return b"\x80\x02})" + b"\x85" * depth + b"K\x01s."


def memo_reference_pickle(count):
    """{b'labels': [7, 7, 7, ...]}: one object, then `count` two-byte references to it."""
    return (b"\x80\x02}q\x00(U\x06labelsq\x01]q\x02(K\x07q\x03" + b"h\x03" * count +
            b"eu.")


# --------------------------------------------------------- peak memory, in a child
def peak_rise(code, tree=REPO, timeout=120, headroom_mib=None):
    """Run `code` (which reads a file) in a fresh Python on the glassnet in `tree`:
    (rise of the resident-memory peak while it runs, in MiB; what it raised or 'ok'; the
    return code, negative for a signal). headroom_mib: limit the address space to that
    much above what the child uses before `code` runs."""
    script = textwrap.dedent("""
        import resource, sys
        import glassnet
        from glassnet.data import read_idx
        def status(field):
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) / 1024 for l in f if l.startswith(field))
        try:        # Linux: restart the peak (VmHWM) at the resident size now
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before, peak = status("VmRSS"), lambda: status("VmHWM")
        except OSError:     # ru_maxrss: the peak since start (imports included)
            peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            before = peak()
        if {headroom}:
            limit = int((status("VmSize") + {headroom}) * 2**20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            {code}
            outcome = "ok"
        except Exception as e:
            outcome = type(e).__name__ + ": " + str(e)[:300]
        print(peak() - before)
        print(outcome)
    """).format(code=code, headroom=headroom_mib)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=tree)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1:] or ["killed"], done.returncode
    rise, outcome = done.stdout.strip().splitlines()[-2:]
    return float(rise), outcome, 0


def assert_refused_within(code, bound_mib, *fragments, headroom_mib=None):
    rise, outcome, rc = peak_rise(code, headroom_mib=headroom_mib)
    assert rc == 0, f"the child died ({rc}): {outcome}"
    assert outcome.startswith("DataFormatError"), outcome
    for f in fragments:
        assert f in outcome, outcome
    assert rise < bound_mib, f"peak memory rose {rise:.0f} MiB reading a bomb"
    return rise


class Crafted:
    """Pickled as `fn(*args)`, then BUILD with `state` when given: any call a hostile
    file could make, written by pickle itself."""

    def __init__(self, fn, args, state=None):
        self.fn, self.args, self.state = fn, args, state


class _CraftingPickler(_Python2Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Crafted):
            return (obj.fn, obj.args) if obj.state is None else (obj.fn, obj.args, obj.state)
        return NotImplemented


def crafted_pickle(obj):
    buffer = io.BytesIO()
    _CraftingPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def crafted_dtype(code, state_order="|", names=None, fields=None):
    return Crafted(np.dtype, (code, False, True), (3, state_order, None, names, fields, -1, -1, 0))


def crafted_array(shape, dtype, raw, fortran=False):
    return Crafted(numpy_reconstruct, (np.ndarray, (0,), "b"), (1, shape, dtype, fortran, raw))


def hostile_folder(root, bad, bad_bytes):
    """Two class folders a/, b/ of 28x28 gray PNGs (16 images), and the hostile file at
    root/`bad` (e.g. 'a/0.png', the first sample, which sets the input size)."""
    for k in range(16):
        gray = np.full((28, 28), 16 * k, np.uint8)
        path = root / ("ab"[k % 2]) / f"{k:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(gray).save(path)
    return write(root / bad, bad_bytes)


# hostile images the image folders and the command are tried on
HOSTILE = {"bomb": png(60000, 60000, idat=zlib.compress(b"")),
           "garbage": png_with_garbage_in_idat(28)}
