"""The `.keras` file: Keras 3's zip archive of three members, stored uncompressed.

    metadata.json      {"keras_version": "3.15.1", "date_saved": "2025-01-31@12:00:00"}
    config.json        the model: {"module", "class_name", "config", "registered_name",
                       "build_config", "compile_config" (when compiled)}; graph.py, config.py
    model.weights.h5   the weights in Keras 3's layout (h5_weights.py)

Reading treats the file as hostile: the zip through glassnet's checked reader
(glassnet/archive.py: no member read past its size, no overlapping members, sizes
capped), only those three member names accepted, JSON parsed with bounded nesting and
nothing else evaluated, only allow-listed classes built (config.py), a keras_version of a
major release after 3 refused, and the whole model rebuilt and its weights read and
checked before the model is returned: a failure leaves nothing half-made.
"""
import contextlib
import datetime
import io
import json
import os
import zipfile

from ...archive import METADATA_LIMIT, Archive, Refused, open_zip, reason
from ...io import _INPUT_ERRORS, _check_json_shape
from .. import __version__ as keras_version
from .compile_config import compile_from_config, serialize_compile
from .files import KerasFileError, h5_bytes, require_h5py, write_file
from .graph import deserialize_model, serialize_model
from .h5_weights import assign, read_keras3, write_keras3

__all__ = ["save_model", "load_model", "open_weights"]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
KNOWN_MAJOR = 3
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def save_model(model, filepath, overwrite=True):
    """Write the model as a .keras file that Keras 3's load_model reads (atomically)."""
    path = os.fspath(filepath)
    where = f"save: {path}"
    if not path.endswith(".keras"):
        raise ValueError(f"{where}: glassnet writes whole models as .keras files; give a "
                         "name ending in .keras (or use save_weights for HDF5 weights)")
    entry = serialize_model(model, where)
    compile_config = serialize_compile(model)
    if compile_config is not None:
        entry["compile_config"] = compile_config
    config = json.dumps(entry, allow_nan=False)
    metadata = json.dumps({"keras_version": keras_version, "date_saved":
                           datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = h5_bytes(lambda f: write_keras3(f, model))

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(METADATA, metadata)
            z.writestr(CONFIG, config)
            z.writestr(WEIGHTS, weights)
    write_file(path, write, overwrite)


def load_model(filepath, custom_objects=None, compile=True):
    """The model of a .keras file, with its weights. compile=True compiles it when the
    file's compile_config names an optimizer, loss and metrics glassnet knows; otherwise
    (or with compile=False) the model comes back uncompiled (a warning says why when the
    file had settings that were not understood)."""
    path = os.fspath(filepath)
    where = f"load_model: {path}"
    if custom_objects:
        raise KerasFileError(f"{where}: custom_objects are not supported: glassnet builds "
                             "only its own layers and runs no code from a file")
    with _open_archive(path, where) as archive:
        _check_metadata(_json(archive, METADATA, where), where)
        entry = _json(archive, CONFIG, where)
        model = deserialize_model(entry, where)
        if WEIGHTS in archive.names:
            with _h5(archive, where) as f:
                pairs = _guarded(lambda: read_keras3(f, model, where), where)
        elif model.built and model.weights:
            raise KerasFileError(f"{where}: the model has weights but the file has no "
                                 f"{WEIGHTS}")
        else:
            pairs = []
    assign(pairs)
    if compile and isinstance(entry, dict):
        compile_from_config(model, entry.get("compile_config"), where)
    return model


@contextlib.contextmanager
def open_weights(path):
    """The open h5py.File of a .keras file's model.weights.h5 (for load_weights)."""
    where = f"load_weights: {path}"
    with _open_archive(path, where) as archive:
        if WEIGHTS not in archive.names:
            raise KerasFileError(f"{where}: the archive has no {WEIGHTS}")
        with _h5(archive, where) as f:
            yield f


@contextlib.contextmanager
def _open_archive(path, where):
    """The checked Archive of a .keras file; every problem a KerasFileError naming it."""
    with open(path, "rb") as f:          # a wrong path raises as open() does
        z = _guarded(lambda: _open_zip(f, where), where)
        with z:
            yield Archive(z, f, (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))


def _open_zip(f, where):
    if not zipfile.is_zipfile(f):
        f.seek(0)
        kind = ("an HDF5 file (Keras 2's whole-model .h5?): glassnet reads whole models "
                "from .keras files; load an .h5 file's weights with model.load_weights"
                if f.read(8) == _HDF5_SIGNATURE else "not a zip archive")
        raise KerasFileError(f"{where} is not a .keras file ({kind})")
    z = open_zip(f)
    names = z.namelist()
    unexpected = sorted(set(names) - {CONFIG, METADATA, WEIGHTS})
    if unexpected or len(names) != len(set(names)):
        z.close()
        raise KerasFileError(
            f"{where}: unexpected member(s) {', '.join(map(repr, unexpected[:5]))}"
            f"{'' if unexpected else 'listed twice'}; a .keras file glassnet reads holds "
            f"only {CONFIG}, {METADATA} and {WEIGHTS}, once each")
    return z


def _guarded(read, where):
    """read(), with what hostile bytes make zipfile, zlib or h5py raise turned into a
    KerasFileError naming the file."""
    from .weights import HDF5_ERRORS
    try:
        return read()
    except KerasFileError:
        raise
    except Refused as e:
        raise KerasFileError(f"{where}: {e}") from e
    except _INPUT_ERRORS + HDF5_ERRORS as e:
        raise KerasFileError(f"{where} is truncated, corrupt or not a .keras file "
                             f"({reason(e)})") from e


def _json(archive, name, where):
    """A JSON member, size-capped and nesting-checked before it is parsed."""
    if name not in archive.names:
        raise KerasFileError(f"{where}: the archive has no {name}; not a Keras 3 file")
    data = _guarded(lambda: archive.read(name, limit=METADATA_LIMIT), where)
    try:
        text = str(memoryview(data), "utf-8")
        _check_json_shape(text, name)
        return json.loads(text)
    except UnicodeDecodeError as e:
        raise KerasFileError(f"{where}: {name} is not UTF-8 text") from e
    except Refused as e:
        raise KerasFileError(f"{where}: {e}") from e
    except (ValueError, RecursionError) as e:
        raise KerasFileError(f"{where}: {name} is not valid JSON ({str(e)[:200]})") from e


def _check_metadata(metadata, where):
    version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise KerasFileError(f"{where}: {METADATA} has no readable keras_version "
                             f"({str(version)[:40]!r})") from None
    if major > KNOWN_MAJOR:
        raise KerasFileError(f"{where}: written by Keras {version}; glassnet reads files of "
                             f"Keras {KNOWN_MAJOR} and earlier")


@contextlib.contextmanager
def _h5(archive, where):
    h5py = require_h5py("reading a .keras file")
    data = _guarded(lambda: archive.read(WEIGHTS), where)
    f = _guarded(lambda: h5py.File(io.BytesIO(data), "r"), f"{where}: {WEIGHTS}")
    with f:
        yield f
