"""Small valid seed files of every format glassnet reads, and mutants grown from them.

`build(folder)` writes the seeds and returns them as `Seed(format, reader, path)`:
`format` groups them (gn, pth, idx, cifar, image), `reader` names the function the
runner loads them with. Each is a few kilobytes, so a worker gets through hundreds of
mutants a second, and each is made the way users' files are made: checkpoints by
`gn.save` (a model's and an optimizer's state dicts) and `torch.save` (ZIP and legacy),
IDX files raw and gzipped, CIFAR batches pickled as Python 2 wrote them, PNG and JPEG
by Pillow. Everything is deterministic (fixed random streams, ZIP and gzip timestamps
pinned), so a fixed seed gives the same mutants on every run.

`mutants(seeds, count, seed)` draws `count` mutants per format. For the command-line
checks, `train_run` trains a tiny run (on the MNIST folder `write_mnist` makes) and
`cli_calls` writes hostile checkpoints of it and hostile images for `glassnet eval` and
`glassnet predict`.
"""
import gzip
import io
import os
import pickle
import random
import struct
import subprocess
import sys
from collections import OrderedDict, namedtuple

import numpy as np

from . import mutators, picklemut, zipmut

Seed = namedtuple("Seed", "format reader path")
Job = namedtuple("Job", "id seed mutation")          # mutation: a mutators.Mutation
FORMATS = ("gn", "pth", "idx", "cifar", "image")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(folder, formats=FORMATS):
    """Write the seeds of `formats` into folder; a list of Seed."""
    os.makedirs(folder, exist_ok=True)
    seeds = []
    for fmt in formats:
        seeds += {"gn": _checkpoints, "pth": _torch_files, "idx": _idx_files,
                  "cifar": _cifar_files, "image": _images}[fmt](folder)
    return seeds


# ------------------------------------------------------------------------ checkpoints
def _state():
    """A model's and an optimizer's state dicts after one Adam step, with the other
    things a checkpoint holds (ints, strings, None, tuples, an OrderedDict, arrays)."""
    import glassnet as gn
    from glassnet import nn, optim
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    model(gn.randn(2, 1, 4, 4)).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
            "config": {"name": "tiny", "lr": 0.001, "betas": (0.9, 0.999), "notes": None,
                       "flags": [True, False], "order": OrderedDict(b=1, a=2)},
            "ids": np.arange(4, dtype=np.int64), "mask": np.array([True, False]),
            "empty": np.zeros((0, 3), np.float32)}


