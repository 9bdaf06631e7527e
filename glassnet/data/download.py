"""Fetching the public data sets: canonical URLs, published checksums, atomic writes.

Each data set's files are listed in `RESOURCES` with the checksum its publishers give
for the very bytes served (MD5 here, as torchvision and the data sets' own pages list
them). A download streams into a hidden temporary file beside its destination, is
hashed on the way, and only a file whose checksum matches is moved into place with
`os.replace` — an interrupted or corrupted download never looks like a finished one.
Archives are unpacked member by member after checking that every member is a plain
file or folder that stays inside the destination.

Files go to `root/<name>` when a root is given, else to the cache `cache_dir(name)`:
`$GLASSNET_DATA/<name>`, or `~/.cache/glassnet/<name>` when that variable is unset.
Only `urllib` is used: no dependency beyond the standard library.
"""
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections import namedtuple

from ..io import write_atomically

Resource = namedtuple("Resource", "url filename algorithm digest")
Resource.__doc__ = "One file to fetch: where from, the name it is saved as, and its checksum."

_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_set(base, md5s):
    """The four gzipped IDX files of an MNIST-format data set, in _IDX_FILES' order."""
    return [Resource(base + name, name, "md5", md5) for name, md5 in zip(_IDX_FILES, md5s)]


# MD5s as published: MNIST's by torchvision for its ossci-datasets mirror, Fashion-MNIST's
# in zalandoresearch/fashion-mnist's README, CIFAR-10's on www.cs.toronto.edu/~kriz/cifar.html.
RESOURCES = {
    "mnist": _idx_set(_MNIST, ["f68b3c2dcbeaaa9fbdd348bbdeb94873",
                               "d53e105ee54ea40749a09fcbcd1e9432",
                               "9fb629c4189551a2d022fa330f9573f3",
                               "ec29112dd5afa0611ce80d1b7f02629c"]),
    "fashion-mnist": _idx_set(_FASHION, ["8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                         "25c81989df183df01b3e8a0aad5dffbe",
                                         "bef4ecab320f06d8554ea6380940ec79",
                                         "bb300cfdad3c16e7a12a480ee83cd310"]),
    "cifar10": [Resource("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                         "cifar-10-python.tar.gz", "md5", "c58f30108f718f92721af3b95e74349a")],
}

TIMEOUT = 60          # seconds without data before a download is given up
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A file could not be fetched, or what arrived is not the published file."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not have the published checksum."""


def cache_dir(name):
    """Where downloads of data set `name` are kept when no root is given."""
    base = os.environ.get("GLASSNET_DATA") or os.path.join(
        os.path.expanduser("~"), ".cache", "glassnet")
    return os.path.join(base, name)


def target_dir(name, root=None):
    """The folder a download of `name` goes to: `root/<name>`, else the cache."""
    return os.path.join(os.fspath(root), name) if root else cache_dir(name)


def file_digest(path, algorithm):
    """The hex checksum of a file, read in chunks."""
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download_file(resource, folder, looked_in=()):
    """Fetch `resource` into `folder`, verify its checksum, and return its path.

    Raises DownloadError (naming the URL and the places searched locally, `looked_in`)
    when the fetch fails, ChecksumError when the bytes are not the published ones; in
    both cases nothing is left behind.
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, resource.filename)

    def write(out):            # into a temporary file that replaces path only when whole
        h = hashlib.new(resource.algorithm, usedforsecurity=False)
        try:
            with urllib.request.urlopen(resource.url, timeout=TIMEOUT) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    h.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError, ValueError) as e:
            where = ", ".join(looked_in) or folder
            reason = getattr(e, "reason", None) or e
            raise DownloadError(f"could not download {resource.url} ({reason}); "
                                f"looked locally in {where}") from None
        if h.hexdigest() != resource.digest:
            raise ChecksumError(f"{resource.url}: {resource.algorithm} {h.hexdigest()}, but the "
                                f"published checksum is {resource.digest} (corrupt or changed "
                                f"download; nothing was saved)")
    write_atomically(path, write)
    return path


def fetch(name, root=None, looked_in=(), quiet=False):
    """Fetch every file of data set `name` missing from its target folder; return the folder.

    Files already present are kept as they are (the data set's reader validates them by
    format). Archives (`.tar.gz`) are unpacked with `extract_tar` and then removed.
    """
    if name not in RESOURCES:
        raise KeyError(f"fetch: no download known for {name!r}; known: "
                       f"{', '.join(sorted(RESOURCES))}")
    folder = target_dir(name, root)
    for resource in RESOURCES[name]:
        path = os.path.join(folder, resource.filename)
        if os.path.exists(path) and not resource.filename.endswith(".tar.gz"):
            continue
        if not quiet:
            print(f"glassnet: downloading {resource.url} -> {folder}", file=sys.stderr)
        path = download_file(resource, folder, looked_in)
        if resource.filename.endswith(".tar.gz"):
            extract_tar(path, folder)
            os.remove(path)
    return folder


def _check_member(member, archive):
    """Refuse anything but plain files and folders with relative paths inside the archive."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in parts:
        raise DownloadError(f"{archive}: member {name!r} would be written outside the "
                            f"destination; refusing to extract")
    if not (member.isfile() or member.isdir()):
        raise DownloadError(f"{archive}: member {name!r} is a link or special file; "
                            f"refusing to extract")


def extract_tar(archive, folder):
    """Unpack a (gzip) tar archive into `folder`, safely and all-or-nothing.

    Every member is checked first (no absolute paths, no '..', no links or devices);
    the archive is unpacked into a temporary folder beside the destination, and each
    top-level entry is then moved into place with `os.replace`.
    """
    os.makedirs(folder, exist_ok=True)
    scratch = tempfile.mkdtemp(dir=folder, prefix=".extract.")
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member, archive)
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(scratch, members=members, **kwargs)
        except (tarfile.TarError, EOFError, OSError) as e:
            if isinstance(e, DownloadError):
                raise
            raise DownloadError(f"{archive}: not a readable tar archive ({e})") from None
        for entry in os.listdir(scratch):
            destination = os.path.join(folder, entry)
            if os.path.isdir(destination) and not os.path.islink(destination):
                shutil.rmtree(destination)
            os.replace(os.path.join(scratch, entry), destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
