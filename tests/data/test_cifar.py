"""CIFAR-10 from pickled batches built here in the original layout; the restricted unpickler."""
import collections
import io
import os
import pickle
import struct

import numpy as np
import pytest

from glassnet.data import CIFAR10, DataFormatError, DataLoader, transforms
from glassnet.data.cifar import load_pickle

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
         b"ship", b"truck"]


class _Python2Pickler(pickle._Pickler):
    """Writes bytes with Python 2's str opcodes (SHORT_BINSTRING/BINSTRING), as the pickles
    from Toronto were made by Python 2 (Python 3 would wrap them in _codecs.encode calls)."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        n = len(obj)
        head = pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else \
            pickle.BINSTRING + struct.pack("<i", n)
        self.write(head + obj)
        self.memoize(obj)
    dispatch[bytes] = save_bytes


def _dump(path, obj, legacy=False):
    """Pickle with protocol 2 as the original files are; legacy also names NumPy 1's module,
    as they do (NumPy 2 writes numpy._core)."""
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    raw = buffer.getvalue()
    if legacy:
        raw = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    path.write_bytes(raw)


def _cifar_dir(tmp_path, n=6, legacy=True, labels=None):
    """cifar-10-batches-py with n images per batch; returns {batch name: (images, labels)}."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    made = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        chw = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        y = list(rng.integers(0, 10, n)) if labels is None else list(labels)
        y = [int(v) for v in y]
        _dump(folder / name, {b"batch_label": f"batch {i}".encode(), b"labels": y,
                              b"data": chw.reshape(n, 3072), b"filenames": [b"x.png"] * n},
              legacy)
        made[name] = (chw, np.array(y))
    _dump(folder / "batches.meta", {b"label_names": NAMES, b"num_cases_per_batch": n,
                                    b"num_vis": 3072})
    return made


@pytest.mark.parametrize("legacy", [True, False])
def test_reads_batches_as_hwc_uint8(tmp_path, legacy):
    made = _cifar_dir(tmp_path, legacy=legacy)
    train = CIFAR10(tmp_path)
    assert len(train) == 30 and train.images.shape == (30, 32, 32, 3)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    chw, y = made["data_batch_2"]
    # the stored row is R plane, G plane, B plane: pixel (r, c) of channel k
    np.testing.assert_array_equal(train.images[6:12], chw.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(train.labels[6:12], y)
    assert train.classes[0] == "airplane" and train.classes[9] == "truck"
    test = CIFAR10(tmp_path, train=False)
    image, label = test[2]
    assert image.shape == (32, 32, 3) and label == made["test_batch"][1][2]
    assert test.input_shape == (3, 32, 32) and test.num_classes == 10


def test_to_tensor_gives_the_original_planes(tmp_path):
    made = _cifar_dir(tmp_path)
    test = CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    x, y = test.get_batch(np.array([0, 3]))
    assert x.shape == (2, 3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x * 255, made["test_batch"][0][[0, 3]], atol=1e-3)
    batches = list(DataLoader(test, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3, 32, 32), (2, 3, 32, 32)]


def test_found_under_root_name_and_in_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    (tmp_path / "cache" / "cifar10").mkdir(parents=True)
    _cifar_dir(tmp_path / "cache" / "cifar10")
    assert len(CIFAR10(train=False)) == 6
    assert CIFAR10(train=False).folder == str(tmp_path / "cache" / "cifar10" /
                                              "cifar-10-batches-py")
    assert len(CIFAR10(tmp_path / "cache", train=False)) == 6            # root/cifar10/...
    batches = tmp_path / "cache" / "cifar10" / "cifar-10-batches-py"
    assert len(CIFAR10(batches, train=False)) == 6                        # the folder itself
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"CIFAR10: test_batch not found; looked in "
                                                r".*nowhere.*empty/cifar10.*download=True"):
        CIFAR10(tmp_path / "nowhere", train=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_refuses_code_in_pickles(tmp_path):
    _cifar_dir(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    _dump(path, {b"data": np.zeros((1, 3072), np.uint8), b"labels": [_Evil()]})
    with pytest.raises(DataFormatError, match=r"test_batch: refusing to load (posix|nt)\.system"):
        CIFAR10(tmp_path, train=False)
    _dump(path, {b"data": np.zeros((1, 3072), np.uint8), b"labels": collections.OrderedDict()})
    with pytest.raises(DataFormatError, match="refusing to load collections.OrderedDict"):
        load_pickle(path)


def test_corrupt_and_malformed_batches(tmp_path):
    _cifar_dir(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataFormatError, match="test_batch: not a readable CIFAR pickle, "
                                              "truncated or corrupt"):
        CIFAR10(tmp_path, train=False)
    _dump(path, {b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]})
    with pytest.raises(DataFormatError, match=r"b'data' should be uint8 \(N, 3072\), got uint8 "
                                              r"\(2, 3000\)"):
        CIFAR10(tmp_path, train=False)
    _dump(path, {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]})
    with pytest.raises(DataFormatError, match="1 labels for 2 images"):
        CIFAR10(tmp_path, train=False)
    _dump(path, {b"data": np.zeros((2, 3072), np.uint8)})
    with pytest.raises(DataFormatError, match="no b'labels' entry"):
        CIFAR10(tmp_path, train=False)
    _cifar_dir(tmp_path, labels=[0, 1, 2, 3, 4, 10])
    with pytest.raises(DataFormatError, match="label 10 is out of range 0..9"):
        CIFAR10(tmp_path, train=False)
    _cifar_dir(tmp_path)
    _dump(tmp_path / "cifar-10-batches-py" / "batches.meta", {b"label_names": NAMES[:3]})
    with pytest.raises(DataFormatError, match="3 label names, expected 10"):
        CIFAR10(tmp_path, train=False)
