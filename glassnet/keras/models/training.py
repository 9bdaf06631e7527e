"""compile / fit / evaluate / predict with Keras's signatures, over glassnet's training loop
(`glassnet.train.fit`): this module only translates. Per step the loop runs forward, the
loss, backward and the optimizer's step; per epoch it averages the loss and metrics over the
samples seen, validates, and calls the callbacks, which see Keras's epoch numbers (from 0)
and logs (loss, accuracy, val_loss, val_accuracy).
"""
import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ...train import loop
from .. import callbacks as C
from .. import losses as L
from .. import metrics as M
from .. import optimizers as O
from . import data as D


class Target:
    """A batch's targets with their per-sample weights (class_weight or sample_weight)."""
    __slots__ = ("y", "w")

    def __init__(self, y, w):
        self.y, self.w = y, w

    def __len__(self):
        return len(self.y)


def _split(y):
    return (y.y, y.w) if isinstance(y, Target) else (y, None)


class _BatchLoss:
    """loss(out, y) for glassnet's loop: Keras's per-sample loss, weighted, averaged over
    the batch, started from the logits when the output is a softmax/sigmoid layer's."""

    def __init__(self, model, loss):
        self.model, self.loss = model, loss

    def __call__(self, out, y):
        y, w = _split(y)
        values = self.loss.per_sample(y, out, logits=self.model._logits_of(out))
        if w is not None:
            values = values * Tensor(w.reshape(w.shape + (1,) * (values.ndim - 1)))
        return values.mean()


class _BatchMetric:
    def __init__(self, name, fn):
        self.__name__, self.fn = name, fn

    def __call__(self, out, y):
        return M.mean_value(self.fn, _split(y)[0], out)


class _Weighted:
    """Batches with their sample weights folded into the targets (and class_weight
    turned into per-sample weights)."""

    def __init__(self, batches, class_weight):
        self.batches, self.class_weight = batches, class_weight

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            x, y, w = batch if len(batch) == 3 else (*batch, None)
            if self.class_weight is not None:
                labels = y._array
                labels = labels.argmax(-1) if labels.ndim > 1 and labels.shape[-1] > 1 \
                    else labels.reshape(len(labels))
                cw = np.array([self.class_weight.get(int(c), 1.0) for c in labels], np.float32)
                w = cw if w is None else w * cw
            yield x, (y if w is None else Target(y, np.asarray(w, np.float32)))