def _pin_zip_times(path):
    """Set every ZIP timestamp to 1980-01-01 (gn.save stamps the current time)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    archive = zipmut.parse(bytes(data))
    for m in archive.members:
        struct.pack_into("<HH", data, m.local + 10, 0, 0x21)
        struct.pack_into("<HH", data, m.central + 12, 0, 0x21)
    with open(path, "wb") as f:
        f.write(data)


def _checkpoints(folder):
    import glassnet as gn
    path = os.path.join(folder, "tiny.gn")
    gn.save(_state(), path)
    _pin_zip_times(path)
    return [Seed("gn", "checkpoint", path)]


def _torch_files(folder):
    """gn.save(format="torch"), and torch.save in both layouts when torch is installed."""
    import glassnet as gn
    seeds = [os.path.join(folder, "glassnet-written.pth")]
    gn.save(_state(), seeds[0], format="torch")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                    torch.nn.Flatten(), torch.nn.Linear(8, 3))
        base = torch.arange(6, dtype=torch.float32)
        obj = {"model": model.state_dict(), "optimizer": _torch_adam_state(torch, model),
               "view": base[2:], "base": base, "half": torch.ones(2, dtype=torch.float16),
               "brain": torch.ones(2, dtype=torch.bfloat16), "flags": torch.tensor([True])}
        for name, zipped in (("torch.pth", True), ("torch-legacy.pth", False)):
            seeds.append(os.path.join(folder, name))
            torch.save(obj, seeds[-1], _use_new_zipfile_serialization=zipped)
        _pin_legacy_keys(seeds[-1])
    return [Seed("pth", "checkpoint", p) for p in seeds]


_ITEMSIZE = {"Double": 8, "Long": 8, "Float": 4, "Int": 4, "Half": 2, "BFloat16": 2,
             "Short": 2, "Char": 1, "Byte": 1, "Bool": 1}


class _StorageLister(pickle.Unpickler):
    """Reads our own legacy .pth's object pickle without torch, noting each storage's key
    and element type in the order the object names them."""

    def __init__(self, stream):
        super().__init__(stream)
        self.storages = {}

    def find_class(self, module, name):
        if name.endswith("Storage"):
            return name
        return OrderedDict if name == "OrderedDict" else (lambda *args: None)

    def persistent_load(self, pid):
        self.storages.setdefault(pid[2], _ITEMSIZE[pid[1][:-len("Storage")]])


def _torch_adam_state(torch, model):
    """What torch.optim.Adam(...).state_dict() holds after one step, built by hand:
    importing torch.optim takes seconds."""
    params = list(model.parameters())
    state = {i: {"step": torch.tensor(1.0), "exp_avg": 0.1 * torch.ones_like(p),
                 "exp_avg_sq": 0.01 * torch.ones_like(p)} for i, p in enumerate(params)}
    group = {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
             "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
             "differentiable": False, "fused": None, "params": list(range(len(params)))}
    return {"state": state, "param_groups": [group]}


def _pin_legacy_keys(path):
    """Name the storages of a legacy .pth "k0", "k1", ... in the order the object names
    them, and put them in that order: torch names them after memory addresses and sorts
    them by name, which differs from run to run (and so would the mutants)."""
    with open(path, "rb") as f:
        data = f.read()
    stream = io.BytesIO(data)
    for _ in range(3):                   # the magic number, the protocol, the system info
        pickle.load(stream)
    lister = _StorageLister(stream)
    lister.load()
    start = stream.tell()
    stored = pickle.load(stream)                              # the keys, in file order
    blocks, at = {}, stream.tell()
    for key in stored:
        (numel,) = struct.unpack_from("<q", data, at)
        end = at + 8 + numel * lister.storages[key]
        blocks[key], at = data[at:end], end
    head = data[:start]
    for i, key in enumerate(lister.storages):
        old, new = key.encode(), f"k{i}".encode()
        head = head.replace(b"X" + struct.pack("<I", len(old)) + old,
                            b"X" + struct.pack("<I", len(new)) + new)
    keys = pickle.dumps([f"k{i}" for i in range(len(blocks))], protocol=2)
    with open(path, "wb") as f:
        f.write(head + keys + b"".join(blocks[k] for k in lister.storages) + data[at:])


# -------------------------------------------------------------------------------- IDX
def _idx(array, magic):
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def write_mnist(folder, train=64, test=32, gz=False):
    """The four MNIST IDX files with `train` and `test` random images (stripes of one
    brightness per class, so a model can learn them)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = {}
    for prefix, n in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), labels * 2 + 4, :] = 255
        for kind, array, magic in (("images-idx3", images, 2051), ("labels-idx1", labels, 2049)):
            path = os.path.join(folder, f"{prefix}-{kind}-ubyte" + (".gz" if gz else ""))
            raw = _idx(array, magic)
            with open(path, "wb") as f:
                f.write(gzip.compress(raw, mtime=0) if gz else raw)
            paths[prefix, kind] = path
    return paths


def _idx_files(folder):
    seeds = []
    for gz in (False, True):
        paths = write_mnist(os.path.join(folder, "mnist-gz" if gz else "mnist"), 6, 2, gz)
        seeds += [Seed("idx", "idx-images", paths["train", "images-idx3"]),
                  Seed("idx", "idx-labels", paths["train", "labels-idx1"])]
    return seeds


