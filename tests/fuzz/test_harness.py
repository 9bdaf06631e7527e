"""The fuzzer checked by itself: the runner tells every outcome apart, the mutators do
what they say (rebuilt archives, chunks and headers are valid apart from the one change,
the bombs inflate to their size), and a fixed seed gives the same mutants."""
import gzip
import importlib.util
import io
import json
import os
import pickle
import random
import subprocess
import sys
import zipfile
import zlib

import numpy as np

from . import corpus, gnmut, imagemut, mutators, picklemut, runner, worker, zipmut


# ----------------------------------------------------------------------------- runner
SELFTEST = {b"ok:seed": "same", b"ok:other": "changed", b"refuse": "refused",
            b"anonymous": "unnamed-refusal", b"foreign": "foreign-exception",
            b"recursion": "foreign-exception", b"crash": "crash", b"exit": "crash",
            b"hang": "hang", b"memory": "over-memory", b"memory-hidden": "over-memory",
            b"code": "code-ran", b"wrong": "wrong-value", b"print": "changed"}


def test_the_runner_tells_every_outcome_apart(tmp_path):
    seed = corpus.Seed("selftest", "selftest", str(tmp_path / "seed"))
    (tmp_path / "seed").write_bytes(b"ok:seed")
    words = list(SELFTEST) + [b"ok:seed"]          # one more after the crashes and the hang
    jobs = [corpus.Job(i, seed, mutators.Mutation(w, "selftest", w.decode()))
            for i, w in enumerate(words)]
    fuzz = runner.Runner([seed], folder=str(tmp_path / "run"), workers=2, timeout=2.0)
    results = fuzz.run(jobs)
    found = {r.job.mutation.data: r.outcome for r in results}
    assert found == SELFTEST
    by_word = {r.job.mutation.data: r for r in results}
    assert "SIGABRT" in by_word[b"crash"].message
    assert "exit status 3" in by_word[b"exit"].message
    assert by_word[b"foreign"].error == "KeyError"
    assert by_word[b"recursion"].error == "RecursionError"
    assert fuzz.restarts == 3
    # failing inputs stay for the report; the fine ones are deleted
    assert os.path.exists(by_word[b"crash"].path) and not os.path.exists(by_word[b"refuse"].path)


def test_fingerprints_equal_values_and_only_them():
    import glassnet as gn
    a = {"w": gn.tensor([1.0, float("nan")]), "n": [1, (2.5, None)], "big": 10 ** 5000}
    b = {"w": gn.tensor([1.0, float("nan")]), "n": [1, (2.5, None)], "big": 10 ** 5000}
    assert worker.fingerprint(a) == worker.fingerprint(b)
    for other in ({**a, "n": [1, [2.5, None]]}, {**a, "w": gn.tensor([1.0, 2.0])},
                  {"n": a["n"], "w": a["w"], "big": a["big"]}, {**a, "big": 10 ** 5000 + 1},
                  {**a, "w": np.array([1.0, float("nan")], np.float32)}):
        assert worker.fingerprint(other) != worker.fingerprint(a)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert worker.fingerprint(deep)                 # no RecursionError


FAKE_CLI = """import sys, time, os
what = sys.argv[1]
if what == "ok": sys.exit(0)
if what == "one-line": print("fake: no", file=sys.stderr); sys.exit(2)
if what == "two-lines": print("fake: no\\nreally", file=sys.stderr); sys.exit(2)
if what == "traceback": raise ValueError("boom")
if what == "bug": print("fake: internal error", file=sys.stderr); sys.exit(3)
if what == "exit-4": sys.exit(4)
if what == "abort": os.abort()
if what == "hang": time.sleep(60)
"""


def test_the_command_contract_is_checked(tmp_path):
    (tmp_path / "fake_cli.py").write_text(FAKE_CLI)
    expected = {"ok": "ok", "one-line": "refused", "two-lines": "multi-line",
                "traceback": "traceback", "bug": "internal-error", "exit-4": "exit-4",
                "abort": "crash", "hang": "hang"}
    for arg, outcome in expected.items():
        result = runner.run_cli([arg], cwd=str(tmp_path), timeout=2, module="fake_cli")
        assert result.outcome == outcome, (arg, result)


# --------------------------------------------------------------------------- mutators
def _bytes(seed):
    with open(seed.path, "rb") as f:
        return f.read()


def test_a_fixed_seed_gives_the_same_mutants(seeds):
    first = corpus.mutants(seeds, 20, seed=5)
    again = corpus.mutants(seeds, 20, seed=5)
    other = corpus.mutants(seeds, 20, seed=6)
    assert [j.mutation for j in first] == [j.mutation for j in again]
    assert [j.mutation.data for j in first] != [j.mutation.data for j in other]
    assert all(j.mutation.data != _bytes(j.seed) for j in first)


