"""Loading mutants in child processes, and what became of each.

Each worker is a child process (`worker.py`) that imports glassnet, loads every seed
once (its value is what "same" means), then limits its own address space to what it
uses at that point plus a margin (1 GiB by default) and answers requests, one JSON line
each way. A worker gets through many mutants; the parent restarts it after a crash or a
hang, and a mutant that gets no answer within the timeout is a hang.

Outcomes. Fine: `same` (the seed's value came back), `changed` (a value came back that
differs, and keeps the reader's promises: the mutation legitimately changed it),
`refused` (the reader's own error, naming the file). Failures:

- `foreign-exception`: any other exception type escaped the reader;
- `unnamed-refusal`: the reader's error, but its message does not name the file;
- `over-memory`: MemoryError, also when the reader turned it into its own error (it
  tried to allocate past the limit: a declared size drove an allocation);
- `wrong-value`: a value came back that breaks the reader's promise (a Tensor of
  strings or of big-endian floats, an image that is not uint8 (H, W[, 3]), ...);
- `code-ran`: loading ran code the file named (the pickle mutations leave a marker);
- `crash`: the worker died (a signal, or an exit without an answer);
- `hang`: no answer within the timeout.

`run_cli` runs a `glassnet` command the same way (limits, timeout) and checks the
command's contract: exit 0, or exit 2 with one line on stderr and no traceback.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import namedtuple

OK = ("same", "changed", "refused")
FAILURES = ("foreign-exception", "unnamed-refusal", "over-memory", "wrong-value", "code-ran",
            "crash", "hang")
MARGIN = 1 << 30
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")

Result = namedtuple("Result", "job outcome error message seconds peak_kib grew_kib path")
CliResult = namedtuple("CliResult", "argv outcome status stderr")


def child_env():
    """The environment of every child: this tree's glassnet, one BLAS thread."""
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}