# ------------------------------------------------------------------------------ CIFAR
def _cifar_files(folder):
    """Two batches (as Python 2 pickled them, and by Python 3's pickle) and the meta file."""
    rng = np.random.default_rng(0)
    n = 4
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": [int(v) for v in
                                                                  rng.integers(0, 10, n)],
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [b"img%d.png" % i for i in range(n)]}
    meta = {b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog",
                             b"frog", b"horse", b"ship", b"truck"],
            b"num_cases_per_batch": n, b"num_vis": 3072}
    files = {"data_batch_1": picklemut.dump_python2(batch),
             "data_batch_2": pickle.dumps(batch, protocol=3),
             "batches.meta": picklemut.dump_python2(meta)}
    folder = os.path.join(folder, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    seeds = []
    for name, raw in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(raw)
        seeds.append(Seed("cifar", "cifar-meta" if name == "batches.meta" else "cifar-batch",
                          os.path.join(folder, name)))
    return seeds


# ----------------------------------------------------------------------------- images
def _images(folder):
    """A gray PNG digit, an RGB PNG with text chunks, a palette PNG with transparency, a
    baseline RGB JPEG and a progressive gray one."""
    from PIL import Image, PngImagePlugin
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "a seed")
    info.add_text("Author", "glassnet " * 20, zip=True)
    info.add_itxt("Title", "Gl\u00e4ssnet", lang="de", tkey="Titel", zip=True)
    palette = Image.fromarray(rgb).quantize(8)
    palette.info["transparency"] = 0
    made = {"digit.png": (Image.fromarray(gray), {}),
            "color.png": (Image.fromarray(rgb), {"pnginfo": info}),
            "palette.png": (palette, {"transparency": 0}),
            "photo.jpg": (Image.fromarray(rgb), {"quality": 90}),
            "progressive.jpg": (Image.fromarray(gray), {"progressive": True, "quality": 80})}
    seeds = []
    for name, (image, options) in made.items():
        path = os.path.join(folder, name)
        image.save(path, **options)
        seeds.append(Seed("image", "image", path))
    return seeds


# ---------------------------------------------------------------------------- mutants
def mutants(seeds, count, seed=0, names=None):
    """`count` Jobs per format of `seeds`, drawn from a random stream of their own per
    format (adding a seed of one format leaves the other formats' mutants as they were);
    `names` restricts the mutators. Ids run on from 0 across formats."""
    jobs, contents = [], {}
    for fmt in sorted({s.format for s in seeds}):
        rng = random.Random(f"{seed}-{fmt}")
        mine = [s for s in seeds if s.format == fmt]
        for _ in range(count):
            chosen = rng.choice(mine)
            if chosen.path not in contents:
                with open(chosen.path, "rb") as f:
                    contents[chosen.path] = f.read()
            jobs.append(Job(len(jobs), chosen, mutators.mutate(contents[chosen.path], rng, names)))
    return jobs


# ----------------------------------------------------------------- command-line checks
def train_run(folder, timeout=300):
    """A tiny MNIST folder and a run trained on it by `glassnet train` (softmax
    regression, one epoch of 64 images): (run directory, MNIST folder)."""
    data = os.path.join(folder, "mnist-run-data")
    write_mnist(data)
    out = os.path.join(folder, "run")
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "glassnet", "train", "softmax-regression",
                           "--data-dir", data, "--epochs", "1", "--out", out, "--quiet"],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"train_run: glassnet train failed ({proc.returncode}): "
                           f"{proc.stderr[-2000:]}")
    return out, data


CLI_MUTATORS = {"eval": ("zip-header", "zip-member", "zip-bomb", "truncate", "flip",
                         "zip-end"),
                "predict": ("png-bomb", "png-idat-garbage", "png-ihdr", "png-text", "truncate",
                            "png-chunk-data")}


def cli_calls(folder, run, image_seed, count, seed=0):
    """`count` hostile calls of each command: (Mutation, argv) for `glassnet eval
    <mutated checkpoint of run>` and `glassnet predict <run> <mutated image>`, each
    mutant from another of the CLI_MUTATORS (in turn), written into folder."""
    checkpoint = Seed("gn", "checkpoint", os.path.join(run, "checkpoint.gn"))
    calls = []
    for command, base in (("eval", checkpoint), ("predict", image_seed)):
        names = CLI_MUTATORS[command]
        for i in range(count):
            name = names[i % len(names)]
            mutation = mutants([base], 1, seed=f"{seed}-{i}", names=[name])[0].mutation
            path = os.path.join(folder, f"{command}{i}-{name}-{os.path.basename(base.path)}")
            with open(path, "wb") as f:
                f.write(mutation.data)
            calls.append((mutation, ["eval", path] if command == "eval" else
                          ["predict", run, path]))
    return calls