def test_the_seeds_are_the_same_files_every_time(seeds, tmp_path):
    again = corpus.build(str(tmp_path))
    assert len(again) == len(seeds)
    for a, b in zip(seeds, again):
        if not a.path.endswith(("glassnet-written.pth", "torch.pth")):  # a random id inside
            assert _bytes(a) == _bytes(b), a.path


def _zip_seeds(seeds):
    return [s for s in seeds if mutators.sniff(_bytes(s)) == "zip"]


def test_a_rebuilt_archive_is_valid_and_holds_the_same(seeds):
    import glassnet as gn
    for seed in _zip_seeds(seeds):
        data = _bytes(seed)
        archive = zipmut.parse(data)
        assert zipmut.rebuild(data, archive, {}) == data
        for method in (0, 8, 12):
            contents = {m.name: zipmut.content(zipmut._content(data, m), method)
                        for m in archive.members}
            rebuilt = zipmut.rebuild(data, archive, contents)
            with zipfile.ZipFile(io.BytesIO(rebuilt)) as z:
                assert z.testzip() is None
            if method == 0:
                path = seed.path + ".rebuilt"
                with open(path, "wb") as f:
                    f.write(rebuilt)
                assert worker.fingerprint(gn.load(path)) == worker.fingerprint(gn.load(seed.path))


def test_member_mutations_get_past_the_crc(seeds):
    rng = random.Random(0)
    for seed in _zip_seeds(seeds):
        for _ in range(20):
            data, description = zipmut.member_content(_bytes(seed), rng) or (None, None)
            if data is None:
                continue
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                assert z.testzip() is None, description


def test_npy_members_are_rewritten_as_numpy_writes_them(seeds):
    data = _bytes(next(s for s in seeds if s.format == "gn"))
    archive = zipmut.parse(data)
    for m in archive.members:
        if m.name.endswith(".npy"):
            raw = zipmut._content(data, m)
            version, header, body = gnmut._parse_npy(raw)
            assert gnmut._npy(version, gnmut._header_text(header), body) == raw
    rng = random.Random(1)
    raw = io.BytesIO()
    np.save(raw, np.arange(6, dtype=np.float32).reshape(2, 3))
    shape = gnmut.npy_shape(raw.getvalue(), random.Random(3))
    assert shape[1].startswith(".npy shape (2, 3) -> ")
    while True:
        mutant, description = gnmut.npy_order(raw.getvalue(), rng)
        if description.endswith("True"):
            break
    assert np.load(io.BytesIO(mutant)).flags.f_contiguous


def test_json_mutations_write_what_they_describe(seeds):
    import json
    text = json.dumps({"format": "x", "version": 1, "object": {"__array__": 0}}).encode()
    rng = random.Random(2)
    seen = set()
    for _ in range(200):
        mutant, description = gnmut.json_value(text, rng)
        for token in gnmut.RAW_TOKENS:
            if description.endswith(f"-> {token}"):
                assert token.encode() in mutant
                seen.add(token)
    assert {"NaN", "Infinity", "1e999"} <= seen
    nested, description = gnmut.json_nesting(text, random.Random(4))
    depth = int(description.split("nested ")[1].split()[0])
    assert nested.count(b"[") >= depth


def test_png_chunks_are_rewritten_with_right_crcs(seeds):
    from PIL import Image
    for seed in (s for s in seeds if s.path.endswith(".png")):
        data = _bytes(seed)
        assert imagemut.png(imagemut.chunks(data)) == data
    data = _bytes(next(s for s in seeds if s.path.endswith("digit.png")))
    mutant, description = imagemut.idat_garbage(data, random.Random(0))
    assert [k for k, _ in imagemut.chunks(mutant)].count(b"IDAT") == 2
    for kind, body in imagemut.chunks(mutant):
        assert imagemut.chunk(kind, body) in mutant
    rng = random.Random(0)
    while True:
        mutant, description = imagemut.ihdr(data, rng)
        if "width 28 -> 29" in description:
            break
    with Image.open(io.BytesIO(mutant)) as image:
        assert image.size == (29, 28)


def test_jpeg_segments_are_found(seeds):
    for seed in (s for s in seeds if s.path.endswith(".jpg")):
        found = imagemut.segments(_bytes(seed))
        markers = [m for m, _, _ in found]
        assert 0xDB in markers and 0xC4 in markers and markers[-2:] == [0xDA, "scan"]


