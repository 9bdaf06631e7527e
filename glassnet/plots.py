"""Pictures of a run, as PNG files: the curves, the confusion matrix, the filters.

matplotlib draws them (the Agg backend: no screen needed). Each function takes
plain arrays and a path, so it works on any model; `for_run` draws what suits a
training run's task into its directory.
"""
import os

import numpy as np


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def _grid(count, max_cols, cell):
    """A figure of `count` image cells, at most `max_cols` to a row, each `cell` (width,
    height) inches, axes off; returns (figure, the first `count` axes)."""
    plt = _pyplot()
    cols = max(min(count, max_cols), 1)
    rows = max(int(np.ceil(count / cols)), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(cell[0] * cols, cell[1] * rows + 0.4),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, list(axes.flat)[:count]


def training_curves(history, path, title=""):
    """Loss and, when logged, accuracy per epoch for training and validation — the
    notes' early-stopping picture: the best validation epoch is marked."""
    plt = _pyplot()
    metric = next((k for k in ("accuracy", "binary_accuracy", "mae") if k in history), None)
    panels = ["loss"] + ([metric] if metric else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    epochs = history.get("epoch") or list(range(1, len(history["loss"]) + 1))
    for ax, key in zip(axes[0], panels):
        ax.plot(epochs, history[key], "o-", label=f"training {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s-", label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    if "val_loss" in history:
        best = int(np.argmin(history["val_loss"]))
        axes[0][0].axvline(epochs[best], color="grey", ls="--",
                           label=f"lowest validation loss (epoch {epochs[best]})")
    for ax in axes[0]:
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix(matrix, classes, path, title="confusion matrix (test set)"):
    """Counts with the true class in rows and the predicted class in columns."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * n, 0.6 + 0.5 * n))
    ax.imshow(matrix, cmap="Blues")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    labels = [str(c)[:10] for c in classes] if len(classes) == n else range(n)
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _save(fig, path)


def filters(weight, path, title="first-layer filters"):
    """A conv layer's kernels (O, C, kh, kw) as a grid of small images (channels averaged,
    or shown in colour when there are three)."""
    w = np.asarray(weight, dtype=np.float64)
    fig, cells = _grid(w.shape[0], int(np.ceil(np.sqrt(w.shape[0]))), (1.2, 1.2))
    for ax, kernel in zip(cells, w):
        if kernel.shape[0] == 3:
            lo, hi = kernel.min(), kernel.max()
            ax.imshow(((kernel - lo) / (hi - lo + 1e-12)).transpose(1, 2, 0))
        else:
            ax.imshow(kernel.mean(axis=0), cmap="gray")
    fig.suptitle(title)
    return _save(fig, path)


def misclassified(images, true_labels, predicted_labels, path,
                  title="misclassified test images: true -> predicted"):
    """A grid of images (N, C, H, W) with values in [0, 1] (C = 1 or 3), each captioned
    with its true and predicted class."""
    images = np.clip(np.asarray(images, dtype=np.float64), 0, 1)
    fig, cells = _grid(len(images), 8, (1.5, 1.7))
    for k, (ax, image) in enumerate(zip(cells, images)):
        if image.shape[0] == 3:
            ax.imshow(image.transpose(1, 2, 0), interpolation="nearest")
        else:
            ax.imshow(image[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{str(true_labels[k])[:10]}\n-> {str(predicted_labels[k])[:10]}",
                     fontsize=7, color="firebrick")
    fig.suptitle(title)
    return _save(fig, path)


def series(prediction, target, path, title="prediction vs target"):
    """One sequence's prediction and target over time."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.plot(np.ravel(target), label="target", lw=2)
    ax.plot(np.ravel(prediction), "--", label="prediction", lw=1.5)
    ax.set_xlabel("time step")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return _save(fig, path)


def reconstructions(originals, rebuilt, path, title="originals (top) and reconstructions"):
    """Images (N, 1, H, W) or (N, H, W) above their reconstructions."""
    plt = _pyplot()
    a = np.asarray(originals).reshape(len(originals), *np.shape(originals)[-2:])
    b = np.asarray(rebuilt).reshape(len(rebuilt), *np.shape(rebuilt)[-2:])
    n = len(a)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
    for i in range(n):
        for row, images in enumerate((a, b)):
            axes[row][i].imshow(images[i], cmap="gray", vmin=0, vmax=1)
            axes[row][i].axis("off")
    fig.suptitle(title)
    return _save(fig, path)


def codes(points, labels, path, title="codes, coloured by the true class"):
    """Codes (N, d): a 3-D scatter for d = 3, the first two dimensions otherwise."""
    plt = _pyplot()
    points = np.asarray(points)
    fig = plt.figure(figsize=(6, 5))
    if points.shape[1] >= 3:
        ax = fig.add_subplot(projection="3d")
        sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=labels, cmap="tab10", s=4)
    else:
        ax = fig.add_subplot()
        sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4)
    fig.colorbar(sc, ax=ax, label="class")
    ax.set_title(title)
    return _save(fig, path)


