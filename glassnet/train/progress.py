"""A progress line per epoch: redrawn in place on a terminal, plain lines otherwise."""
import sys
import time


class Progress:
    def __init__(self, total, epoch, epochs, stream=None, quiet=False):
        self.total, self.epoch, self.epochs = total, epoch, epochs
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.seen = 0
        self._last_draw = 0.0

    def update(self, step, samples, logs):
        self.seen += samples
        if not self.live:
            return
        now = time.perf_counter()
        if now - self._last_draw < 0.1 and step < self.total:
            return
        self._last_draw = now
        width = 24
        done = int(width * step / max(self.total, 1))
        bar = "=" * done + (">" if done < width else "") + "." * (width - done - 1)
        self.stream.write(f"\repoch {self.epoch}/{self.epochs} [{bar}] {step}/{self.total} "
                          f"{_format(logs)} {self.rate():.0f} img/s")
        self.stream.flush()

    def rate(self):
        return self.seen / max(time.perf_counter() - self.start, 1e-9)

    def close(self, logs):
        if self.quiet:
            return
        seconds = time.perf_counter() - self.start
        end = "\r" if self.live else ""
        self.stream.write(f"{end}epoch {self.epoch}/{self.epochs}: {_format(logs)} "
                          f"({seconds:.1f} s, {self.rate():.0f} img/s)\n")
        self.stream.flush()


def _format(logs):
    return " ".join(f"{k} {v:.4f}" for k, v in logs.items() if isinstance(v, float))