class Trainable:
    """The training half of a Keras Model."""

    def _init_training(self):
        self.optimizer = self.loss = None
        self._compiled_metrics, self._metric_fns = [], None
        self.history = None

    # --------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        if isinstance(loss, (list, dict)) or loss_weights is not None:
            raise NotImplementedError("compile: several losses (one per output) are not "
                                      "supported yet")
        self.optimizer = O.get(optimizer)
        self.loss = None if loss is None else L.get(loss)
        metrics = list(metrics or []) + list(weighted_metrics or [])
        for m in metrics:
            M.resolve(m, (1, 2), (1, 2))           # unknown names fail here, not in fit
        self._compiled_metrics, self._metric_fns = metrics, None
        self._bound = False

    def _require_compiled(self, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{self.name}: call compile(optimizer=..., loss=...) before "
                               f"{what}")

    def _metrics_for(self, y, out_shape):
        """The compiled metrics as glassnet-loop functions, resolved once the shapes of
        targets and outputs are known ('accuracy' depends on them)."""
        if self._metric_fns is None:
            y = _split(y)[0]
            self._metric_fns = [_BatchMetric(*M.resolve(m, tuple(y.shape), tuple(out_shape)))
                                for m in self._compiled_metrics]
        return self._metric_fns

    def _output_shape_for(self, x):
        """The output's shape for a batch like x, from the graph (no forward pass)."""
        n = len(x[0]) if isinstance(x, list) else len(x)
        shape = self._graph["outputs"][0].shape
        return (n,) + tuple(shape[1:])

    def _logits_of(self, out):
        """The logits behind `out` when the model's output layer is a softmax/sigmoid."""
        for t in self._graph["outputs"][:1]:
            last = getattr(t._layer, "_last_logits", None)
            if last is not None and last[0] is out:
                return last[1]
        return None

    def _bind_optimizer(self):
        # the weights trainable at the first step after compile (as in Keras, changing
        # `trainable` later takes a new compile)
        if not getattr(self, "_bound", False):
            self.optimizer.bind(p for p in self._core.parameters() if p.requires_grad)
            self._bound = True

    # ------------------------------------------------------------------- fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit")
        train = D.adapt(x, y, batch_size, shuffle, steps_per_epoch, sample_weight)
        val = None
        if validation_split:
            if not isinstance(train, D.ArrayBatches):
                raise ValueError("fit: validation_split works on arrays only; give "
                                 "validation_data for generators")
            train, val = train.split(float(validation_split))
        if validation_data is not None:
            val = self._validation_batches(validation_data, validation_batch_size or batch_size,
                                           validation_steps)
        first = train.peek()
        self._build_for(first[0])
        self._bind_optimizer()
        metric_fns = self._metrics_for(first[1], self._output_shape_for(first[0]))
        verbose = 1 if verbose == "auto" else int(verbose)
        history = C.History()
        bridge = C.bridge(list(callbacks or []) + [history], self, epochs=epochs,
                          steps=len(train), verbose=verbose)
        self.stop_training = False
        loop.fit(self._core, _Weighted(train, class_weight), _BatchLoss(self, self.loss),
                 self.optimizer, epochs, val_data=val, metrics=metric_fns, callbacks=[bridge],
                 quiet=verbose == 0, initial_epoch=initial_epoch,
                 progress=C.progress_bar(verbose))
        self.history = history
        return history

    def _validation_batches(self, data, batch_size, steps):
        if isinstance(data, tuple) and len(data) in (2, 3) and D.is_array_like(data[0]):
            return D.ArrayBatches(data[0], data[1], batch_size or 32, False,
                                  data[2] if len(data) == 3 else None, "fit (validation)")
        return D.adapt(data, steps=steps, what="fit (validation)")

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1,
                      callbacks=None, validation_data=None, validation_steps=None,
                      class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's name for fit over a generator (ImageDataGenerator.flow(...))."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, class_weight=class_weight,
                        shuffle=shuffle, initial_epoch=initial_epoch)

    # ------------------------------------------------------- evaluate, predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        self._require_compiled("evaluate")
        batches = D.adapt(x, y, batch_size, False, steps, sample_weight, "evaluate")
        first = batches.peek()
        self._build_for(first[0])
        metric_fns = self._metrics_for(first[1], self._output_shape_for(first[0]))
        logs = loop.evaluate(self._core, _Weighted(batches, None), _BatchLoss(self, self.loss),
                             metric_fns)
        if verbose != 0:
            print(f"{len(batches)}/{len(batches)} - " + C.format_logs(logs))
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[f.__name__] for f in metric_fns]
        return values[0] if len(values) == 1 else values

    def evaluate_generator(self, generator, steps=None, **kwargs):
        return self.evaluate(generator, steps=steps, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        batches = D.adapt(x, None, batch_size, False, steps, what="predict")
        outputs = []
        was_training = self._core.training
        self._core.eval()
        try:
            with no_grad():
                for batch in batches:
                    inputs = batch[0] if isinstance(batch, tuple) else batch
                    self._build_for(inputs)
                    outputs.append(self._core(inputs))
        finally:
            self._core.train(was_training)
        if not outputs:
            raise ValueError("predict: the data gave no batches")
        if isinstance(outputs[0], list):
            return [np.concatenate([o[i]._array for o in outputs]) for i in
                    range(len(outputs[0]))]
        return np.concatenate([o._array for o in outputs])

    def predict_generator(self, generator, steps=None, **kwargs):
        return self.predict(generator, steps=steps, **kwargs)

    # ----------------------------------------------------------- single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._require_compiled("train_on_batch")
        x = D.inputs_tensor(x)
        self._build_for(x)
        self._bind_optimizer()
        (x, target), = _Weighted([(x, D.targets_tensor(y)) + (() if sample_weight is None else
                                  (np.asarray(sample_weight, np.float32),))], class_weight)
        self._core.train()
        self.optimizer.zero_grad()
        out = self._core(x)
        value = _BatchLoss(self, self.loss)(out, target)
        value.backward()
        self.optimizer.step()
        return self._batch_logs(value, out.detach(), target, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x = D.inputs_tensor(x)
        self._build_for(x)
        (x, target), = _Weighted([(x, D.targets_tensor(y)) + (() if sample_weight is None else
                                  (np.asarray(sample_weight, np.float32),))], None)
        self._core.eval()
        with no_grad():
            out = self._core(x)
            value = _BatchLoss(self, self.loss)(out, target)
        self._core.train()
        return self._batch_logs(value, out, target, return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(x[0]) if isinstance(x, list) else len(x))

    def _batch_logs(self, value, out, target, return_dict):
        logs = {"loss": value.item()}
        for fn in self._metrics_for(target, out.shape):
            logs[fn.__name__] = fn(out, target)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ files
    def save(self, filepath, overwrite=True, **kwargs):
        from ..saving import save_model
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from ..saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        from ..saving import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
