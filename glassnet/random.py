"""One seeded source for every random draw in glassnet (init, dropout, shuffling, augmentation),
and `Generator`, PyTorch's `torch.Generator`: a source of one's own for `generator=` arguments."""
import os

import numpy as np

# torch.Generator() starts from this seed before any manual_seed, so a fresh generator gives
# the same draws every run; glassnet's starts from the same number.
_DEFAULT_SEED = 67280421310721
_STATE_BYTES = 8 + 16 + 16 + 1 + 4     # initial seed, PCG64 state and increment, buffered uint32


class Generator(np.random.Generator):
    """PyTorch's `torch.Generator()`, for `generator=` arguments (samplers, DataLoader,
    random_split, nn.init): `g = gn.Generator().manual_seed(0)`.

    It *is* a NumPy Generator (PCG64), so everything in glassnet that takes a NumPy
    generator takes it too, and `manual_seed(s)` gives the stream `np.random.default_rng(s)`
    gives. Its numbers are glassnet's, not torch's (a different algorithm): the same seed
    repeats the same draws run after run, but not torch's draws.
    """

    def __init__(self, device="cpu"):
        if not str(device).startswith("cpu"):
            raise ValueError(f"Generator: glassnet computes on the CPU, got device={device!r}")
        super().__init__(np.random.PCG64(_DEFAULT_SEED))
        self._initial_seed, self.device = _DEFAULT_SEED, device

    def manual_seed(self, seed):
        """Restart from `seed` (an int; a negative one counts as its unsigned 64-bit pattern,
        as in torch) and return this generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"Generator.manual_seed: seed must be an int, got "
                            f"{type(seed).__name__}")
        seed = int(seed) % 2 ** 64
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self):
        """Restart from a fresh non-deterministic seed, and return that seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed this generator last started from."""
        return self._initial_seed

    def get_state(self):
        """The full state as a uint8 Tensor (torch's ByteTensor), for `set_state`."""
        from .tensor import Tensor      # tensor.py imports the package that imports this one
        state = self.bit_generator.state
        raw = (self._initial_seed.to_bytes(8, "little")
               + state["state"]["state"].to_bytes(16, "little")
               + state["state"]["inc"].to_bytes(16, "little")
               + bytes([state["has_uint32"]]) + state["uinteger"].to_bytes(4, "little"))
        return Tensor._make(np.frombuffer(raw, np.uint8).copy(), False, None)

    def set_state(self, new_state):
        """Continue from a state returned by `get_state`; returns this generator."""
        array = np.asarray(getattr(new_state, "_array", new_state))
        if array.dtype != np.uint8 or array.shape != (_STATE_BYTES,):
            raise ValueError(f"Generator.set_state: expected the uint8 tensor of shape "
                             f"({_STATE_BYTES},) that get_state() returns, got dtype "
                             f"{array.dtype} and shape {array.shape}")
        raw = array.tobytes()
        self.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": _number(raw, 8, 24), "inc": _number(raw, 24, 40)},
            "has_uint32": raw[40], "uinteger": _number(raw, 41, 45)}
        self._initial_seed = _number(raw, 0, 8)
        return self

    def __reduce__(self):       # copies and pickles stay glassnet Generators
        return _rebuild, (self.get_state()._array.tobytes(), self.device)


def _number(raw, start, stop):
    return int.from_bytes(raw[start:stop], "little")


def _rebuild(raw, device):
    return Generator(device).set_state(np.frombuffer(raw, np.uint8))


_generator = np.random.default_rng()


def manual_seed(seed):
    """Make every following random draw in glassnet reproducible; returns the new global
    generator (a `Generator`, as torch.manual_seed returns torch's)."""
    global _generator
    _generator = Generator().manual_seed(int(seed))
    return _generator


def default_generator():
    return _generator


def resolve_generator(generator, who):
    """`generator` itself (a glassnet or NumPy Generator), or glassnet's global generator
    when it is None — looked up at the time of the draw, since manual_seed replaces it."""
    if generator is None:
        return _generator
    check_generator(generator, who)
    return generator


def check_generator(generator, who):
    """Refuse, naming `who`, anything that is neither None nor a generator."""
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{who}: generator must be a glassnet.Generator or a "
                        f"numpy.random.Generator, got {type(generator).__name__}")
    return generator


def peek_seed(generator):
    """A 63-bit seed decided by `generator`'s current state, drawn from a copy of it: the
    generator itself does not advance, so asking for a seed never changes later draws."""
    bit_generator = type(generator.bit_generator)()
    bit_generator.state = generator.bit_generator.state
    return int(np.random.Generator(bit_generator).integers(2 ** 63))


def get_rng_state():
    """The generator's full state, as plain data (a dict that a checkpoint can hold)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Continue every random draw from a state returned by `get_rng_state`."""
    global _generator
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    _generator = np.random.Generator(bit_generator)
