"""A pickle's shape, checked from its opcodes before anything is built.

A restricted unpickler (`find_class` refusing globals) stops a pickle from running code,
but not from being costly or crashing the process by its shape alone:

- A tuple nested a million deep takes one byte a level (TUPLE1), and hashing it (as a
  dict key or set member, which the unpickler does itself) recurses in C without a
  limit: a 1 MB pickle ends the process with a segmentation fault, not an exception.
- Memo references (BINGET, two bytes) put one object into a list again and again: eight
  bytes of pointer for every two bytes of file, and a tree of shared lists that is
  exponential to walk.

- A PUT naming memo entry 2**32 makes CPython's unpickler allocate and zero a 64 GiB
  memo table; a counted string (BINBYTES8, ...) is allocated at its declared size before
  a byte of it is read.

`scan` walks the opcodes with `pickletools.genops`, which builds nothing and reads each
argument only as far as the bytes go (so every declared length is known to be present
once it has passed), keeping for every value on the pickle machine's stack how deeply it
nests, and refuses a pickle that nests deeper than `max_depth`, has more than `max_ops`
opcodes or numbers a memo entry past `max_ops`. The depth is an upper bound: a
container built from values counts one more than the deepest of them.
"""
import pickletools

_MARK = object()                  # a MARK on the simulated stack
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}
# opcodes that add to the container below their operands and leave it on the stack
_IN_PLACE = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"}
# opcodes that push one new value made from their argument alone (an int, a string, ...)
_LEAVES = frozenset(op for op in pickletools.opcodes
                    if not op.stack_before and len(op.stack_after) == 1
                    and op.stack_after[0] is not pickletools.markobject
                    and op.name not in _MEMO_GET)


class PickleRefused(ValueError):
    """What is wrong with a pickle's shape; the reader adds the file's name."""


def _pop(stack, before):
    """Pop the operands `before` describes (pickletools' stack_before), in stack order."""
    taken = []
    if before and before[-1] is pickletools.stackslice:     # ... MARK, items: up to the mark
        while stack[-1] is not _MARK:
            taken.append(stack.pop())
        stack.pop()
        taken.reverse()
        before = before[:-2]
    fixed = [stack.pop() for _ in before][::-1]
    if _MARK in fixed:
        raise PickleRefused("truncated or corrupt (a MARK where a value belongs)")
    return fixed + taken


def scan(data, max_depth, max_ops):
    """Check that the pickle in `data` (bytes) nests at most `max_depth` deep, has at most
    `max_ops` opcodes and memo indices; PickleRefused says what is wrong (its message
    starts with 'truncated' when the data ends too soon). Returns the depth found."""
    stack, memo, deepest, count = [], {}, 0, 0
    try:
        for op, arg, _ in pickletools.genops(data):
            count += 1
            if count > max_ops:
                raise PickleRefused(f"more than {max_ops:,} pickle opcodes")
            if op in _LEAVES:                   # most of a pickle: numbers, strings
                stack.append(1)
                continue
            name = op.name
            if name in _MEMO_PUT:
                if name != "MEMOIZE" and arg > max_ops:
                    # CPython's unpickler grows (and zeroes) its memo table to twice the
                    # index a PUT names; a pickler numbers its entries 0, 1, 2, ...
                    raise PickleRefused(f"it stores memo entry {arg:,}, past the {max_ops:,} "
                                        f"a pickle of at most that many opcodes can number")
                memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
            elif name in _MEMO_GET:
                stack.append(memo[arg])
            elif name == "MARK":
                stack.append(_MARK)
            elif name == "DUP":
                stack.append(stack[-1])
            else:
                operands = _pop(stack, op.stack_before)
                if not op.stack_after:
                    continue
                if name in _IN_PLACE:
                    depth = max([operands[0]] + [d + 1 for d in operands[1:]])
                else:
                    depth = 1 + max(operands, default=0)
                if depth > max_depth:
                    raise PickleRefused(f"its data nests deeper than {max_depth} levels")
                deepest = max(deepest, depth)
                stack.append(depth)
    except (IndexError, KeyError) as e:
        raise PickleRefused(f"truncated or corrupt (its opcodes do not fit together: "
                            f"{type(e).__name__} at a stack or memo lookup)") from e
    except ValueError as e:       # genops: an unknown opcode, or the data ends before STOP
        if isinstance(e, PickleRefused):
            raise
        raise PickleRefused(f"truncated or corrupt ({e})") from e
    return deepest
