"""Reading ZIP archives, and the metadata inside files, as hostile input.

Shared by every reader of checkpoint files (`glassnet/io.py` for glassnet's own format,
`glassnet/pth.py` for PyTorch's): `Archive` checks a member before a byte of it is read
and reads it in bounded chunks, `open_zip` names the member zipfile refuses a whole
archive for, `Refused` carries what is wrong with a file in words (the reader adds the
file's name), and `byte_size` and `show` put sizes and hostile values into those words.
"""
import bisect
import io
import struct
import zipfile
import zlib

import numpy as np

__all__ = ["METADATA_LIMIT", "Refused", "Archive", "open_zip", "byte_size", "show", "reason"]

# Limits (docs/architecture.md, "Hostile files", says why). Metadata: a state dict costs
# ~60 bytes of JSON or ~95 of pickle per tensor, so 16 MiB is 170 000 tensors or a
# history of half a million floats, while parsing it (with the caps on containers and
# opcodes) peaks below 0.2 GiB even when every byte is chosen to make the parser allocate.
METADATA_LIMIT = 16 << 20
_DEFLATE_RATIO = 1032           # deflate's ceiling: 258 bytes from 2 bits
_CHUNK = 8 << 20                # bytes decompressed or copied per step
_LOCAL_HEADER = struct.Struct("<4s22xHH")   # ZIP local header: signature ... name, extra lengths
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
                zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}


class Refused(Exception):
    """What is wrong with a file, in words; `load` adds the file's name (CheckpointError)."""


def byte_size(n):
    """A byte count in words: '17 bytes', '1.2 KiB', '4.0 TiB'."""
    if n < 1024:
        return f"{n} byte" + ("" if n == 1 else "s")
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} EiB"


def show(value):
    """A hostile value, shown briefly and without calling any of its methods."""
    name = type(value).__name__
    if type(value) is int and value.bit_length() > 64:   # repr of a huge int is refused
        return f"an int of {value.bit_length()} bits"
    if type(value) is str:
        return f"str {value[:60]!r}" + ("..." if len(value) > 60 else "")
    if type(value) in (int, float, bool):
        return f"{name} {value!r}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def reason(error):
    """An exception in a few words, for a message about a file."""
    return f"{type(error).__name__}: {str(error)[:200]}".rstrip(": ")


def open_zip(f):
    """zipfile.ZipFile(f); a member needing a ZIP version zipfile lacks is named."""
    try:
        return zipfile.ZipFile(f)
    except NotImplementedError as e:        # zipfile refuses the archive, naming no member
        found = _too_new_member(f)
        if found is None:
            raise Refused(f"its ZIP directory is unreadable ({reason(e)})") from e
        name, version = found
        raise Refused(f"member {name} needs ZIP version {version / 10:.1f} to be read, above "
                      "the 6.3 this reader handles (a corrupt header or an unsupported "
                      "archive)") from e


_END = struct.Struct("<4s8xII")             # end of central directory: ..., its size, offset
_ENTRY = struct.Struct("<4s2xH20xHHH12x")   # a directory entry: version needed, name/extra/
                                            # comment lengths


def _too_new_member(f):
    """(name, version) of the first directory entry needing a ZIP version above 6.3, or
    None: a walk over the central directory without zipfile's checks."""
    size = f.seek(0, io.SEEK_END)
    f.seek(max(0, size - 65557))            # the end record: 22 bytes + a comment < 64 KiB
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END.size > len(tail):
        return None
    directory_size = _END.unpack_from(tail, at)[1]
    end = size - len(tail) + at
    if directory_size > end:
        return None
    f.seek(end - directory_size)
    directory, pos = f.read(directory_size), 0
    while pos + _ENTRY.size <= len(directory):
        signature, version, name_length, extra_length, comment_length = \
            _ENTRY.unpack_from(directory, pos)
        if signature != b"PK\x01\x02":
            return None
        if version > zipfile.MAX_EXTRACT_VERSION:
            name = directory[pos + _ENTRY.size:pos + _ENTRY.size + name_length]
            return name.decode("utf-8", "replace")[:100], version
        pos += _ENTRY.size + name_length + extra_length + comment_length
    return None


