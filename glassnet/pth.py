"""Reading PyTorch's checkpoint files (`torch.save`) without running any of their code.

`glassnet.load` sniffs a file's content and hands PyTorch's files here. Two layouts:
- the ZIP archive of torch >= 1.6: `<name>/data.pkl` (the pickle), `<name>/data/<key>`
  (the raw bytes of one storage each), `<name>/byteorder`, `<name>/version`, ...;
- the legacy stream (`_use_new_zipfile_serialization=False`): pickles of the magic
  number, the protocol version (1001) and system information, the object, the list of
  storage keys, then each storage as an int64 element count and its bytes.

The pickle is read by the restricted unpickler of `pth_pickle.py`, which accepts only
what a state dict needs and builds records, not tensors; it is at most METADATA_LIMIT
bytes (a ZIP member read through `archive.Archive`, or measured in the legacy stream
before it is unpickled). Then the storage bytes are read: each no longer than the file
(a declared size is never trusted for an allocation), in a ZIP stored, CRC-checked and
sharing no bytes with another member, and only then are the tensors built from them.
Everything that is wrong is raised as `Refused` (what is wrong, in words), which
`glassnet.load` turns into one CheckpointError naming the file.

What comes back: tensors as glassnet Tensors (requires_grad False, on the CPU whatever
device they were saved from); all tensors of one storage share one NumPy buffer, as in
torch; bfloat16 becomes float32 (exact); containers as they were, an OrderedDict stays
an OrderedDict (without the `_metadata` of module versions torch attaches to it).
"""
import io
import mmap
import struct

from .archive import METADATA_LIMIT, Refused, byte_size
from .pth_pickle import Builder, unpickle

__all__ = ["is_legacy", "load_zip", "load_legacy"]

_MAGIC = 0x1950A86A20F9469CFC6C             # the first pickle of a legacy file
_LEGACY_PROTOCOL = 1001
_LINE_LIMIT = 1 << 16                       # a pickle's text line: a global's name


# ----------------------------------------------------------------------------- ZIP layout
def load_zip(archive):
    """Read a torch >= 1.6 checkpoint from the open `archive.Archive` (stored members only).
    What is wrong with the file is raised as Refused (or an exception of the kinds
    io.load turns into CheckpointError)."""
    names = archive.names
    prefix = _archive_prefix(names)
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        byteorder = bytes(archive.read(f"{prefix}/byteorder", limit=16)).decode("ascii",
                                                                                "replace")
        if byteorder not in ("little", "big"):
            raise Refused(f"its byteorder record says {byteorder[:20]!r}, not little or big")
    pickled = archive.read(f"{prefix}/data.pkl", limit=METADATA_LIMIT)
    tree, storages = unpickle(io.BytesIO(pickled))
    buffers = {key: archive.read(f"{prefix}/data/{key}") for key in storages}
    return Builder(buffers, byteorder).build(tree)


def _archive_prefix(names):
    """The folder holding data.pkl (torch names it after the file: `net/data.pkl`)."""
    found = [n[:-len("/data.pkl")] for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(found) != 1:
        raise Refused(f"has {len(found)} <name>/data.pkl members, a PyTorch checkpoint has one")
    if f"{found[0]}/constants.pkl" in names:
        raise Refused("is a TorchScript archive (torch.jit.save); glassnet reads torch.save "
                      "files of state dicts")
    return found[0]


# -------------------------------------------------------------------------- legacy layout
def is_legacy(head):
    """Whether a file's first bytes are the pickled magic number of torch's legacy format."""
    return head[:1] == b"\x80" and _MAGIC.to_bytes(10, "little") in head[:32]


def load_legacy(f):
    """Read a checkpoint in torch's legacy (non-ZIP) format from the binary file f; what is
    wrong with it is raised as Refused (or an exception io.load turns into
    CheckpointError)."""
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


class _MemoryReader:
    """A file over a buffer for the unpickler: a read never returns (or allocates) more
    than the buffer holds, whatever length a hostile pickle asks for, nor a line longer
    than _LINE_LIMIT (the unpickler then finds the pickle truncated)."""

    def __init__(self, buffer):
        self.buffer, self.pos = buffer, 0

    def read(self, n=-1):
        end = len(self.buffer) if n < 0 else min(len(self.buffer), self.pos + n)
        data, self.pos = self.buffer[self.pos:end], end
        return data

    def readline(self):
        end = self.buffer.find(b"\n", self.pos, self.pos + _LINE_LIMIT)
        return self.read(_LINE_LIMIT if end < 0 else end + 1 - self.pos)

    def tell(self):
        return self.pos

    def seek(self, pos):
        self.pos = pos


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
        raise Refused(f"storage {key!r} claims {byte_size(nbytes)}, the file holds "
                      f"{byte_size(len(buffer) - start)} more: truncated")
    reader.pos = start + nbytes
    storage = bytearray(nbytes)
    with memoryview(buffer) as view:               # one copy, straight into the new buffer
        storage[:] = view[start:start + nbytes]
    return storage
