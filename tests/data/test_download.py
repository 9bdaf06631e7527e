"""Downloads from a local HTTP server serving small files made here: checksums, atomic
writes, safe archive extraction, and the datasets' download=True. No internet."""
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import socket
import struct
import tarfile
import threading

import numpy as np
import pytest

import glassnet.data.download as dl
from glassnet.data import (CIFAR10, MNIST, ChecksumError, DownloadError, FashionMNIST,
                           cache_dir, extract_tar, fetch)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        _Quiet.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """(folder served, base URL); a fresh request log."""
    served = tmp_path / "served"
    served.mkdir()
    _Quiet.requests = []
    handler = functools.partial(_Quiet, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _md5(raw):
    return hashlib.md5(raw).hexdigest()


def _serve(served, base, name, raw, digest=None):
    (served / name).write_bytes(raw)
    return dl.Resource(base + name, name, "md5", digest or _md5(raw))


def _idx_gz(magic, array):
    raw = struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()
    return gzip.compress(raw, mtime=0)


def _mnist_resources(served, base, n=5):
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28))
    labels = np.arange(n) % 10
    out = []
    for prefix in ("train", "t10k"):
        out.append(_serve(served, base, f"{prefix}-images-idx3-ubyte.gz", _idx_gz(2051, images)))
        out.append(_serve(served, base, f"{prefix}-labels-idx1-ubyte.gz", _idx_gz(2049, labels)))
    return images, labels, out