class Archive:
    """A ZIP archive read as hostile input (glassnet's checkpoints and PyTorch's). Before
    a byte of a member is read it is checked: present, not encrypted, compressed by one of
    `methods`, its data inside the file and overlapping no other member's (overlapping
    members are how a small zip bomb expands many times), its declared size possible.
    Then it is read in bounded chunks, never past the size it declares, CRC-checked."""

    def __init__(self, z, f, methods):
        self.z, self.f, self.methods = z, f, methods
        self.names = set(z.namelist())
        self.size = f.seek(0, io.SEEK_END)
        self._spans = []                    # (start, end, name) of the members read, sorted

    def read(self, name, limit=None):
        """The whole member `name` as a writable uint8 array; `limit` caps the size it may
        declare (for metadata)."""
        info, stream = self.open(name, limit)
        with stream:
            return self.read_exactly(stream, info, info.file_size)

    def open(self, name, limit=None):
        """(ZipInfo, stream) of member `name`, after the checks: a stored member is read
        straight from the file (_StoredMember), a deflated one through zipfile."""
        info, start = self._check(name, limit)
        if info.compress_type == zipfile.ZIP_STORED:
            return info, _StoredMember(self.f, info, start)
        try:
            return info, self.z.open(info)
        except (zipfile.BadZipFile, ValueError) as e:   # its local header contradicts the directory
            raise Refused(f"member {name} is corrupt ({reason(e)})") from e

    def read_exactly(self, stream, info, nbytes):
        """The next nbytes of an open member as a writable uint8 array: allocated at once
        for a stored member (open checked that its bytes are in the file), grown as they
        arrive for a deflated one, so that no size a file declares reserves memory."""
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                buffer = np.empty(nbytes, np.uint8)
                done = stream.readinto(memoryview(buffer))
            else:
                buffer, done = bytearray(), 0
                while done < nbytes:
                    chunk = stream.read(min(_CHUNK, nbytes - done))
                    if not chunk:
                        break
                    buffer += chunk
                    done += len(chunk)
                buffer = np.frombuffer(buffer, np.uint8)
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:   # CRC mismatch, cut stream
            raise Refused(f"member {info.filename} is corrupt ({reason(e)})") from e
        if done < nbytes:
            raise Refused(f"member {info.filename} ends after {byte_size(done)} of the "
                          f"{byte_size(nbytes)} it declares: truncated")
        return buffer

    def _check(self, name, limit):
        if name not in self.names:
            raise Refused(f"member {name} is missing")
        info = self.z.getinfo(name)
        if info.flag_bits & 0x61:           # encrypted, patched data, strong encryption
            raise Refused(f"member {name} is encrypted (ZIP flags {info.flag_bits:#06x}); "
                          "glassnet reads unencrypted archives")
        if info.compress_type not in self.methods:
            method = _ZIP_METHODS.get(info.compress_type, "an unknown method")
            accepted = " or ".join(_ZIP_METHODS[m] for m in self.methods)
            raise Refused(f"member {name} is compressed with {method} (ZIP method "
                          f"{info.compress_type}); this reader accepts {accepted} members")
        if limit is not None and info.file_size > limit:
            raise Refused(f"member {name} declares {byte_size(info.file_size)}, more than "
                          f"the {byte_size(limit)} this reader accepts for it")
        start = self._data_start(info)
        end = start + info.compress_size
        if end > self.size:
            raise Refused(f"member {name} declares {byte_size(info.compress_size)} of data "
                          f"but the file holds {byte_size(max(self.size - start, 0))} from "
                          "where it starts: truncated")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise Refused(f"member {name} is stored as it is, yet declares "
                          f"{byte_size(info.file_size)} from {byte_size(info.compress_size)}")
        if info.file_size > _DEFLATE_RATIO * info.compress_size:
            raise Refused(f"member {name} declares {byte_size(info.file_size)}, more than "
                          f"its {byte_size(info.compress_size)} of deflate data can hold "
                          f"(deflate expands at most {_DEFLATE_RATIO}:1)")
        self._claim(name, info.header_offset, end)
        return info, start

    def _data_start(self, info):
        if not 0 <= info.header_offset <= self.size - _LOCAL_HEADER.size:
            raise Refused(f"member {info.filename} starts at byte {info.header_offset}, "
                          f"outside the file ({byte_size(self.size)})")
        self.f.seek(info.header_offset)
        header = self.f.read(_LOCAL_HEADER.size)
        if header[:4] != b"PK\x03\x04":
            raise Refused(f"member {info.filename} has no local header where the ZIP "
                          f"directory says (byte {info.header_offset})")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[1:]
        return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length

    def _claim(self, name, start, end):
        at = bisect.bisect(self._spans, (start,))
        for other in self._spans[max(at - 1, 0):at + 1]:   # sorted and disjoint: neighbours
            if other[0] < end and start < other[1]:
                what = (f"member {name} is read twice" if other[2] == name else
                        f"members {name} and {other[2]} overlap in the file")
                raise Refused(f"{what}: members that share bytes are how a small zip "
                              "bomb expands")
        self._spans.insert(at, (start, end, name))


class _StoredMember:
    """The bytes of a stored member, read straight from the file into the caller's buffer
    (zipfile's reader would copy them twice); the CRC is checked with the last byte."""

    def __init__(self, f, info, start):
        self.f, self.info, self.pos, self.left, self.crc = f, info, start, info.file_size, 0

    def readinto(self, view):
        self.f.seek(self.pos)
        done = self.f.readinto(view[:min(len(view), self.left)])
        self.crc = zlib.crc32(view[:done], self.crc)
        self.pos, self.left = self.pos + done, self.left - done
        if self.left == 0 and self.crc != self.info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.info.filename!r}")
        return done

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

