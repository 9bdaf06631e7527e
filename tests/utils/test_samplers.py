"""Samplers and gn.Generator: lengths, index multisets and errors against torch's; orders
repeatable by seed (glassnet's own orders, not torch's)."""
import collections
import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.utils.data as tdata  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.utils import data  # noqa: E402


def _seeded(seed=0):
    return gn.Generator().manual_seed(seed)


def test_generator_is_torchs_api_over_a_numpy_generator():
    g = gn.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert isinstance(g, np.random.Generator)
    np.testing.assert_array_equal(_seeded(7).permutation(20),
                                  np.random.default_rng(7).permutation(20))
    assert gn.Generator().manual_seed(-1).initial_seed() == \
        torch.Generator().manual_seed(-1).initial_seed()
    assert gn.Generator().random() == gn.Generator().random()   # a fresh one is repeatable
    fresh = gn.Generator()
    assert fresh.seed() == fresh.initial_seed()
    with pytest.raises(TypeError, match="manual_seed: seed must be an int, got float"):
        g.manual_seed(1.5)
    with pytest.raises(ValueError, match="glassnet computes on the CPU"):
        gn.Generator("cuda")


def test_generator_state_round_trips():
    g = _seeded(3)
    g.normal(size=3)                    # a NumPy draw that leaves a buffered value behind
    g.integers(0, 10, size=1, dtype=np.int32)
    state = g.get_state()
    assert state.dtype == np.uint8 and state.shape == (45,)
    ahead = g.random(4)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(g.random(4), ahead)
    other = gn.Generator().set_state(state)
    assert other.initial_seed() == 3
    for clone in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert type(clone) is gn.Generator and clone.random() == copy.deepcopy(g).random()
    with pytest.raises(ValueError, match=r"uint8 tensor of shape \(45,\).*got dtype float32"):
        g.set_state(gn.zeros(45))


def test_manual_seed_returns_the_global_generator():
    g = gn.manual_seed(11)
    assert isinstance(g, gn.Generator) and g.initial_seed() == 11
    np.testing.assert_array_equal(g.permutation(6), np.random.default_rng(11).permutation(6))


def test_sequential_and_batch_samplers_match_torch():
    ds = list(range(10))
    assert list(data.SequentialSampler(ds)) == list(tdata.SequentialSampler(ds))
    for size in (1, 3, 4, 10, 11):
        for drop in (False, True):
            ours = data.BatchSampler(range(10), size, drop)
            theirs = tdata.BatchSampler(range(10), size, drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 25), (False, 4),
                                                      (True, None), (True, 37)])
def test_random_sampler_counts_match_torch(replacement, num_samples):
    ds = list(range(10))
    ours = data.RandomSampler(ds, replacement, num_samples, generator=_seeded(1))
    theirs = tdata.RandomSampler(ds, replacement, num_samples,
                                 generator=torch.Generator().manual_seed(1))
    drawn, reference = list(ours), list(theirs)
    assert len(ours) == len(theirs) == len(drawn) == len(reference)
    assert all(isinstance(i, int) and 0 <= i < 10 for i in drawn)
    if not replacement:        # whole permutations, the last one cut short: same multiset
        counts = collections.Counter(drawn)
        assert sorted(counts.values()) == sorted(collections.Counter(reference).values())
    assert list(data.RandomSampler(ds, replacement, num_samples, generator=_seeded(1))) == drawn


def test_random_samplers_follow_their_generator_or_the_global_seed():
    ds = list(range(50))
    assert list(data.RandomSampler(ds, generator=_seeded(4))) == \
        list(data.RandomSampler(ds, generator=_seeded(4)))
    assert list(data.RandomSampler(ds, generator=_seeded(4))) != \
        list(data.RandomSampler(ds, generator=_seeded(5)))
    gn.manual_seed(9)
    first = list(data.RandomSampler(ds))
    gn.manual_seed(9)
    assert list(data.RandomSampler(ds)) == first and sorted(first) == ds
    numpy_rng = np.random.default_rng(2)            # a plain NumPy generator works too
    assert sorted(data.SubsetRandomSampler([5, 7, 9], generator=numpy_rng)) == [5, 7, 9]


def test_subset_random_sampler_matches_torch():
    indices = [3, 8, 1, 20]
    ours = data.SubsetRandomSampler(indices, generator=_seeded())
    theirs = tdata.SubsetRandomSampler(indices, generator=torch.Generator().manual_seed(0))
    assert sorted(ours) == sorted(theirs) and len(ours) == len(theirs) == 4


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0]
    ours = list(data.WeightedRandomSampler(weights, 4000, generator=_seeded()))
    assert len(ours) == 4000 and set(ours) == {1, 2}
    assert abs(ours.count(2) / 4000 - 0.75) < 0.03
    distinct = list(data.WeightedRandomSampler(weights, 2, replacement=False, generator=_seeded()))
    theirs = list(tdata.WeightedRandomSampler(weights, 2, replacement=False))
    assert sorted(distinct) == sorted(theirs) == [1, 2]
    assert len(data.WeightedRandomSampler(gn.tensor([1.0, 2.0]), 7)) == 7


@pytest.mark.parametrize("build, error, match", [
    (lambda m: m.RandomSampler(range(5), replacement=1), TypeError, "replacement"),
    (lambda m: m.RandomSampler(range(5), num_samples=0), ValueError, "num_samples"),
    (lambda m: m.RandomSampler([]), ValueError, "num_samples"),
    (lambda m: m.BatchSampler(range(5), 0, False), ValueError, "batch_size"),
    (lambda m: m.BatchSampler(range(5), 2.0, False), ValueError, "batch_size"),
    (lambda m: m.BatchSampler(range(5), 2, None), ValueError, "drop_last"),
    (lambda m: m.WeightedRandomSampler([1.0, 2.0], 0), ValueError, "num_samples"),
    (lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2), ValueError, "1-D"),
    (lambda m: m.WeightedRandomSampler([1.0], 2, replacement=None), ValueError, "replacement"),
])
def test_sampler_errors_match_torch(build, error, match):
    with pytest.raises(error, match=match):
        build(data)
    with pytest.raises(error):
        build(tdata)


def test_bad_weights_and_generators_are_refused_when_built():
    with pytest.raises(ValueError, match="non-negative and not all zero"):
        data.WeightedRandomSampler([1.0, -1.0], 3)
    with pytest.raises(ValueError, match="cannot draw 3 distinct indices without replacement "
                                         "from 2 non-zero weights"):
        data.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)
    with pytest.raises(TypeError, match="RandomSampler: generator must be a glassnet.Generator "
                                        "or a numpy.random.Generator, got int"):
        data.RandomSampler(range(3), generator=0)
