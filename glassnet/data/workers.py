"""The DataLoader's background workers: threads that prepare batches ahead, delivered in order.

Threads, not processes: the work of a batch is NumPy indexing and copying, image decoding
and array transforms, which release the GIL, so threads overlap with the training step
without pickling the dataset, the collate function or the batches between processes.

The main thread drives, as in PyTorch: it draws batch indices from the sampler and hands
task k to the next worker in turn (at most `depth` tasks per worker outstanding), and
yields results in task order, holding back any that arrive early. Each worker works on its
own shallow copy of the dataset (`get_worker_info().dataset`), created after
`worker_init_fn` ran in that thread. An exception in a worker reaches the consumer as the
same exception object (type, message and the worker's traceback).
"""
import copy
import itertools
import queue
import threading

_local = threading.local()


class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: id, num_workers, seed, dataset."""
    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):
        for name, value in zip(self.__slots__, (id, num_workers, seed, dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"WorkerInfo: {name} cannot be changed")

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


def replica(dataset):
    """A shallow copy of `dataset` for one worker, as each of torch's worker processes holds
    its own. The instance dictionary is copied directly where it holds the whole state:
    copy.copy would probe the half-built copy for __setstate__, which sends the common
    delegating `__getattr__` (`return getattr(self.inner, name)`) into endless recursion."""
    cls = type(dataset)
    plain = hasattr(dataset, "__dict__") and getattr(cls, "__copy__", None) is None and \
        not any(getattr(k, "__slots__", ()) for k in cls.__mro__)
    if plain:
        try:
            clone = object.__new__(cls)
        except TypeError:           # a built-in base class (list, dict) makes its own
            return copy.copy(dataset)
        clone.__dict__.update(dataset.__dict__)
        return clone
    return copy.copy(dataset)


def get_worker_info():
    """This worker's WorkerInfo inside a DataLoader worker; None in any other thread.

    `seed` is base + id, the base decided per epoch by the loader's generator (without
    drawing from it). Threads share NumPy's and glassnet's global generators, so unlike
    PyTorch's worker processes nothing is re-seeded per worker: a dataset wanting its own
    stream per worker seeds one from `seed` (e.g. `gn.Generator().manual_seed(info.seed)`).
    """
    return getattr(_local, "info", None)


class Exhausted(Exception):
    """A worker's copy of an IterableDataset has no more samples."""


class _Failure:
    def __init__(self, error):
        self.error = error


def _work(info, make_fetcher, init_fn, inbox, results):
    """One worker: set up, then fetch each (k, index) task from `inbox` until None comes."""
    _local.info = info
    try:
        if init_fn is not None:
            init_fn(info.id)
        fetch = make_fetcher(info.dataset)
    except BaseException as e:        # every task of this worker reports the failure
        fetch, setup_failure = None, _Failure(e)
    while (task := inbox.get()) is not None:
        k, index = task
        if fetch is None:
            results.put((k, setup_failure))
            continue
        try:
            out = fetch(index)
        except Exhausted as e:
            out = e
        except BaseException as e:
            out = _Failure(e)
        results.put((k, out))


def worker_batches(dataset, tasks, make_fetcher, *, num_workers, depth, seed, init_fn, timeout):
    """Yield `make_fetcher(copy of dataset)(index)` for every index of `tasks`, in order,
    computed by `num_workers` threads at most `depth` tasks per worker ahead."""
    results, inboxes = queue.Queue(), [queue.Queue() for _ in range(num_workers)]
    for w in range(num_workers):
        info = WorkerInfo(w, num_workers, seed + w, replica(dataset))
        threading.Thread(target=_work, args=(info, make_fetcher, init_fn, inboxes[w], results),
                         name=f"glassnet-loader-worker-{w}", daemon=True).start()
    active, owner, early, turn = list(range(num_workers)), {}, {}, itertools.count()
    sent = received = 0

    def send():
        nonlocal sent
        index = next(tasks, _END) if active else _END
        if index is not _END:
            owner[sent] = w = active[next(turn) % len(active)]
            inboxes[w].put((sent, index))
            sent += 1

    try:
        for _ in range(depth * num_workers):
            send()
        while received < sent:
            while received not in early:
                k, out = _next_result(results, timeout)
                early[k] = out
            out, w = early.pop(received), owner.pop(received)
            received += 1
            if isinstance(out, Exhausted):
                if w in active:
                    active.remove(w)
            elif isinstance(out, _Failure):
                raise out.error
            send()
            if not isinstance(out, Exhausted):
                yield out
    finally:
        for box in inboxes:
            box.put(None)


_END = object()


def _next_result(results, timeout):
    try:
        return results.get(timeout=timeout if timeout > 0 else None)
    except queue.Empty:
        raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for a "
                           f"worker's batch") from None
