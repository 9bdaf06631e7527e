"""Sequential: a stack of layers, each feeding the next.

It is a functional Model whose graph is rebuilt from the stack whenever the input shape is
known: from the first layer's `input_shape=`, an `Input(...)` added first, `build(shape)`,
or the first batch `fit`/`predict` sees. Until then it is unbuilt (no weights yet), as in
Keras.
"""
from ..layers.base import InputLayer, KerasTensor, Layer
from .functional import Model


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._stack, self._input_layer = [], None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor) and isinstance(layer._layer, InputLayer):
            layer = layer._layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"{self.name}: an Input can only be the first thing added")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}: add() expects a layer, got {type(layer).__name__}"
                            + (" (call the class: Dense(10), not Dense)"
                               if isinstance(layer, type) else ""))
        if any(l.name == layer.name for l in self._stack):
            raise ValueError(f"{self.name}: all layers added to a Sequential model should have "
                             f"unique names; {layer.name!r} is already in the model")
        self._stack.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self):
        if not self._stack:
            raise TypeError(f"{self.name}: there are no layers to pop")
        layer = self._stack.pop()
        self._graph = None
        self._rebuild()
        return layer

    def _batch_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        return None

    def _rebuild(self, batch_shape=None):
        batch_shape = batch_shape or self._batch_input_shape()
        if batch_shape is None or not self._stack:
            return
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=batch_shape)
        elif tuple(self._input_layer.batch_shape) != tuple(batch_shape):
            self._input_layer = InputLayer(batch_shape=batch_shape)
        x = self._input_layer.output
        for layer in self._stack:
            x = layer(x)
        self._set_graph(self._input_layer.output, x)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._batch_input_shape()
        if input_shape is None:
            raise ValueError(f"{self.name}: build() needs the input shape, e.g. "
                             "build((None, 28, 28))")
        self._rebuild(tuple(input_shape))

    def _build_for(self, x):
        if self._graph is None:
            shape = tuple(x[0].shape if isinstance(x, list) else x.shape)
            self._rebuild((None,) + shape[1:])
            self._require_graph("running the model")

    @property
    def layers(self):
        return list(self._stack)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "layers": [layer for layer in self._stack]}
