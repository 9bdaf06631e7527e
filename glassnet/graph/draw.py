"""Pictures of a graph: `to_dot` writes Graphviz's DOT text, `draw` renders it with `dot`.

Placeholders are blue input boxes, variables orange cylinders, constants grey notes, op
nodes white rounded boxes, assignments and optimizer updates red, groups small
diamonds; the gradient nodes sit together in one pink cluster. Each node shows its name,
its type and its output shapes (? for a dim known only at run time).
"""
import os

from .core import format_shape

_STYLE = {
    "placeholder": 'shape=invhouse, style=filled, fillcolor="#cfe2ff"',
    "variable": 'shape=cylinder, style=filled, fillcolor="#ffd8a8"',
    "constant": 'shape=note, style=filled, fillcolor="#e9ecef"',
    "op": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    "gradient": 'shape=box, style="rounded,filled", fillcolor="#ffc9de"',
    "assign": 'shape=box, style="filled", fillcolor="#ff8787"',
    "update": 'shape=box, style="filled", fillcolor="#ff8787"',
    "group": 'shape=diamond, style=filled, fillcolor="#dee2e6", fontsize=9',
}


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _needed(graph, fetches):
    """The nodes `fetches` need (everything when fetches is None)."""
    if fetches is None:
        return list(graph.nodes)
    from .executor import _flatten
    leaves = []
    _flatten(fetches, leaves)
    roots = [x if not hasattr(x, "node") else x.node for x in leaves]
    seen, stack = set(), list(roots)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(t.node for t in n.inputs)
        stack.extend(n.control_inputs)
        if n.kind == "gradient":
            stack.append(n.attrs["forward"])
    return [n for n in graph.nodes if n in seen]


def _label(node):
    shapes = ", ".join(format_shape(t.shape, "?") for t in node.outputs)
    lines = [node.name]
    if node.kind in ("op", "gradient", "update"):
        lines.append(node.type)
    elif node.kind != "group":
        lines.append(node.kind + (f" {node.outputs[0].dtype.name}" if node.outputs else ""))
    if shapes and node.kind != "group":
        lines.append(shapes)
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def to_dot(graph, fetches=None):
    """DOT text of the graph, or of the part `fetches` need."""
    nodes = _needed(graph, fetches)
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph glassnet {", "  rankdir=TB;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8, color="#495057"];']
    grads = [n for n in nodes if n.kind == "gradient" or n.name.startswith("gradients/")]
    for n in nodes:
        if n in grads:
            continue
        lines.append(f'  {ids[n]} [label="{_label(n)}", {_STYLE[n.kind]}];')
    if grads:
        lines += ["  subgraph cluster_gradients {", '    label="gradients"; style="rounded,filled";',
                  '    fillcolor="#fff0f6"; color="#e64980";']
        for n in grads:
            style = _STYLE["gradient"] if n.kind in ("gradient", "op") else _STYLE[n.kind]
            lines.append(f'    {ids[n]} [label="{_label(n)}", {style}];')
        lines.append("  }")
    for n in nodes:
        for t in n.inputs:
            if t.node in ids:
                shape = format_shape(t.shape, "?")
                lines.append(f"  {ids[t.node]} -> {ids[n]} [label={_quote(shape)}];")
        for c in n.control_inputs:
            if c in ids:
                lines.append(f"  {ids[c]} -> {ids[n]} [style=dashed, arrowhead=odot];")
        if n.kind == "gradient" and n.attrs["forward"] in ids:
            lines.append(f'  {ids[n.attrs["forward"]]} -> {ids[n]} [style=dotted, '
                         'color="#e64980", constraint=false];')
        if n.kind in ("assign", "update") and n.attrs["variable"].node in ids:
            lines.append(f'  {ids[n]} -> {ids[n.attrs["variable"].node]} [style=bold, '
                         'color="#e03131", constraint=false];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(graph, path, fetches=None):
    """Render to `path`; the suffix (.svg, .png, .pdf) picks the format. Needs the
    `graphviz` Python package and Graphviz's `dot` program."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw: needs the graphviz Python package and Graphviz's `dot` "
                          "program: pip install graphviz (or pip install 'glassnet[graph]'), "
                          "and apt-get install graphviz / brew install graphviz") from None
    fmt = os.path.splitext(str(path))[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"draw: cannot tell the format from {path!r}; end the name with "
                         ".svg, .png or .pdf")
    try:
        data = graphviz.Source(to_dot(graph, fetches)).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("draw: Graphviz's `dot` program was not found on PATH; install "
                           "Graphviz (apt-get install graphviz / brew install graphviz)") from None
    with open(path, "wb") as f:
        f.write(data)
    return str(path)
