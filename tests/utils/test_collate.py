"""default_collate and default_convert against torch's, case by case."""
import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.utils.data as tdata  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.utils import data  # noqa: E402

from ._compare import assert_same, torch_version  # noqa: E402

Point = collections.namedtuple("Point", "x y")
_rng = np.random.default_rng(0)

BATCHES = {
    "tensors": [gn.tensor([[1.0, 2.0]]), gn.tensor([[3.0, 4.0]])],
    "int tensors": [gn.tensor([1, 2]), gn.tensor([3, 4])],
    "uint8 arrays": [_rng.integers(0, 255, (2, 3)).astype(np.uint8) for _ in range(3)],
    "float64 arrays": [_rng.standard_normal(3) for _ in range(2)],
    "0-d arrays": [np.array(1.5, np.float32), np.array(2.5, np.float32)],
    "ints": [1, 2, 3],
    "floats": [0.5, 1.5],
    "ints then a float": [1, 2.5],
    "bools": [True, False],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(-2)],
    "numpy bools": [np.bool_(True), np.bool_(False)],
    "numpy float64 scalars": [np.float64(0.25), np.float64(3)],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "(image, label) tuples": [(np.zeros((2, 2), np.uint8), 3), (np.ones((2, 2), np.uint8), 7)],
    "lists with strings": [[1, "x", 0.5], [2, "y", 1.5]],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "dicts": [{"a": 1, "b": np.float32(2)}, {"a": 3, "b": np.float32(4)}],
    "nested": [{"pair": (1, [2.0, "s"]), "t": gn.tensor([1.0])},
               {"pair": (3, [4.0, "u"]), "t": gn.tensor([2.0])}],
    "ordered dicts": [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_matches_torch(name):
    batch = BATCHES[name]
    assert_same(data.default_collate(batch), tdata.default_collate(torch_version(batch)))


CONVERTS = {
    "array": np.arange(3, dtype=np.int16), "numpy scalar": np.float32(2.5), "int": 5,
    "float": 0.5, "string": "s", "string array": np.array(["a", "b"]),
    "tuple": (np.zeros(2), 3), "namedtuple": Point(np.array(1), 2),
    "dict": {"k": np.ones(2, np.float32), "n": [np.int64(4), "z"]},
}


@pytest.mark.parametrize("name", sorted(CONVERTS))
def test_default_convert_matches_torch(name):
    sample = CONVERTS[name]
    assert_same(data.default_convert(sample), tdata.default_convert(sample))


def test_default_convert_shares_memory_and_keeps_tensors():
    array = np.zeros(3, np.float32)
    converted = data.default_convert(array)
    array[0] = 7
    assert converted.tolist() == [7, 0, 0]
    t = gn.ones(2)
    assert data.default_convert(t) is t


def test_collated_tensors_keep_their_graph():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    batch = data.default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("batch, error, match", [
    ([gn.zeros(2), gn.zeros(3)], RuntimeError, r"sample 1 has shape \(3,\) but sample 0 has \(2,\)"),
    ([np.zeros(2), np.zeros((2, 1))], RuntimeError, r"sample 1 has shape \(2, 1\)"),
    ([(1, 2), (1,)], RuntimeError, r"same number of fields, got \[1, 2\]"),
    ([object()], TypeError, "cannot batch object"),
    ([np.array(["a"])], TypeError, "cannot batch arrays of dtype <U1"),
    ([], IndexError, "the batch is empty"),
    ([1, "a"], TypeError, "mix"),
])
def test_collate_errors_match_torch_types(batch, error, match):
    with pytest.raises(error, match=match):
        data.default_collate(batch)
    if batch:       # torch refuses the same batches with the same exception type
        with pytest.raises(error):
            tdata.default_collate(torch_version(batch))


def test_pil_images_ask_for_to_tensor():
    Image = pytest.importorskip("PIL.Image")
    images = [Image.new("L", (2, 2)), Image.new("L", (2, 2))]
    with pytest.raises(TypeError, match=r"PIL images \(Image\).*add transforms.ToTensor\(\)"):
        data.default_collate([(images[0], 1), (images[1], 2)])