class _Worker:
    """One child process and the line protocol with it."""

    def __init__(self, slot, seeds_file, margin, folder, start_timeout):
        self.slot = slot
        os.makedirs(folder, exist_ok=True)
        self.log = open(os.path.join(folder, "stderr.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, seeds_file, str(margin)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=folder,
            env=child_env())
        self.buffer = b""
        ready = self.answer(start_timeout)
        if not isinstance(ready, dict) or not ready.get("ready"):
            how = self.death() if ready == "crash" else f"no answer in {start_timeout:g} s"
            self.stop()
            raise RuntimeError(f"fuzz worker did not start ({how}); see {self.log.name}")
        self.baseline, self.rss_kib = ready["baseline"], ready["rss_kib"]

    def answer(self, timeout):
        """The next JSON line, "hang" after `timeout` seconds, "crash" at end of output."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return "hang"
            chunk = os.read(fd, 65536)
            if not chunk:
                return "crash"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, request, timeout):
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "crash"
        return self.answer(timeout)

    def death(self):
        """How the child ended: 'signal SIGSEGV', 'exit status 3', plus its last words."""
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.stop()
            status = self.proc.returncode
        how = f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
        self.log.flush()
        with open(self.log.name, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log.name) - 600))
            tail = f.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        return how + (": " + " | ".join(tail) if tail else "")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            stream.close()
        self.log.close()


class Runner:
    """Loads jobs (corpus.Job) in `workers` child processes; see the module docstring.

    folder: where mutants are written (a failing one is kept there, the others are
    deleted once loaded) and the workers' folders and logs live. timeout: seconds per
    mutant. margin: bytes of address space a worker may add to what it had after
    loading the seeds."""

    def __init__(self, seeds, folder=None, workers=2, timeout=10.0, margin=MARGIN,
                 start_timeout=120.0):
        self.folder = folder or tempfile.mkdtemp(prefix="glassnet-fuzz-")
        os.makedirs(self.folder, exist_ok=True)
        self.seeds_file = os.path.join(self.folder, "seeds.json")
        with open(self.seeds_file, "w") as f:
            json.dump(sorted({(s.reader, s.path) for s in seeds}), f)
        self.workers, self.timeout, self.margin = workers, timeout, margin
        self.start_timeout = start_timeout
        self.peak_kib = self.baseline_kib = self.baseline_vm = 0
        self.restarts, self.started = 0, None
        self._lock = threading.Lock()

    def _start(self, slot):
        folder = os.path.join(self.folder, f"worker{slot}")
        w = _Worker(slot, self.seeds_file, self.margin, folder, self.start_timeout)
        with self._lock:
            self.baseline_vm = max(self.baseline_vm, w.baseline)
            self.baseline_kib = max(self.baseline_kib, w.rss_kib)
        return w

    def run(self, jobs, on_result=None, seconds=None):
        """Load the jobs of the iterable `jobs` (if `seconds` is given, only those started
        within that many seconds of the first worker being ready: starting a worker is
        no fuzzing). Returns their results in job order, or, given on_result, passes each
        to on_result(result) as it ends and keeps none (a long run would otherwise hold
        every mutant). `self.started` is when the first worker was ready."""
        jobs, lock = iter(jobs), threading.Lock()
        results, errors = {}, []
        self.started = None

        def next_job():
            with lock:
                if seconds is not None and self.started is not None and \
                        time.monotonic() - self.started >= seconds:
                    return None
                return next(jobs, None)

        def serve(slot):
            w = None
            try:
                while (job := next_job()) is not None:
                    if w is None:
                        w = self._start(slot)
                        with lock:
                            self.started = self.started or time.monotonic()
                    result, w = self._one(w, job)
                    with self._lock:
                        self.peak_kib = max(self.peak_kib, result.peak_kib)
                        if on_result is None:
                            results[job.id] = result
                    if on_result is not None:
                        on_result(result)
            except BaseException as e:                    # noqa: B036  reported below
                errors.append(e)
            finally:
                if w:
                    w.stop()

        threads = [threading.Thread(target=serve, args=(i,)) for i in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return [results[k] for k in sorted(results)]

    def _one(self, w, job):
        """(Result, the worker to use next: a new one if this one died or hung)."""
        name = os.path.basename(job.seed.path)
        path = os.path.join(self.folder, f"m{job.id:06d}-{name}")
        with open(path, "wb") as f:
            f.write(job.mutation.data)
        start = time.perf_counter()
        answer = w.ask({"id": job.id, "reader": job.seed.reader, "seed": job.seed.path,
                        "path": path}, self.timeout)
        if isinstance(answer, dict):
            result = Result(job, answer["outcome"], answer["error"], answer["message"],
                            answer["seconds"], answer["peak_kib"], answer["grew_kib"], path)
        else:
            if answer == "hang":
                w.stop()
                message = f"no answer within {self.timeout:g} s"
            else:
                message = w.death()
                w.stop()
            result = Result(job, answer, None, message, time.perf_counter() - start, 0, 0, path)
            with self._lock:
                self.restarts += 1
            w = self._start(w.slot)
        if result.outcome in OK:
            os.unlink(path)
        return result, w


# ================================================================= the command line
def run_cli(args, cwd, timeout=120.0, margin=MARGIN + (512 << 20), module="glassnet"):
    """Run `python -m glassnet ARGS` and check the command's contract for a hostile file:
    exit 0 ('ok'), or exit 2 with exactly one line on stderr and no traceback
    ('refused'). Anything else is a failure: 'traceback', 'multi-line', 'internal-error'
    (exit 3: the command took the file's fault for a bug of its own), 'exit-N', 'crash'
    (a signal), 'hang'.

    The child's address space is limited to what it has at start plus `margin`: a
    worker's margin and 512 MiB for what the command imports and builds (a model, the
    test data) beyond what a worker holds."""
    code = ("import resource, runpy, sys\n"
            "size = next(int(line.split()[1]) * 1024 for line in open('/proc/self/status')\n"
            "            if line.startswith('VmSize:'))\n"
            f"resource.setrlimit(resource.RLIMIT_AS, (size + {margin}, "
            "resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
            f"sys.argv = [{module!r}] + sys.argv[1:]\n"
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n")
    env = {k: v for k, v in child_env().items() if k not in ("GLASSNET_DEBUG",
                                                              "PYTHONFAULTHANDLER")}
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        return CliResult(args, "hang", None, "")
    lines = proc.stderr.strip().splitlines()
    if proc.returncode < 0:
        outcome = "crash"
    elif "Traceback (most recent call last)" in proc.stderr:
        outcome = "traceback"
    elif proc.returncode == 0:
        outcome = "ok"
    elif proc.returncode != 2:
        outcome = "internal-error" if proc.returncode == 3 else f"exit-{proc.returncode}"
    else:
        outcome = "refused" if len(lines) == 1 else "multi-line"
    return CliResult(args, outcome, proc.returncode, proc.stderr)

