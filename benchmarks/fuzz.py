"""The file-format fuzzer, run for minutes: every failing input is kept.

    python benchmarks/fuzz.py --minutes 5 --format all [--out DIR] [--seed S]

Builds the seed files (tests/fuzz/corpus.py) in a temporary folder, then draws mutants
round after round (a random stream per round and format, from --seed) and loads them
in worker processes, each under an address-space limit (--limit-mib above what it holds
after loading the seeds) and a timeout per mutant (tests/fuzz/runner.py), until the
time is up. Prints the number of mutants by format and outcome, the largest resident
size any one load reached (and which mutant), and the failures grouped by signature
(format, outcome, exception type, message with paths and numbers blanked).

Each failing input is written to --out (default benchmarks/fuzz-failures/) with a JSON
file beside it saying which reader to call, which seed and mutation made it and what
happened, so that it can become a regression test; at most --keep inputs per signature.
"""
import argparse
import collections
import hashlib
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
import glassnet  # noqa: E402,F401  (first, before NumPy: see glassnet/_kernels/blas.py)


def _fuzz_package():
    """tests/fuzz as the package `glassnet_fuzz` (this script is named fuzz.py itself,
    and tests/ is no package)."""
    folder = os.path.join(ROOT, "tests", "fuzz")
    spec = importlib.util.spec_from_file_location(
        "glassnet_fuzz", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    package = importlib.util.module_from_spec(spec)
    sys.modules["glassnet_fuzz"] = package
    spec.loader.exec_module(package)
    from glassnet_fuzz import corpus, runner, worker
    return corpus, runner, worker


corpus, runner, worker = _fuzz_package()


def signature(result):
    """What makes two failures the same failure: format, outcome, exception type, and the
    message with the file's path, quoted bytes and numbers blanked."""
    message = result.message.replace(result.path, "<file>")
    message = re.sub(r"b'[^']*'|b\"[^\"]*\"", "b'…'", message)
    message = re.sub(r"0x[0-9a-fA-F]+", "N", message)
    message = re.sub(r"\d+(\.\d+)?", "N", message)[:160]
    return result.job.seed.format, result.outcome, result.error or "", message


def save_failure(result, out, number):
    """Move a failing mutant to `out` with a JSON note beside it; returns its path."""
    key = hashlib.sha1(repr(signature(result)).encode()).hexdigest()[:8]
    seed = result.job.seed
    name = f"{seed.format}-{result.outcome}-{key}-{number}-{os.path.basename(seed.path)}"
    path = os.path.join(out, name)
    os.makedirs(out, exist_ok=True)
    if os.path.exists(result.path):
        shutil.move(result.path, path)
    else:
        with open(path, "wb") as f:
            f.write(result.job.mutation.data)
    note = {"file": name, "format": seed.format, "reader": seed.reader,
            "load": worker.READER_CALLS.get(seed.reader, seed.reader),
            "seed": os.path.basename(seed.path), "mutator": result.job.mutation.name,
            "mutation": result.job.mutation.description, "outcome": result.outcome,
            "error": result.error, "message": result.message,
            "seconds": round(result.seconds, 3), "peak_mib": round(result.peak_kib / 1024, 1),
            "glassnet_commit": _commit()}
    with open(path + ".json", "w") as f:
        json.dump(note, f, indent=1)
    return path


def _commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or None
    except OSError:
        return None


def _jobs(seeds, batch, seed):
    """Mutants without end: round r draws `batch` per format from the stream 'seed-r',
    the formats taking turns (so a run cut short by the clock is balanced)."""
    number = 0
    for round_ in range(sys.maxsize):
        by_format = collections.defaultdict(list)
        for job in corpus.mutants(seeds, batch, seed=f"{seed}-{round_}"):
            by_format[job.seed.format].append(job)
        for turn in zip(*by_format.values()):
            for job in turn:
                yield job._replace(id=number)
                number += 1


def cli_checks(seeds, count, seed, out):
    """`glassnet eval` and `glassnet predict` on `count` hostile files each: lines of
    text, the failing calls' files kept in out."""
    lines = [f"the command on {count} hostile checkpoints (eval) and {count} images (predict):"]
    image = next((s for s in seeds if s.path.endswith("digit.png")), None)
    if image is None:
        return lines + ["  skipped: --format has no images"]
    with tempfile.TemporaryDirectory(prefix="glassnet-fuzz-cli-") as work:
        run, _ = corpus.train_run(work)
        calls = corpus.cli_calls(work, run, image, count, seed=seed)
        tally = collections.Counter()
        for mutation, argv in calls:
            result = runner.run_cli(argv, cwd=work)
            tally[argv[0], result.outcome] += 1
            if result.outcome not in ("ok", "refused"):
                os.makedirs(out, exist_ok=True)
                kept = shutil.copy(argv[-1], out)
                lines.append(f"  FAILURE {argv[0]} {mutation.name}: {mutation.description} -> "
                             f"{result.outcome} (exit {result.status}), kept {kept}: "
                             f"{result.stderr.strip()[-300:]}")
    return lines + [f"  {command} {outcome}: {n}" for (command, outcome), n in
                    sorted(tally.items())]


class Tally:
    """Counts by format and outcome, the largest load, and the failures by signature
    (thread-safe: the runner reports from its worker threads)."""

    def __init__(self, out, keep):
        self.out, self.keep = out, keep
        self.counts = collections.Counter()
        self.signatures = collections.OrderedDict()         # signature -> [count, paths]
        self.largest = None
        self.lock = threading.Lock()

    def __call__(self, result):
        with self.lock:
            self.counts[result.job.seed.format, result.outcome] += 1
            if self.largest is None or result.peak_kib > self.largest.peak_kib:
                self.largest = result._replace(job=result.job._replace(
                    mutation=result.job.mutation._replace(data=b"")))
            if result.outcome not in runner.FAILURES:
                return
            entry = self.signatures.setdefault(signature(result), [0, [], result])
            entry[0] += 1
            if len(entry[1]) < self.keep:
                entry[1].append(save_failure(result, self.out, entry[0]))
            elif os.path.exists(result.path):
                os.unlink(result.path)


def report(tally, fuzz, formats, seconds, out):
    """The summary as text lines."""
    outcomes = list(runner.OK + runner.FAILURES)
    total = sum(tally.counts.values())
    lines = [f"{total} mutants in {seconds:.0f} s ({total / max(seconds, 1e-9):.0f}/s), "
             f"{fuzz.workers} workers, timeout {fuzz.timeout:g} s, address space limit "
             f"+{fuzz.margin >> 20} MiB over {fuzz.baseline_vm >> 20} MiB, "
             f"{fuzz.restarts} worker restarts", "",
             "format  " + " ".join(f"{o:>9}" if len(o) <= 9 else f"{o[:9]:>9}" for o in outcomes)
             + "    total"]
    for fmt in formats:
        row = [tally.counts[fmt, o] for o in outcomes]
        lines.append(f"{fmt:7} " + " ".join(f"{n:9d}" for n in row) + f" {sum(row):8d}")
    largest = tally.largest
    lines += ["", f"peak resident memory of a worker: {fuzz.peak_kib / 1024:.0f} MiB "
              f"(after loading the seeds: {fuzz.baseline_kib / 1024:.0f} MiB)"]
    if largest is not None:
        lines.append(f"  reached by [{largest.job.seed.format}] {largest.job.mutation.name}: "
                     f"{largest.job.mutation.description} -> {largest.outcome}")
    lines.append(f"ru_maxrss of the children: "
                 f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB "
                 "(counts the parent's size at fork too)")
    failures = sum(entry[0] for entry in tally.signatures.values())
    lines += ["", f"{failures} failures, {len(tally.signatures)} signatures" +
              (f" (inputs in {out})" if failures else "")]
    for (fmt, outcome, error, message), (count, paths, example) in tally.signatures.items():
        lines.append(f"  [{fmt}] {outcome} {error} x{count}: {message}")
        lines.append(f"      e.g. {example.job.mutation.name}: {example.job.mutation.description}")
        lines += [f"      {p}" for p in paths[:2]]
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--format", default="all",
                   help="gn, pth, idx, cifar, image, a comma-separated list, or all")
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "fuzz-failures"))
    p.add_argument("--seed", default="0")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant")
    p.add_argument("--limit-mib", type=int, default=runner.MARGIN >> 20,
                   help="address space a worker may add to what it holds after the seeds")
    p.add_argument("--batch", type=int, default=200, help="mutants per format and round")
    p.add_argument("--keep", type=int, default=20, help="inputs kept per failure signature")
    p.add_argument("--cli", type=int, default=0, metavar="N",
                   help="then run `glassnet eval` and `predict` on N hostile files each")
    p.add_argument("--json", action="store_true", help="end with one JSON line of counts")
    args = p.parse_args(argv)
    formats = list(corpus.FORMATS) if args.format == "all" else args.format.split(",")
    unknown = sorted(set(formats) - set(corpus.FORMATS))
    if unknown:
        p.error(f"unknown formats {unknown}; choose from {', '.join(corpus.FORMATS)} or all")
    with tempfile.TemporaryDirectory(prefix="glassnet-fuzz-") as work:
        seeds = corpus.build(os.path.join(work, "seeds"), formats)
        fuzz = runner.Runner(seeds, folder=os.path.join(work, "run"), workers=args.workers,
                             timeout=args.timeout, margin=args.limit_mib << 20)
        tally = Tally(args.out, args.keep)
        fuzz.run(_jobs(seeds, args.batch, args.seed), on_result=tally, seconds=60 * args.minutes)
        seconds = time.monotonic() - (fuzz.started or time.monotonic())
        lines = report(tally, fuzz, formats, seconds, args.out)
        if args.cli:
            lines += [""] + cli_checks(seeds, args.cli, args.seed, args.out)
    print("\n".join(lines))
    if args.json:
        print(json.dumps({"mutants": sum(tally.counts.values()), "seconds": round(seconds, 1),
                          "counts": {f: {o: tally.counts[f, o] for o in runner.OK + runner.FAILURES
                                         if tally.counts[f, o]} for f in formats},
                          "peak_mib": round(fuzz.peak_kib / 1024, 1),
                          "failures": sum(e[0] for e in tally.signatures.values())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
