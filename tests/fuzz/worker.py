"""The child's side of the fuzz runner: load mutants, say what became of each.

Run as a script by `runner.Runner` (`python worker.py SEEDS_JSON MARGIN`): it imports
glassnet, loads every seed once (a seed's fingerprint is what "same" means), limits its
own address space to what it uses at that point plus MARGIN bytes, then reads requests,
one JSON line each on stdin ({"id", "reader", "seed", "path"}), and answers one JSON line
each on a private copy of stdout (whatever the readers print goes to stderr): the
outcome (see runner.py), the exception's type and message, the seconds and the resident
peak of that load. Only the standard library is imported at the top: this file runs
outside the package.
"""
import hashlib
import json
import os
import resource
import sys
import time

CODE_RAN_MARKER = "FUZZ-CODE-RAN"


class SelftestError(ValueError):
    """The error of the `selftest` reader, which exists to check this harness itself."""


def _selftest(path):
    """Acts out every outcome by the file's first word, so the tests can check that the
    harness tells them apart."""
    with open(path, "rb") as f:
        word = f.read().decode()
    actions = {
        "refuse": lambda: _raise(SelftestError(f"{path}: refused")),
        "anonymous": lambda: _raise(SelftestError("refused without saying which file")),
        "foreign": lambda: {}["missing"],
        "recursion": lambda: _recurse(),
        "crash": lambda: os.abort(),
        "exit": lambda: os._exit(3),
        "hang": lambda: time.sleep(3600),
        "memory": lambda: bytearray(8 << 30),
        "memory-hidden": lambda: _hidden_memory_error(path),
        "code": lambda: open(CODE_RAN_MARKER, "w").close(),
        "wrong": lambda: object(),
        "print": lambda: print("noise on stdout") or "ok:print",
    }
    if word.startswith("ok:"):
        return word
    return actions[word]()


def _raise(error):
    raise error


def _recurse(n=0):
    return _recurse(n + 1) + 1


def _hidden_memory_error(path):
    try:
        bytearray(8 << 30)
    except MemoryError:
        raise SelftestError(f"{path}: too big") from None


def _checkpoint_problem(value):
    """What is wrong with a value gn.load returned, or None: only containers, numbers,
    strings, None and numeric arrays of the machine's byte order may come back."""
    import numpy as np
    from glassnet import Tensor
    stack, seen = [value], set()
    while stack:
        v = stack.pop()
        if isinstance(v, (dict, list, tuple)):
            if id(v) in seen:                  # shared (or, from a pickle, even cyclic)
                continue
            seen.add(id(v))
        if isinstance(v, Tensor):
            v = v._array
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf" or not v.dtype.isnative:
                return f"an array of dtype {v.dtype.str}"
        elif isinstance(v, dict):
            if any(not isinstance(k, (str, int)) for k in v):
                return "a dict key that is neither str nor int"
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif v is not None and not isinstance(v, (bool, int, float, str)):
            return f"a {type(v).__name__}"
    return None


def _array_problem(dtype, ndims, last=None):
    def check(value):
        import numpy as np
        if not isinstance(value, np.ndarray) or value.dtype != dtype or value.ndim not in ndims \
                or (last is not None and value.ndim == 3 and value.shape[-1] != last):
            return f"not a {dtype} array of {ndims} dims: {type(value).__name__} " \
                   f"{getattr(value, 'dtype', '')} {getattr(value, 'shape', '')}"
        return None
    return check


def _batch_problem(value):
    import numpy as np
    images, labels = value
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or labels.dtype != np.int64 \
            or labels.shape != (len(images),) or (labels.size and (labels.min() < 0
                                                                   or labels.max() > 9)):
        return f"images {images.dtype} {images.shape}, labels {labels.dtype} {labels.shape}"
    return None


def _names_problem(value):
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        return f"label names {value!r:.60}"
    return None


# how each reader is called, for the notes kept beside failing inputs
READER_CALLS = {"checkpoint": "glassnet.load(path)",
                "idx-images": "glassnet.data.mnist.read_idx(path, 2051, 3)",
                "idx-labels": "glassnet.data.mnist.read_idx(path, 2049, 1)",
                "cifar-batch": "glassnet.data.cifar.read_batch(path)",
                "cifar-meta": "glassnet.data.cifar.read_label_names(path)",
                "image": "glassnet.data.folder.pil_loader(path)"}


def readers(names):
    """reader name -> (load(path), the reader's own error type, problem(value) or None),
    for the readers in `names`; glassnet is imported only if one of them is its."""
    table = {"selftest": (_selftest, SelftestError,
                          lambda v: None if isinstance(v, str) else "not a string")}
    if set(names) - set(table):
        import glassnet as gn                     # before NumPy: see glassnet/_kernels/blas.py
        import numpy as np
        from glassnet.data.cifar import read_batch, read_label_names
        from glassnet.data.folder import pil_loader
        from glassnet.data.mnist import IMAGES, LABELS, DataFormatError, read_idx
        from glassnet.io import CheckpointError
        table.update({
            "checkpoint": (gn.load, CheckpointError, _checkpoint_problem),
            "idx-images": (lambda p: read_idx(p, IMAGES, 3), DataFormatError,
                           _array_problem(np.uint8, (3,))),
            "idx-labels": (lambda p: read_idx(p, LABELS, 1), DataFormatError,
                           _array_problem(np.uint8, (1,))),
            "cifar-batch": (read_batch, DataFormatError, _batch_problem),
            "cifar-meta": (read_label_names, DataFormatError, _names_problem),
            "image": (pil_loader, DataFormatError, _array_problem(np.uint8, (2, 3), 3))})
    return {name: table[name] for name in names}


