"""The training loop every model notebook uses.

    solver = Solver(model, data, rng=np.random.default_rng(0),
                    update_rule="sgd", optim_config={"learning_rate": 0.1},
                    lr_decay=0.95, batch_size=200, num_epochs=10)
    solver.train()
    solver.best_val_acc, solver.loss_history, solver.val_acc_history

The model protocol (all a model needs to be trained here):

- ``model.params``: dict name -> numpy array, the learnable parameters.
- ``model.loss(X)``: class scores, shape (N, C).
- ``model.loss(X, y)``: a tuple ``(loss, grads)``, ``grads`` a dict keyed
  like ``model.params`` with arrays of the same shapes.

``data`` is a dict with ``X_train, y_train, X_val, y_val``.

Each epoch visits every training example once: the examples are shuffled by
the passed Generator and cut into minibatches (the last may be smaller).
Every parameter has its own update-rule config (see ``assignments.optim``);
the learning rate of every config is multiplied by ``lr_decay`` after each
epoch.  After each epoch (and once before training) the solver measures
accuracy on a fixed random subsample of the training set and on the
validation set, and keeps a copy of the parameters with the best validation
accuracy; ``train`` ends by loading them back into the model.

Per iteration it also records, for every parameter, the mean absolute
gradient and the update-to-weight ratio ||w_next - w|| / ||w||, which
``assignments.monitor`` plots.  A loss that becomes nan or inf, or grows
beyond ``divergence_ratio`` times the first minibatch loss, stops training
(``solver.diverged``) instead of wasting the remaining epochs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from . import optim

__all__ = ["Solver", "predict", "load_checkpoint"]


def predict(model, X, batch_size=1000):
    """Predicted labels (N,) of ``model`` for X, computed batch by batch."""
    labels = [np.argmax(model.loss(X[i:i + batch_size]), axis=1)
              for i in range(0, len(X), batch_size)]
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


class Solver:
    """Minibatch training of a model with a pure update rule; keeps the records.

    Inputs:
    - model: object with ``params`` and ``loss`` (see the module docstring).
    - data: dict with X_train (N, ...), y_train (N,), X_val, y_val.
    - rng: numpy.random.Generator for the shuffling and the train-accuracy
      subsample.  Required: the same generator state gives the same run.
    - update_rule: a function ``rule(w, dw, config) -> (next_w, config)`` or
      the name of one in ``assignments.optim`` (default "sgd").
    - optim_config: dict of the rule's hyperparameters, e.g.
      {"learning_rate": 0.1}; each parameter gets its own copy.
    - lr_decay: the learning rate is multiplied by this after every epoch.
    - batch_size: examples per minibatch.
    - num_epochs: passes over the training set.
    - num_train_samples: size of the fixed training subsample on which
      training accuracy is measured (None: all training examples).
    - num_val_samples: validation examples used (None: all).
    - checkpoint_name: if given, after every epoch the parameters and the
      records go to ``{checkpoint_name}_epoch_{epoch}.npz``.
    - divergence_ratio: stop when the minibatch loss exceeds this many times
      max(1, first minibatch loss); None: stop only on nan or inf.
    - progress: show a tqdm progress bar over iterations.
    - verbose: print one line per epoch.
    """

    def __init__(self, model, data, *, rng, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000, num_val_samples=None,
                 checkpoint_name=None, divergence_ratio=1e3, progress=True, verbose=False):
        if rng is None or not hasattr(rng, "permutation"):
            raise TypeError("Solver needs rng=np.random.default_rng(seed)")
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise KeyError(f"data is missing {missing}")
        if isinstance(update_rule, str):
            if not hasattr(optim, update_rule):
                raise ValueError(f"unknown update rule {update_rule!r} (not in assignments.optim)")
            update_rule = getattr(optim, update_rule)
        if batch_size < 1 or num_epochs < 0:
            raise ValueError("batch_size must be >= 1 and num_epochs >= 0")
        self.model = model
        self.X_train, self.y_train = data["X_train"], np.asarray(data["y_train"])
        self.X_val, self.y_val = data["X_val"], np.asarray(data["y_val"])
        if num_val_samples is not None:
            self.X_val, self.y_val = self.X_val[:num_val_samples], self.y_val[:num_val_samples]
        self.rng = rng
        self.update_rule = update_rule
        self.lr_decay = lr_decay
        self.batch_size = int(batch_size)
        self.num_epochs = int(num_epochs)
        self.checkpoint_name = checkpoint_name
        self.divergence_ratio = divergence_ratio
        self.progress = progress
        self.verbose = verbose

        n = len(self.y_train)
        k = n if num_train_samples is None else min(int(num_train_samples), n)
        self.train_sample = np.sort(rng.choice(n, size=k, replace=False))
        self.optim_configs = {name: dict(optim_config or {}) for name in model.params}

        self.epoch = 0
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.grad_magnitudes = {name: [] for name in model.params}
        self.update_ratios = {name: [] for name in model.params}
        self.best_val_acc = -1.0
        self.best_epoch = 0
        self.best_params = {}
        self.diverged = False
        self.train_seconds = 0.0

    # ------------------------------------------------------------------
    @property
    def iterations_per_epoch(self) -> int:
        return max(1, -(-len(self.y_train) // self.batch_size))

    def check_accuracy(self, X, y, batch_size=1000) -> float:
        """Fraction of X classified as y by the current parameters."""
        if len(y) == 0:
            return float("nan")
        return float(np.mean(predict(self.model, X, batch_size) == np.asarray(y)))

    def step(self, X_batch, y_batch) -> float:
        """One gradient step on a minibatch; returns the minibatch loss."""
        loss, grads = self.model.loss(X_batch, y_batch)
        loss = float(loss)
        self.loss_history.append(loss)
        if not np.isfinite(loss):
            return loss
        for name, w in self.model.params.items():
            dw = grads[name]
            next_w, self.optim_configs[name] = self.update_rule(w, dw, self.optim_configs[name])
            self.grad_magnitudes[name].append(float(np.mean(np.abs(dw))))
            w_norm = float(np.linalg.norm(w))
            self.update_ratios[name].append(float(np.linalg.norm(next_w - w)) / (w_norm + 1e-12))
            self.model.params[name] = next_w
        return loss

    def _exploded(self, loss) -> bool:
        if not np.isfinite(loss):
            return True
        if self.divergence_ratio is None:
            return False
        return loss > self.divergence_ratio * max(1.0, abs(self.loss_history[0]))

    def _record_epoch(self):
        train_acc = self.check_accuracy(self.X_train[self.train_sample],
                                        self.y_train[self.train_sample])
        val_acc = self.check_accuracy(self.X_val, self.y_val)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:
            self.best_val_acc, self.best_epoch = val_acc, self.epoch
            self.best_params = {k: np.array(v, copy=True) for k, v in self.model.params.items()}
        return train_acc, val_acc

    def train(self):
        """Run ``num_epochs`` epochs; returns self (the records are attributes)."""
        from tqdm.auto import tqdm

        start = time.perf_counter()
        if not self.val_acc_history:
            self._record_epoch()
        n = len(self.y_train)
        total = self.iterations_per_epoch * self.num_epochs
        bar = tqdm(total=total, desc="training", unit="it", leave=False, disable=not self.progress)
        try:
            for _ in range(self.num_epochs):
                order = self.rng.permutation(n)
                for lo in range(0, n, self.batch_size):
                    idx = order[lo:lo + self.batch_size]
                    loss = self.step(self.X_train[idx], self.y_train[idx])
                    bar.update(1)
                    if self._exploded(loss):
                        self.diverged = True
                        break
                if self.diverged:
                    if self.verbose or self.progress:
                        print(f"stopped in epoch {self.epoch + 1}: the loss reached {loss:.3g} "
                              f"(it started at {self.loss_history[0]:.3g}; learning rate too high?)")
                    break
                self.epoch += 1
                for name, config in self.optim_configs.items():
                    if "learning_rate" in config:  # update rules fill in their defaults
                        self.optim_configs[name] = {
                            **config, "learning_rate": config["learning_rate"] * self.lr_decay}
                train_acc, val_acc = self._record_epoch()
                bar.set_postfix(epoch=self.epoch, loss=f"{loss:.3f}", val_acc=f"{val_acc:.3f}")
                if self.verbose:
                    print(f"epoch {self.epoch:3d}/{self.num_epochs}: loss {loss:.4f}, "
                          f"train acc {train_acc:.3f}, val acc {val_acc:.3f}")
                if self.checkpoint_name is not None:
                    self.save_checkpoint(f"{self.checkpoint_name}_epoch_{self.epoch}.npz")
        finally:
            bar.close()
            self.train_seconds += time.perf_counter() - start
        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
        return self

    # ------------------------------------------------------------------
    def save_checkpoint(self, path) -> Path:
        """Write parameters, update-rule configs and records to an .npz file."""
        path = Path(path)
        arrays = {f"param/{k}": v for k, v in self.model.params.items()}
        for name, config in self.optim_configs.items():
            for key, value in config.items():
                arrays[f"config/{name}/{key}"] = np.asarray(value)
        arrays.update({
            "epoch": np.asarray(self.epoch),
            "loss_history": np.asarray(self.loss_history, dtype=np.float64),
            "train_acc_history": np.asarray(self.train_acc_history, dtype=np.float64),
            "val_acc_history": np.asarray(self.val_acc_history, dtype=np.float64),
            "best_val_acc": np.asarray(self.best_val_acc),
            "best_epoch": np.asarray(self.best_epoch),
        })
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
        return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by ``Solver.save_checkpoint``.

    Returns a dict with "params" (name -> array), "optim_configs"
    (name -> config dict), "epoch", the three histories, "best_val_acc" and
    "best_epoch".
    """
    out = {"params": {}, "optim_configs": {}}
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            value = z[key]
            if key.startswith("param/"):
                out["params"][key[len("param/"):]] = value
            elif key.startswith("config/"):
                _, name, field = key.split("/", 2)
                out["optim_configs"].setdefault(name, {})[field] = (
                    value.item() if value.ndim == 0 else value)
            elif value.ndim == 0:
                out[key] = value.item()
            else:
                out[key] = value
    return out
