"""What a run does after training: its test scores, outputs and their pictures' inputs.

`Evaluation` is the part of `glassnet.runs.Run` that reads the trained model: the test
split's loss and metrics (`test`), and for classifiers the accuracy of each class, the
confusion matrix by class name (`confusion.csv`), test-time augmentation, and the test
images that `glassnet.plots` draws. It expects the Run's attributes: model, config, task,
entry, classes, loss, metrics, test_loader, test_set, epoch, params, out.
"""
import csv
import os

import numpy as np

from .autograd.grad_mode import no_grad
from .tensor import Tensor, as_array
from .train import evaluate


class Evaluation:
    def test(self):
        """Loss and metrics on the test split, as the result dict the command prints; for a
        classifier also the accuracy of each class (with --tta, of the flip-averaged
        outputs), its outputs kept in `test_outputs` for the confusion matrix and plots."""
        if self.task == "classification":
            scores = self._classification_scores()
        else:
            scores = evaluate(self.model, self.test_loader, self.loss, self.metrics)
        accuracy = scores.get("accuracy", scores.get("binary_accuracy"))
        result = {"model": self.config["model"], "dataset": self.config["dataset"],
                  "epochs": self.epoch, "test_loss": scores["loss"], "test_accuracy": accuracy,
                  "params": self.params, "run_dir": self.out}
        if "per_class_accuracy" in scores:
            result["per_class_accuracy"] = scores["per_class_accuracy"]
        if self.task in ("regression", "autoencoder"):
            result["test_mse"] = scores["loss"]
        if "mae" in scores:
            result["test_mae"] = scores["mae"]
        return result

    @no_grad()
    def _classification_scores(self):
        outputs, targets = self.outputs(self.test_loader, tta=self.config["tta"])
        self.test_outputs = outputs, targets
        predicted = outputs.argmax(1)
        names = self.class_names(outputs.shape[1])
        per_class = {}
        for i, name in enumerate(names):
            of_class = targets == i
            if of_class.any():
                per_class[name] = float((predicted[of_class] == i).mean())
        loss = self.loss(Tensor._make(outputs, False, None), Tensor._make(targets, False, None))
        return {"loss": loss.item(), "accuracy": float((predicted == targets).mean()),
                "per_class_accuracy": per_class}

    def test_images(self, indices):
        """Test images at `indices` as (N, C, H, W) floats in [0, 1] for pictures (the
        test transform's normalisation undone), or None for data that are not images."""
        if len(self.entry.input_size) != 3:
            return None
        images = np.stack([np.asarray(as_array(self.test_set[int(i)][0])) for i in indices])
        if self.config.get("normalize") and self.task != "autoencoder":
            mean, std = (np.asarray(v, np.float32).reshape(1, -1, 1, 1)
                         for v in self.config["normalize"])
            images = images * std + mean
        return images

    def class_names(self, n):
        return list(self.classes) if len(self.classes) == n else [str(i) for i in range(n)]

    def _write_confusion(self):
        """confusion.csv: true classes in rows, predicted in columns, by name."""
        if getattr(self, "test_outputs", None) is None:
            return
        from .metrics import confusion_matrix
        outputs, targets = self.test_outputs
        names = self.class_names(outputs.shape[1])
        matrix = confusion_matrix(targets, outputs.argmax(1), len(names))
        path = os.path.join(self.out, "confusion.csv")
        with open(path + ".tmp", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["true \\ predicted"] + names)
            for name, row in zip(names, matrix):
                writer.writerow([name] + [int(v) for v in row])
        os.replace(path + ".tmp", path)

    def _tta_outputs(self, x, tta):
        """Test-time augmentation: the mean output for the image and its mirror image;
        'multicrop' averages that (weight 1/2) with the same for the image shifted one
        pixel up-left and one pixel down-right (1/4 each; borders mirrored)."""
        def flip_mean(v):
            return (self.model(v)._array + self.model(v.flip(-1))._array) / 2

        out = flip_mean(x)
        if tta != "multicrop":
            return out
        a = x._array
        padded = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
        h, w = a.shape[-2:]
        shifted = [Tensor._make(np.ascontiguousarray(padded[..., r:r + h, q:q + w]), False,
                                None) for r, q in ((0, 0), (2, 2))]
        return out / 2 + sum(flip_mean(v) for v in shifted) / 4

    @no_grad()
    def outputs(self, loader, limit=None, tta=False):
        """(outputs, targets) over a loader, in eval mode, as arrays; with `tta` (True or
        'flip', or 'multicrop'), test-time augmented (see _tta_outputs)."""
        was = self.model.training
        self.model.eval()
        if hasattr(self.model, "reset_states"):
            self.model.reset_states()
        outs, ys, n = [], [], 0
        try:
            for x, y in loader:
                outs.append(self._tta_outputs(x, tta) if tta else self.model(x)._array)
                ys.append(y._array)
                n += len(x)
                if limit and n >= limit:
                    break
        finally:
            self.model.train(was)
        return np.concatenate(outs), np.concatenate(ys)
