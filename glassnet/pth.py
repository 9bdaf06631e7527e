"""Reading PyTorch's checkpoint files (`torch.save`) without running any of their code.

`glassnet.load` sniffs a file's content and hands PyTorch's files here. Two layouts:
- the ZIP archive of torch >= 1.6: `<name>/data.pkl` (the pickle), `<name>/data/<key>`
  (the raw bytes of one storage each), `<name>/byteorder`, `<name>/version`, ...;
- the legacy stream (`_use_new_zipfile_serialization=False`): pickles of the magic
  number, the protocol version (1001) and system information, the object, the list of
  storage keys, then each storage as an int64 element count and its bytes.

The pickle is read by the restricted unpickler of `pth_pickle.py`, which accepts only
what a state dict needs and builds records, not tensors. Then the storage bytes are
read: each no longer than the file (a declared size is never trusted for an
allocation), CRC-checked in a ZIP, and only then are the tensors built from them.
Everything that is wrong ends in one CheckpointError naming the file.

What comes back: tensors as glassnet Tensors (requires_grad False, on the CPU whatever
device they were saved from); all tensors of one storage share one NumPy buffer, as in
torch; bfloat16 becomes float32 (exact); containers as they were, an OrderedDict stays
an OrderedDict (without the `_metadata` of module versions torch attaches to it).
"""
import io
import mmap
import struct
import zipfile
import zlib

from .io import CheckpointError
from .pth_pickle import Builder, Refused, unpickle

__all__ = ["is_legacy", "load_zip", "load_legacy"]

_MAGIC = 0x1950A86A20F9469CFC6C             # the first pickle of a legacy file
_LEGACY_PROTOCOL = 1001
_LOCAL_HEADER = struct.Struct("<4s22xHH")   # ZIP local header: signature ... name, extra lengths
# Python errors that hostile input can still raise outside the unpickler (NumPy's checks,
# sizes past int64, allocations): all become CheckpointError
_INPUT_ERRORS = (MemoryError, OverflowError, ValueError, struct.error, zipfile.BadZipFile)


def _fail(path, error):
    message = str(error) if isinstance(error, Refused) else (
        f"cannot be read safely ({type(error).__name__}: {str(error)[:200]})")
    return CheckpointError(f"load: {path}: {message}")


# ----------------------------------------------------------------------------- ZIP layout
def load_zip(z, f, path):
    """Read a torch >= 1.6 checkpoint; z is the open ZipFile over the binary file f."""
    try:
        size = f.seek(0, io.SEEK_END)
        names = set(z.namelist())
        prefix = _archive_prefix(names)
        byteorder = "little"
        if f"{prefix}/byteorder" in names:
            byteorder = _read_member(z, f, size, f"{prefix}/byteorder").decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise Refused(f"its byteorder record says {byteorder[:20]!r}, not little or big")
        tree, storages = unpickle(io.BytesIO(_read_member(z, f, size, f"{prefix}/data.pkl")))
        buffers = {key: _read_member(z, f, size, f"{prefix}/data/{key}") for key in storages}
        return Builder(buffers, byteorder).build(tree)
    except (Refused,) + _INPUT_ERRORS as e:
        raise _fail(path, e) from None


def _archive_prefix(names):
    """The folder holding data.pkl (torch names it after the file: `net/data.pkl`)."""
    found = [n[:-len("/data.pkl")] for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(found) != 1:
        raise Refused(f"has {len(found)} <name>/data.pkl members, a PyTorch checkpoint has one")
    if f"{found[0]}/constants.pkl" in names:
        raise Refused("is a TorchScript archive (torch.jit.save); glassnet reads torch.save "
                      "files of state dicts")
    return found[0]


def _read_member(z, f, size, name):
    """The bytes of one stored member, read straight from the file into a writable buffer
    after checking that they lie inside it, then CRC-checked."""
    try:
        info = z.getinfo(name)
    except KeyError:
        raise Refused(f"member {name} is missing") from None
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
        raise Refused(f"member {name} is compressed or encrypted; torch stores members as they are")
    f.seek(info.header_offset)
    header = f.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise Refused(f"member {name} has no local header where the ZIP directory says")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[1:]
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    if info.compress_size != info.file_size or start + info.file_size > size:
        raise Refused(f"member {name} ({info.file_size} bytes) runs past the end of the file "
                      f"({size} bytes): truncated")
    buffer = bytearray(info.file_size)
    f.seek(start)
    if f.readinto(buffer) != len(buffer) or zlib.crc32(buffer) != info.CRC:
        raise Refused(f"member {name} is corrupt (CRC mismatch)")
    return buffer


# -------------------------------------------------------------------------- legacy layout
def is_legacy(head):
    """Whether a file's first bytes are the pickled magic number of torch's legacy format."""
    return head[:1] == b"\x80" and _MAGIC.to_bytes(10, "little") in head[:32]


def load_legacy(f, path):
    """Read a checkpoint in torch's legacy (non-ZIP) format from the binary file f."""
    try:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            reader = _MemoryReader(buffer)
            if unpickle(reader)[0] != _MAGIC or unpickle(reader)[0] != _LEGACY_PROTOCOL:
                raise Refused("has torch's legacy magic number but not its protocol (1001)")
            if type(unpickle(reader)[0]) is not dict:
                raise Refused("its system-information record is not a dict")
            tree, storages = unpickle(reader, legacy=True)
            keys = unpickle(reader)[0]
            if (type(keys) is not list or not all(type(k) is str for k in keys)
                    or sorted(keys) != sorted(storages)):
                raise Refused("its list of storage keys does not match the storages its "
                              "pickle names")
            buffers = {key: _legacy_storage(buffer, reader, key, storages[key]) for key in keys}
        return Builder(buffers, "little").build(tree)
    except (Refused,) + _INPUT_ERRORS as e:
        raise _fail(path, e) from None


class _MemoryReader:
    """A file over a buffer for the unpickler: a read never returns (or allocates) more
    than the buffer holds, whatever length a hostile pickle asks for."""

    def __init__(self, buffer):
        self.buffer, self.pos = buffer, 0

    def read(self, n=-1):
        end = len(self.buffer) if n < 0 else min(len(self.buffer), self.pos + n)
        data, self.pos = self.buffer[self.pos:end], end
        return data

    def readline(self):
        end = self.buffer.find(b"\n", self.pos)
        return self.read(-1 if end < 0 else end + 1 - self.pos)


def _legacy_storage(buffer, reader, key, dtype):
    """One storage after the pickles: its element count (int64), then its bytes (always
    little-endian: torch converts on big-endian machines)."""
    start = reader.pos + 8
    if start > len(buffer):
        raise Refused(f"storage {key!r} is missing: the file is truncated")
    (numel,) = struct.unpack("<q", buffer[reader.pos:start])
    if numel < 0:
        raise Refused(f"storage {key!r} has {numel} elements")
    nbytes = numel * dtype.stored.itemsize
    if start + nbytes > len(buffer):
        raise Refused(f"storage {key!r} claims {nbytes} bytes, the file holds "
                      f"{len(buffer) - start} more: truncated")
    reader.pos = start + nbytes
    storage = bytearray(nbytes)
    with memoryview(buffer) as view:               # one copy, straight into the new buffer
        storage[:] = view[start:start + nbytes]
    return storage