def test_the_url_table_is_canonical():
    assert [r.url.rsplit("/", 1)[0] for r in dl.RESOURCES["mnist"]] == \
        ["https://ossci-datasets.s3.amazonaws.com/mnist"] * 4
    assert dl.RESOURCES["fashion-mnist"][0].url.startswith(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
    assert dl.RESOURCES["cifar10"][0].url == \
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    for resources in dl.RESOURCES.values():
        for r in resources:
            assert r.algorithm == "md5" and len(r.digest) == 32 and int(r.digest, 16) >= 0
            assert r.url.endswith("/" + r.filename)


def test_cache_dir(monkeypatch, cache):
    assert cache_dir("mnist") == str(cache / "mnist")
    monkeypatch.delenv("GLASSNET_DATA")
    assert cache_dir("cifar10") == os.path.join(os.path.expanduser("~"), ".cache", "glassnet",
                                                "cifar10")


def test_download_file_verifies_and_replaces_atomically(tmp_path, server):
    served, base = server
    resource = _serve(served, base, "blob.bin", os.urandom(3_000_000))
    path = dl.download_file(resource, tmp_path / "out")
    assert open(path, "rb").read() == (served / "blob.bin").read_bytes()
    assert os.listdir(tmp_path / "out") == ["blob.bin"]       # no temporary file left


def test_checksum_mismatch_leaves_nothing(tmp_path, server):
    served, base = server
    resource = _serve(served, base, "blob.bin", b"tampered bytes", digest="0" * 32)
    with pytest.raises(ChecksumError, match=r"blob.bin: md5 [0-9a-f]{32}, but the published "
                                            r"checksum is 0{32}"):
        dl.download_file(resource, tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


def test_unreachable_url_is_one_clear_line(tmp_path, server):
    served, base = server
    missing = dl.Resource(base + "nope.gz", "nope.gz", "md5", "0" * 32)
    with pytest.raises(DownloadError) as info:
        dl.download_file(missing, tmp_path / "out", looked_in=["/here", "/there"])
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"could not download {base}nope.gz (")
    assert message.endswith("looked locally in /here, /there")
    with socket.socket() as s:            # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = dl.Resource(f"http://127.0.0.1:{port}/x.gz", "x.gz", "md5", "0" * 32)
    with pytest.raises(DownloadError, match=f"could not download http://127.0.0.1:{port}/x.gz"):
        dl.download_file(closed, tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


def test_mnist_download_true(server, monkeypatch, cache):
    served, base = server
    images, labels, resources = _mnist_resources(served, base)
    monkeypatch.setitem(dl.RESOURCES, "mnist", resources)
    with pytest.raises(FileNotFoundError):
        MNIST(train=False)
    ds = MNIST(train=False, download=True)
    np.testing.assert_array_equal(ds.images, images)
    assert ds.labels.tolist() == labels.tolist() and ds.folder == str(cache / "mnist")
    assert sorted(os.listdir(cache / "mnist")) == sorted(r.filename for r in resources)
    count = len(_Quiet.requests)
    assert count == 4
    MNIST(train=True, download=True)            # found in the cache: nothing fetched again
    assert len(_Quiet.requests) == count


def test_fashion_mnist_downloads_into_root(tmp_path, server, monkeypatch):
    served, base = server
    _, _, resources = _mnist_resources(served, base)
    monkeypatch.setitem(dl.RESOURCES, "fashion-mnist", resources)
    monkeypatch.setattr(FashionMNIST, "extra_dirs", ())
    ds = FashionMNIST(tmp_path / "data", download=True)
    assert len(ds) == 5 and ds.folder == str(tmp_path / "data" / "fashion-mnist")


def test_bad_checksum_through_the_dataset(server, monkeypatch, cache):
    served, base = server
    _, _, resources = _mnist_resources(served, base)
    resources[0] = resources[0]._replace(digest=_md5(b"something else"))
    monkeypatch.setitem(dl.RESOURCES, "mnist", resources)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: md5"):
        MNIST(download=True)
    assert "train-images-idx3-ubyte.gz" not in os.listdir(cache / "mnist")


def test_offline_error_names_url_and_local_places(monkeypatch, tmp_path):
    monkeypatch.setitem(dl.RESOURCES, "mnist", [dl.Resource(
        "http://127.0.0.1:9/train-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz", "md5",
        "0" * 32)])
    with pytest.raises(DownloadError, match=r"could not download http://127.0.0.1:9/train-images"
                                            r".*looked locally in .*nowhere, .*nowhere/mnist, "
                                            r".*cache/mnist"):
        MNIST(tmp_path / "nowhere", download=True)


def _tar_gz(members):
    """A .tar.gz holding (name, bytes) files, or TarInfo objects for odd members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            name, raw = member
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def _cifar_members(n=4):
    rng = np.random.default_rng(1)
    members = []
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, n)]}
        members.append((f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=3)))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
    members.append(("cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=3)))
    return members


def test_cifar_download_extracts_the_archive(server, monkeypatch, cache):
    served, base = server
    monkeypatch.setitem(dl.RESOURCES, "cifar10", [
        _serve(served, base, "cifar-10-python.tar.gz", _tar_gz(_cifar_members()))])
    ds = CIFAR10(train=False, download=True)
    assert len(ds) == 4 and ds.classes[3] == "c3" and ds.images.shape == (4, 32, 32, 3)
    assert os.listdir(cache / "cifar10") == ["cifar-10-batches-py"]    # archive removed
    assert len(CIFAR10(download=True)) == 20 and len(_Quiet.requests) == 1


@pytest.mark.parametrize("member,why", [
    (("../evil.txt", b"x"), "outside the destination"),
    (("/abs/evil.txt", b"x"), "outside the destination"),
    (("ok/../../evil.txt", b"x"), "outside the destination"),
])
def test_extract_refuses_path_traversal(tmp_path, member, why):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar_gz([("fine.txt", b"ok"), member]))
    with pytest.raises(DownloadError, match=why):
        extract_tar(archive, tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []          # all or nothing
    assert not (tmp_path / "evil.txt").exists()


def test_extract_refuses_links(tmp_path):
    link = tarfile.TarInfo("data/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar_gz([link]))
    with pytest.raises(DownloadError, match="'data/passwd' is a link or special file"):
        extract_tar(archive, tmp_path / "out")
    archive.write_bytes(b"not a tar archive at all")
    with pytest.raises(DownloadError, match="not a readable tar archive"):
        extract_tar(archive, tmp_path / "out")


def test_fetch(server, monkeypatch, tmp_path):
    served, base = server
    _, _, resources = _mnist_resources(served, base)
    monkeypatch.setitem(dl.RESOURCES, "mnist", resources)
    folder = fetch("mnist", tmp_path / "root", quiet=True)
    assert folder == str(tmp_path / "root" / "mnist") and len(os.listdir(folder)) == 4
    with pytest.raises(KeyError, match="no download known for 'svhn'"):
        fetch("svhn")
