"""`model.summary()`: Keras 3's table, drawn the same way (boxed, cells word-wrapped), with
the parameter totals and their size as float32 bytes.

A chain of layers (every Sequential, and functional models without branches) gets three
columns: Layer (type), Output Shape, Param #. A model with branches adds Connected to,
naming each call's inputs as `layer[0][0]`.
"""
import math
import textwrap

from ..layers.base import InputLayer, _shape_text

_WIDTHS = {3: (33, 24, 15), 4: (21, 19, 12, 19)}


def _bytes(n):
    size = 4.0 * n
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _is_chain(model):
    g = model._graph
    previous = g["inputs"][0] if len(g["inputs"]) == 1 else None
    for t in g["order"]:
        if previous is None or len(t._parents) != 1 or t._parents[0] is not previous:
            return False
        previous = t
    return len(g["outputs"]) == 1 and previous is g["outputs"][0]


def _rows(model, chain):
    g = model._graph
    calls = [(t._layer, t) for t in g["inputs"]] + [(t._layer, t) for t in g["order"]]
    rows = []
    for layer, t in calls:
        if chain and isinstance(layer, InputLayer) and type(model).__name__ == "Sequential":
            continue
        params = sum(math.prod(v.shape) for v in layer.weights)
        row = [f"{layer.name} ({type(layer).__name__})", _shape_text(t.shape), f"{params:,}"]
        if not chain:
            row.append(", ".join(f"{p._layer.name}[0][0]" for p in t._parents) or "-")
        rows.append(row)
    return rows


def _cell_lines(text, width):
    return textwrap.wrap(text, width - 2, break_on_hyphens=False) or [""]


def _line(left, fill, joint, right, widths):
    return left + joint.join(fill * w for w in widths) + right


def table(model):
    chain = _is_chain(model)
    widths = _WIDTHS[3 if chain else 4]
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    right_aligned = {2}
    out = [f'Model: "{model.name}"', _line("┏", "━", "┳", "┓", widths)]
    out.append("┃" + "┃".join(
        f" {h:>{w - 2}} " if i in right_aligned else f" {h:<{w - 2}} "
        for i, (h, w) in enumerate(zip(header, widths))) + "┃")
    out.append(_line("┡", "━", "╇", "┩", widths))
    rows = _rows(model, chain)
    for r, row in enumerate(rows):
        cells = [_cell_lines(text, w) for text, w in zip(row, widths)]
        for k in range(max(len(c) for c in cells)):
            parts = []
            for i, (c, w) in enumerate(zip(cells, widths)):
                text = c[k] if k < len(c) else ""
                parts.append(f" {text:>{w - 2}} " if i in right_aligned else
                             f" {text:<{w - 2}} ")
            out.append("│" + "│".join(parts) + "│")
        out.append(_line("├", "─", "┼", "┤", widths) if r < len(rows) - 1 else
                   _line("└", "─", "┴", "┘", widths))
    total = sum(math.prod(v.shape) for v in model.weights)
    trainable = sum(math.prod(v.shape) for v in model.trainable_weights)
    for label, n in (("Total", total), ("Trainable", trainable),
                     ("Non-trainable", total - trainable)):
        out.append(f" {label} params: {n:,} ({_bytes(n)})")
    return "\n".join(out)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    if model._graph is None:
        text = (f'Model: "{model.name}"\nThis model has not yet been built. Build the model '
                "first by calling `build()` or by calling the model on a batch of data.")
    else:
        text = table(model)
    (print_fn or print)(text)