def decision_boundary(model_fn, points, labels, path, title="decision boundary"):
    """A model on 2-D points: its output over the plane, and the points coloured by class."""
    plt = _pyplot()
    points = np.asarray(points)
    lo, hi = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    zs = np.asarray(model_fn(grid)).reshape(xs.shape)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.contourf(xs, ys, zs, levels=20, cmap="RdBu_r", alpha=0.5)
    ax.contour(xs, ys, zs, levels=[0.5], colors="k")
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="bwr", s=10, edgecolors="k",
               linewidths=0.3)
    ax.set_title(title)
    return _save(fig, path)


def lines(curves, path, xlabel, ylabel, title="", logy=False):
    """Several named curves {label: (x, y)} on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (x, y) in curves.items():
        ax.plot(x, y, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def for_run(run):
    """Draw into the run directory what suits the run's task; returns the paths."""
    from .metrics import confusion_matrix as confusion
    from .nn import Conv2d
    from .tensor import Tensor
    from .autograd.grad_mode import no_grad
    out, name = run.out, run.config["model"]
    paths = [training_curves(run.history, os.path.join(out, "curves.png"),
                             f"{name} on {run.config['dataset']}")]
    if run.task == "classification":
        outputs, targets = getattr(run, "test_outputs", None) or run.outputs(run.test_loader)
        n = outputs.shape[1]
        paths.append(confusion_matrix(confusion(targets, outputs.argmax(1), n), run.classes,
                                      os.path.join(out, "confusion.png")))
        wrong = np.flatnonzero(outputs.argmax(1) != targets)[:32]
        shown = run.test_images(wrong) if len(wrong) else None
        if shown is not None:
            names = run.class_names(n)
            paths.append(misclassified(shown, [names[i] for i in targets[wrong]],
                                       [names[i] for i in outputs.argmax(1)[wrong]],
                                       os.path.join(out, "misclassified.png")))
        first = next((m for m in run.model.modules() if isinstance(m, Conv2d)), None)
        if first is not None:
            paths.append(filters(first.weight._array, os.path.join(out, "filters.png")))
    elif run.task == "binary":
        points = np.concatenate([x._array for x, _ in run.test_loader])
        labels = np.concatenate([y._array for _, y in run.test_loader])

        def model_fn(grid):
            run.model.eval()
            with no_grad():
                return run.model(Tensor(grid))._array

        paths.append(decision_boundary(model_fn, points, labels,
                                       os.path.join(out, "decision.png"), f"{name}"))
    elif run.task == "regression":
        outputs, targets = run.outputs(run.test_loader)
        streams = getattr(run.test_set, "streams", None) or len(outputs)
        # the first test wave through all its consecutive chunks, as the stateful model saw it
        paths.append(series(outputs[::streams], targets[::streams],
                            os.path.join(out, "prediction.png"), f"{name}: a test series"))
    elif run.task == "autoencoder":
        rebuilt, images = run.outputs(run.test_loader, limit=1000)
        paths.append(reconstructions(images[:10], rebuilt[:10],
                                     os.path.join(out, "reconstructions.png")))
        encoder = getattr(run.model, "encoder", None)
        if encoder is not None:
            xs, ys = [], []
            for x, y in run.test_loader.loader:
                xs.append(x)
                ys.append(y._array)
                if sum(len(v) for v in ys) >= 2000:
                    break
            with no_grad():
                run.model.eval()
                code = np.concatenate([encoder(x)._array for x in xs])
            code = code.reshape(len(code), -1)
            paths.append(codes(code, np.concatenate(ys), os.path.join(out, "codes.png")))
    return paths