def test_the_bombs_inflate_to_what_they_say():
    for n in (0, 1, 7, 100, 1 << 20, (3 << 20) + 5):
        for crc in (0, 0xDEADBEEF):
            assert mutators.crc32_zeros(crc, n) == zlib.crc32(bytes(n), crc)
            assert mutators.adler32_zeros(crc or 1, n) == zlib.adler32(bytes(n), crc or 1)
    n = (5 << 20) + 3
    assert zlib.decompress(mutators.deflate(b"head", n), -15) == b"head" + bytes(n)
    assert zlib.decompress(mutators.zlib_stream(b"head", n)) == b"head" + bytes(n)
    assert gzip.decompress(mutators.gzip_stream(b"head", n)) == b"head" + bytes(n)
    assert len(mutators.gzip_stream(b"", 2 * mutators.GIB)) < 3 << 20


def test_pickle_mutations_know_the_opcodes(seeds, tmp_path, monkeypatch):
    data = _bytes(next(s for s in seeds if s.path.endswith("data_batch_1")))
    listing = picklemut.ops(data)
    assert listing[0][0].name == "PROTO" and listing[-1][0].name == "STOP"
    assert listing[-1][3] == len(data)
    legacy = _bytes(next(s for s in seeds if s.path.endswith("torch-legacy.pth")))
    assert len(picklemut._segments(legacy)) == 5
    # the slipped-in call really runs under an unrestricted unpickler, and keeps the value
    mutant, _ = picklemut.call(data, random.Random(0))
    monkeypatch.chdir(tmp_path)
    value = pickle.loads(mutant, encoding="bytes")
    assert os.path.exists(tmp_path / worker.CODE_RAN_MARKER)
    assert worker.fingerprint(value) == worker.fingerprint(pickle.loads(data, encoding="bytes"))


def test_every_mutator_applies_to_some_seed(seeds):
    rng = random.Random(0)
    applied = set()
    for seed in seeds:
        data = _bytes(seed)
        table = {**mutators.BLIND, **mutators.structured(mutators.sniff(data))}
        for name, fn in table.items():
            for _ in range(5):
                result = fn(data, rng)
                if result is not None and result[0] != data:
                    applied.add(name)
                    break
    every = set(mutators.BLIND)
    for kind in ("zip", "gzip", "idx", "png", "jpeg", "pickle", "legacy-pth"):
        every |= set(mutators.structured(kind))
    assert every - applied == set()


# -------------------------------------------------------------------------- benchmark
BENCHMARK = os.path.join(runner.ROOT, "benchmarks", "fuzz.py")


def test_the_benchmark_counts_by_format_and_outcome(tmp_path):
    proc = subprocess.run([sys.executable, BENCHMARK, "--minutes", "0.1", "--format",
                           "idx,cifar", "--out", str(tmp_path / "out"), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result["counts"]) == {"idx", "cifar"} and result["mutants"] > 0
    assert sum(sum(c.values()) for c in result["counts"].values()) == result["mutants"]
    assert "peak resident memory of a worker" in proc.stdout and result["peak_mib"] > 0
    bad = subprocess.run([sys.executable, BENCHMARK, "--format", "tiff"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "unknown formats ['tiff']" in bad.stderr


def test_a_failing_input_is_kept_with_a_note(tmp_path):
    spec = importlib.util.spec_from_file_location("fuzz_benchmark", BENCHMARK)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    seed = corpus.Seed("idx", "idx-images", str(tmp_path / "train-images-idx3-ubyte.gz"))
    mutant = str(tmp_path / "m000007-train-images-idx3-ubyte.gz")
    with open(mutant, "wb") as f:
        f.write(b"mutant bytes")
    job = corpus.Job(7, seed, mutators.Mutation(b"mutant bytes", "flip", "flip bits 3.1"))
    result = runner.Result(job, "foreign-exception", "error", f"{mutant}: Error -3 at 1234",
                           0.01, 50_000, 10, mutant)
    kept = benchmark.save_failure(result, str(tmp_path / "out"), 1)
    assert kept.endswith("-1-train-images-idx3-ubyte.gz") and not os.path.exists(mutant)
    with open(kept, "rb") as f:
        assert f.read() == b"mutant bytes"
    with open(kept + ".json") as f:
        note = json.load(f)
    assert note["load"] == "glassnet.data.mnist.read_idx(path, 2051, 3)"
    assert note["mutation"] == "flip bits 3.1" and note["error"] == "error"
    assert benchmark.signature(result) == ("idx", "foreign-exception", "error",
                                           "<file>: Error -N at N")
