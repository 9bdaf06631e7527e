"""DataLoader workers (threads): batches in order, get_worker_info, IterableDataset replicas,
errors and timeouts reaching the consumer, early stops."""
import threading
import time

import numpy as np
import pytest

import glassnet as gn
import glassnet.data
import glassnet.utils.data as data


class Slow(data.Dataset):
    """Samples whose cost varies, so that workers finish out of order; records who read what."""

    def __init__(self, n=24):
        self.n, self.readers = n, {}

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002 * (i % 4 == 0))
        info = data.get_worker_info()
        self.readers[i] = None if info is None else info.id
        return i


@pytest.mark.parametrize("workers", [{"num_workers": 1}, {"num_workers": 3},
                                     {"num_workers": 2, "prefetch_factor": 1}, {"prefetch": 3}])
def test_batches_come_in_order(workers):
    ds = Slow()
    loader = data.DataLoader(ds, batch_size=2, **workers)
    assert [b.tolist() for b in loader] == [[i, i + 1] for i in range(0, 24, 2)]
    expected = set(range(workers.get("num_workers", 1)))
    assert set(ds.readers.values()) == expected     # every worker took batches, main none


def test_worker_info():
    assert data.get_worker_info() is None
    seen = []

    class Probe(Slow):
        def __getitem__(self, i):
            info = data.get_worker_info()
            seen.append((info.id, info.num_workers, info.seed, info.dataset))
            return i
    ds = Probe(8)
    list(data.DataLoader(ds, batch_size=2, num_workers=2))
    ids = {s[0] for s in seen}
    assert ids == {0, 1} and {s[1] for s in seen} == {2}
    seeds = {s[0]: s[2] for s in seen}
    assert seeds[1] == seeds[0] + 1 and len({s[2] for s in seen}) == 2
    copies = {id(s[3]) for s in seen}
    assert len(copies) == 2 and id(ds) not in copies            # each worker its own copy
    assert all(isinstance(s[3], Probe) for s in seen)
    info = glassnet.data.WorkerInfo(0, 1, 5, ds)
    with pytest.raises(RuntimeError, match="WorkerInfo: id cannot be changed"):
        info.id = 3
    seen.clear()
    loader = data.DataLoader(Probe(4), batch_size=2, num_workers=1,
                             generator=gn.Generator().manual_seed(0))
    list(loader), list(loader)
    assert seen[0][2] != seen[-1][2]                             # a new base seed each epoch


class Range(data.IterableDataset):
    """torch's documented example: [start, end), split between workers by get_worker_info."""

    def __init__(self, start, end, split=True):
        self.start, self.end, self.split = start, end, split

    def __iter__(self):
        info = data.get_worker_info()
        if info is None or not self.split:
            return iter(range(self.start, self.end))
        per_worker = -(-(self.end - self.start) // info.num_workers)
        start = self.start + info.id * per_worker
        return iter(range(start, min(start + per_worker, self.end)))


def test_iterable_dataset_workers_replicate_or_split_as_torch_documents():
    split = [b.tolist() for b in data.DataLoader(Range(0, 10), batch_size=2, num_workers=2)]
    assert split == [[0, 1], [5, 6], [2, 3], [7, 8], [4], [9]]   # round robin over workers
    copies = [b.tolist() for b in data.DataLoader(Range(0, 3, split=False), batch_size=2,
                                                  num_workers=2)]
    assert copies == [[0, 1], [0, 1], [2], [2]]                  # every worker reads it all
    unbatched = data.DataLoader(Range(0, 4), batch_size=None, num_workers=2)
    assert [int(x) for x in unbatched] == [0, 2, 1, 3]
    dropped = data.DataLoader(Range(0, 10), batch_size=2, num_workers=2, drop_last=True)
    assert [b.tolist() for b in dropped] == [[0, 1], [5, 6], [2, 3], [7, 8]]


def test_worker_init_fn_can_configure_each_copy():
    def init(worker_id):        # the pattern of torch's documentation
        info = data.get_worker_info()
        ds = info.dataset
        per_worker = -(-(ds.end - ds.start) // info.num_workers)
        ds.start = ds.start + worker_id * per_worker
        ds.end = min(ds.start + per_worker, ds.end)
    ds = Range(0, 7, split=False)
    loader = data.DataLoader(ds, batch_size=3, num_workers=2, worker_init_fn=init)
    assert sorted(np.concatenate([b.numpy() for b in loader]).tolist()) == list(range(7))
    assert (ds.start, ds.end) == (0, 7)                          # the loader's own is untouched


class Broken(Slow):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is broken")
        return i


@pytest.mark.parametrize("workers", [{}, {"num_workers": 2}, {"prefetch": 1}])
def test_errors_reach_the_consumer_unchanged(workers):
    loader = iter(data.DataLoader(Broken(8), batch_size=2, **workers))
    assert next(loader).tolist() == [0, 1] and next(loader).tolist() == [2, 3]
    with pytest.raises(KeyError, match="sample 5 is broken"):
        next(loader)


def test_worker_init_errors_and_timeouts():
    def init(worker_id):
        raise OSError(f"worker {worker_id} cannot start")
    with pytest.raises(OSError, match="worker 0 cannot start"):
        list(data.DataLoader(Slow(4), num_workers=1, worker_init_fn=init))

    class Stuck(Slow):
        def __getitem__(self, i):
            time.sleep(0.3)
            return i
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(data.DataLoader(Stuck(2), num_workers=1, timeout=0.05))


def _loader_threads():
    return {t for t in threading.enumerate() if t.name.startswith("glassnet-loader-worker")}


def test_stopping_early_ends_the_workers():
    before = _loader_threads()          # other tests' workers may still be finishing
    batches = iter(data.DataLoader(Slow(40), batch_size=2, num_workers=2))
    assert len(batches) == 20 and next(batches).tolist() == [0, 1]
    ours = _loader_threads() - before
    assert len(ours) == 2
    batches.close()
    deadline = time.monotonic() + 5
    while any(t.is_alive() for t in ours) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.is_alive() for t in ours)


def test_map_workers_use_the_fast_path():
    class Gathered(data.TensorDataset):
        calls = 0

        def get_batch(self, indices):
            type(self).calls += 1
            return super().get_batch(indices)
    ds = Gathered(np.arange(10, dtype=np.float32))
    out = list(data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=True,
                               generator=gn.Generator().manual_seed(0)))
    assert Gathered.calls == 3 and sorted(np.concatenate([b[0].numpy() for b in out])) == \
        list(range(10))