class _Key:
    """A dict key on the walk's stack (so that it cannot be taken for a value)."""
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key


def fingerprint(value):
    """A sha256 over a canonical walk of a value (iterative: a value may be nested a
    hundred thousand deep): equal for equal values, NaNs included. A container met
    again (shared, or cyclic: a pickle can build both) is written as a reference to its
    first visit."""
    import numpy as np
    digest = hashlib.sha256()
    stack, seen = [value], {}
    while stack:
        v = stack.pop()
        kind = type(v).__name__
        if isinstance(v, (dict, list, tuple)):
            if id(v) in seen:
                digest.update(f"@{seen[id(v)]};".encode())
                continue
            seen[id(v)] = len(seen)
        if isinstance(v, _Key):
            digest.update(f"K{type(v.key).__name__}:{_scalar(v.key)};".encode())
        elif hasattr(v, "_array") and hasattr(v, "requires_grad"):         # a Tensor
            stack.append(v._array)
            digest.update(f"T{v.requires_grad}".encode())
        elif isinstance(v, np.ndarray):
            digest.update(f"A{v.dtype.str}{v.shape}".encode())
            digest.update(np.ascontiguousarray(v).view(np.uint8).reshape(-1).data)
        elif isinstance(v, dict):
            digest.update(f"{kind}{len(v)}(".encode())
            for k, item in reversed(list(v.items())):
                stack += [item, _Key(k)]
        elif isinstance(v, (list, tuple)):
            digest.update(f"{kind}{len(v)}(".encode())
            stack.extend(reversed(v))
        else:
            digest.update(f"{kind}:{_scalar(v)};".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _scalar(v):
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return hex(v)                           # str() refuses integers past 4300 digits
    if isinstance(v, (float, str, bytes)):
        return repr(v)
    return type(v).__name__


def _text(error):
    """An exception's message, cut to 1000 characters; str() itself may fail (a KeyError
    of an integer past 4300 digits)."""
    try:
        return str(error)[:1000]
    except Exception as e:                                # noqa: BLE001
        return f"(a message that cannot be printed: {type(e).__name__})"


def _chain(error):
    """The error and every exception it was raised from or while handling."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def classify(path, load, own_error, problem, original):
    """(outcome, error type, message) of loading one file in this process."""
    try:
        value = load(path)
    except BaseException as e:                          # noqa: B036  everything is a finding
        message = _text(e)
        if any(isinstance(x, MemoryError) for x in _chain(e)):
            found = "over-memory", type(e).__name__, message
        elif isinstance(e, own_error):
            named = os.path.basename(path) in message
            found = ("refused" if named else "unnamed-refusal"), type(e).__name__, message
        else:
            found = "foreign-exception", type(e).__name__, message
    else:
        try:
            wrong = problem(value)
            same = fingerprint(value) == original
        except Exception as e:                          # noqa: BLE001  a value of no known shape
            wrong = f"the value cannot be checked ({type(e).__name__}: {e})"
        found = ("wrong-value", None, wrong) if wrong else \
            ("same" if same else "changed", None, "")
    if os.path.exists(CODE_RAN_MARKER):
        os.unlink(CODE_RAN_MARKER)
        return "code-ran", None, "loading created the marker file that a pickled call names"
    return found


def _status(field):
    """A size from /proc/self/status in bytes (VmSize: address space, VmRSS, VmHWM: the
    resident peak since the last reset)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Restart VmHWM from the current resident size (Linux >= 4.0), so the peak after a
    load is that load's. (ru_maxrss cannot be reset, and a child's starts at its
    parent's resident size at fork.)"""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def main(seeds_file, margin):
    """The child's loop: load the seeds, limit the address space, answer requests."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                  # whatever the readers print goes to stderr, not the answers
    with open(seeds_file) as f:
        seeds = json.load(f)
    table = readers({reader for reader, _ in seeds})
    originals = {}
    for reader, path in seeds:
        load, _, problem = table[reader]
        value = load(path)
        if problem and problem(value):
            raise RuntimeError(f"seed {path}: {problem(value)}")
        originals[path] = fingerprint(value)
    baseline = _status("VmSize")
    resource.setrlimit(resource.RLIMIT_AS, (baseline + margin, resource.getrlimit(
        resource.RLIMIT_AS)[1]))
    answers.write(json.dumps({"ready": True, "baseline": baseline,
                              "rss_kib": _status("VmRSS") >> 10})
                  + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        load, own_error, problem = table[request["reader"]]
        _reset_peak()
        before = _status("VmRSS")
        start = time.perf_counter()
        outcome, error, message = classify(request["path"], load, own_error, problem,
                                           originals[request["seed"]])
        peak = _status("VmHWM")
        answers.write(json.dumps({"id": request["id"], "outcome": outcome, "error": error,
                                  "message": message, "peak_kib": peak >> 10,
                                  "grew_kib": (peak - before) >> 10,
                                  "seconds": time.perf_counter() - start}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
