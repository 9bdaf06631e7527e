"""The fuzzer's fixed-seed sample: every reader, a few hundred mutants, no failures.

Each mutant of the seeds (`corpus.build`) is loaded in a worker process with an
address-space limit and a timeout (`runner`); it must come back as the seed's value,
a legitimately changed value, or the reader's own error naming the file. The command
line gets a few hostile checkpoints and images too: exit 0, or exit 2 with one line.
`benchmarks/fuzz.py` runs the same for minutes and keeps the failing inputs.
"""
import collections
import concurrent.futures
import os

from . import corpus, mutators, runner

PER_FORMAT = 120                # 600 mutants: seconds, once the readers are bounded
SAMPLE_SEED = 13


def _table(failures, folder):
    lines = [f"{len(failures)} failing mutants (inputs kept in {folder}):"]
    for r in failures:
        lines.append(f"  [{r.job.seed.format}] {os.path.basename(r.job.seed.path)} | "
                     f"{r.job.mutation.name}: {r.job.mutation.description} -> {r.outcome} "
                     f"{r.error or ''}: {r.message[:300]} | {os.path.basename(r.path)}")
    return "\n".join(lines)


def test_every_mutant_loads_or_is_refused_in_words(seeds, tmp_path):
    jobs = corpus.mutants(seeds, PER_FORMAT, seed=SAMPLE_SEED)
    fuzz = runner.Runner(seeds, folder=str(tmp_path), workers=2, timeout=10.0)
    results = fuzz.run(jobs)
    failures = [r for r in results if r.outcome in runner.FAILURES]
    assert not failures, _table(failures, tmp_path)
    # the sample reaches every format and every fine outcome, and the structure-aware
    # mutators of each kind of seed: otherwise it would prove little
    counts = collections.Counter(r.outcome for r in results)
    assert counts["same"] and counts["changed"] and counts["refused"] > len(results) // 3
    assert {s.format for s in seeds} == {r.job.seed.format for r in results}
    used = {r.job.mutation.name for r in results}
    for seed in seeds:
        with open(seed.path, "rb") as f:
            kind = mutators.sniff(f.read())
        assert used & set(mutators.structured(kind)), kind
    assert fuzz.baseline_kib > 0 and fuzz.peak_kib > 0


# ------------------------------------------------------------------ the command line
def test_the_command_answers_hostile_files_with_one_line(seeds, tmp_path):
    run, _ = corpus.train_run(str(tmp_path))
    digit = next(s for s in seeds if s.path.endswith("digit.png"))
    calls = corpus.cli_calls(str(tmp_path), run, digit, 3, seed=SAMPLE_SEED)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: runner.run_cli(c[1], cwd=str(tmp_path)), calls))
    bad = [(m, r) for (m, _), r in zip(calls, results) if r.outcome not in ("ok", "refused")]
    assert not bad, "\n".join(f"{r.argv[0]} | {m.name}: {m.description} -> {r.outcome} "
                              f"(exit {r.status}): {r.stderr[-800:]}" for m, r in bad)
    assert any(r.outcome == "refused" for r in results)
