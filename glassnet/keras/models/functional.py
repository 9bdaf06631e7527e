"""Model: a graph of layer calls from Input tensors to outputs (Keras's functional API),
and the glassnet Module that runs it.

`Model(inputs, outputs)` walks back from the outputs through the layer calls recorded on the
symbolic tensors and keeps them in an order where every call comes after its inputs. Running
the model runs that list: each value travels as (tensor, channels_first) and is transposed
only when a layer wants the other layout (see keras/backend.py).
"""
from ...nn.module import Module
from ..backend import as_tensor, in_layout, snake_case, unique_name
from ..layers.base import InputLayer, KerasTensor
from .training import Trainable


class _Core(Module):
    """What glassnet's training loop drives: forward runs the Keras model's graph; the
    layers' weights are its children, named as Keras names them (`dense.kernel`)."""

    def __init__(self, model):
        super().__init__()
        object.__setattr__(self, "_model", model)

    def forward(self, x):
        return self._model._execute(x, self.training)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _walk(outputs, inputs):
    """The symbolic tensors between inputs and outputs, each after its parents."""
    order, seen, known = [], set(), {id(t) for t in inputs}

    def visit(t):
        if id(t) in seen or id(t) in known:
            return
        if t._layer is None or isinstance(t._layer, InputLayer):
            raise ValueError(f"Model: output depends on {t.name}, which is not among the "
                             f"model's inputs ({', '.join(i.name for i in inputs)})")
        seen.add(id(t))
        for p in t._parents:
            visit(p)
        order.append(t)

    for t in outputs:
        visit(t)
    return order


class Model(Trainable):
    """`Model(inputs, outputs)`: the functional API. `model(x)` runs it on arrays or
    tensors; compile/fit/evaluate/predict train it (see training.py)."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **unknown):
        if unknown:
            raise TypeError(f"Model: unexpected keyword argument(s) {', '.join(sorted(unknown))}")
        self.name = name or unique_name(self._default_name())
        self._core = _Core(self)
        self._graph = None
        self.stop_training = False
        self._init_training()
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: give both inputs= and outputs=")
            self._set_graph(inputs, outputs)
        self._trainable = bool(trainable)
        if not trainable:
            self.trainable = False

    def _default_name(self):
        return "functional" if type(self) is Model else snake_case(type(self).__name__)

    # ------------------------------------------------------------------- graph
    def _set_graph(self, inputs, outputs):
        ins, outs = _as_list(inputs), _as_list(outputs)
        for t in ins + outs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be symbolic tensors (from "
                                f"Input(...) and layer calls), got {type(t).__name__}")
        for t in ins:
            if not isinstance(t._layer, InputLayer):
                raise ValueError(f"Model: input {t.name} is not an Input(...) tensor")
        order = _walk(outs, ins)
        layers = [t._layer for t in ins]
        for t in order:
            if t._layer not in layers:
                layers.append(t._layer)
        names = [l.name for l in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model: all layer names should be unique, but {duplicates} "
                             "appear more than once")
        self._graph = dict(inputs=ins, outputs=outs, order=order, layers=layers,
                           multi_input=isinstance(inputs, (list, tuple)),
                           multi_output=isinstance(outputs, (list, tuple)))
        self._core._modules.clear()
        for layer in layers:
            if layer._vars:
                self._core._modules[layer.name] = layer._params

    @property
    def built(self):
        return self._graph is not None

    def _require_graph(self, what):
        if self._graph is None:
            raise ValueError(f"{self.name}: {what} needs a built model: give the first layer "
                             "input_shape=..., add an Input(...), call build(input_shape), or "
                             "fit it on data first")
        return self._graph

    @property
    def inputs(self):
        return list(self._require_graph("inputs")["inputs"])

    @property
    def outputs(self):
        return list(self._require_graph("outputs")["outputs"])

    @property
    def input(self):
        g = self._require_graph("input")
        return g["inputs"] if g["multi_input"] else g["inputs"][0]

    @property
    def output(self):
        g = self._require_graph("output")
        return g["outputs"] if g["multi_output"] else g["outputs"][0]

    @property
    def input_shape(self):
        g = self._require_graph("input_shape")
        shapes = [t.shape for t in g["inputs"]]
        return shapes if g["multi_input"] else shapes[0]

    @property
    def output_shape(self):
        g = self._require_graph("output_shape")
        shapes = [t.shape for t in g["outputs"]]
        return shapes if g["multi_output"] else shapes[0]

    @property
    def layers(self):
        return list(self._require_graph("layers")["layers"]) if self._graph else []

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named {name!r} (layers: "
                         f"{', '.join(l.name for l in layers)})")

    # --------------------------------------------------------------- running it
    def _execute(self, x, training):
        g = self._graph
        xs = _as_list(x) if g["multi_input"] else [x]
        if len(xs) != len(g["inputs"]):
            raise ValueError(f"{self.name}: expected {len(g['inputs'])} inputs, got {len(xs)}")
        values = {}
        for t, value in zip(g["inputs"], xs):
            value = as_tensor(value)
            _check_input(self.name, t, value)
            values[id(t)] = (value, False)
        for t in g["order"]:
            parents = [values[id(p)] for p in t._parents]
            values[id(t)] = t._layer._run(parents if t._packed else parents[0], training)
        outs = [in_layout(values[id(t)], False) for t in g["outputs"]]
        return outs if g["multi_output"] else outs[0]

    def __call__(self, x, training=False):
        if isinstance(x, KerasTensor) or (isinstance(x, (list, tuple)) and x
                                          and isinstance(x[0], KerasTensor)):
            return self._symbolic_call(x)
        self._build_for(x)
        return self._execute(x, bool(training))

    def call(self, x, training=False):
        return self(x, training)

    def _build_for(self, x):
        self._require_graph("calling the model")

    def _symbolic_call(self, x):
        """A model used as a layer of a bigger model: its graph is replayed on x."""
        raise NotImplementedError(f"{self.name}: using a model as a layer of another model "
                                  "is not supported yet")

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return [v for layer in self.layers for v in layer.weights]

    @property
    def trainable_weights(self):
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        return [v for v in self.weights if not v.trainable]

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        weights, mine = list(weights), self.weights
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}: set_weights expected {len(mine)} arrays, got "
                             f"{len(weights)}")
        for v, w in zip(mine, weights):
            v.assign(w)

    def count_params(self):
        self._require_graph("count_params")
        return sum(layer.count_params() for layer in self.layers if layer.built)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from .summary import print_summary
        print_summary(self, line_length, print_fn, show_trainable)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _check_input(model, t, value):
    expected = t.shape
    got = tuple(value.shape)
    if len(got) != len(expected) or any(e is not None and e != g
                                        for e, g in zip(expected[1:], got[1:])):
        raise ValueError(f"{model}: input {t.name} expected shape "
                         f"{tuple(expected)}, got an array of shape {got}")
