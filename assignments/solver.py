"""The training loop every model notebook uses, and the model protocol.

    solver = Solver(model, data, rng=np.random.default_rng(0),
                    update_rule=adam, optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, batch_size=200, num_epochs=10)
    solver.train()
    solver.best_val_acc, solver.loss_history, solver.val_acc_history

The model protocol (all a model needs to be trained, checked and saved here)
-----------------------------------------------------------------------------
- ``model.params``: dict name -> numpy array, the learned parameters.  Weight
  matrices are named ``W...``; only they are regularized.
- ``model.state`` (optional): dict name -> numpy array of what is *not*
  learned but must be kept, e.g. batch norm's ``running_mean1``.  Layer
  functions return the next state instead of changing it in place; the
  model replaces its entries during a forward pass in train mode.
- ``model.loss(X, y=None, mode=None, rng=None)``:
  * with ``y`` None it returns the class scores (N, C), else a tuple
    ``(loss, grads)``, ``grads`` keyed like ``params``, same shapes;
  * ``mode`` is "train" or "test" (default: "test" for scores, "train" for a
    loss): dropout is active and batch norm uses batch statistics only in
    train mode;
  * ``rng`` is the Generator every random layer (dropout) draws from.  The
    caller passes it: the Solver its own, a gradient check a fresh
    Generator of a fixed seed for every call, so the same call gives the
    same masks.
  A model whose ``loss`` takes only ``(X, y)`` (notebook 3's ``TwoLayerNet``)
  has no mode and no randomness; it is called without them.

Training
--------
``data`` is a dict with ``X_train, y_train, X_val, y_val``.  Each epoch
visits every training example once: the examples are shuffled by the
passed Generator and cut into minibatches (the last may be smaller).  Every
parameter has its own update-rule config (see ``assignments.optim``).  The
learning rate of iteration ``t`` (counted from 0) is the configured one
times ``lr_schedule(t)`` if a schedule is given, else times
``lr_decay ** epoch``.  Optional regularizers of the loop itself, for
comparing them side by side: ``l1_reg`` adds ``l1_reg * sum |W|`` to the
loss and its subgradient to every weight's gradient; ``max_norm`` projects
each unit's incoming weights (a column of ``W``) back onto the ball of that
radius after every update.

After each epoch (and once before training) the solver measures accuracy
on a fixed random subsample of the training set and on the validation set,
in test mode, and keeps a copy of the parameters *and the state* with the
best validation accuracy; ``train`` ends by loading them back into the
model.  Checkpoints hold parameters, state, update-rule configs and records.

Per iteration it also records, for every parameter, the mean absolute
gradient and the update-to-weight ratio ||w_next - w|| / ||w||, which
``assignments.monitor`` plots, and per epoch the wall-clock seconds.  A loss
that becomes nan or inf, or grows beyond ``divergence_ratio`` times the
first minibatch loss, stops training (``solver.diverged``).
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from pathlib import Path

import numpy as np

from . import optim

__all__ = ["Solver", "predict", "load_checkpoint", "call_loss", "is_weight"]


def is_weight(name: str) -> bool:
    """Weight matrices are the parameters named W...; only they are regularized."""
    return name.startswith("W")


@functools.lru_cache(maxsize=256)
def _accepts_mode(loss_fn) -> bool:
    try:
        params = inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):
        return False
    return "mode" in params and "rng" in params


def call_loss(model, X, y=None, mode=None, rng=None):
    """``model.loss`` called as the protocol says: with mode and rng if it takes them."""
    loss_fn = model.loss
    if _accepts_mode(getattr(loss_fn, "__func__", loss_fn)):
        return loss_fn(X, y, mode=mode, rng=rng)
    return loss_fn(X) if y is None else loss_fn(X, y)


def predict(model, X, batch_size=1000):
    """Predicted labels (N,) of ``model`` for X in test mode, computed batch by batch."""
    labels = [np.argmax(call_loss(model, X[i:i + batch_size], mode="test"), axis=1)
              for i in range(0, len(X), batch_size)]
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


def _copies(arrays: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in arrays.items()}


BLOCK_RULES = ("sgd_momentum", "rmsprop", "adam")   # notebook 4's answers


def _named_rule(name: str):
    """The update rule called ``name``: sgd from the library, the others from the blocks."""
    if name in optim.RULES:
        return optim.RULES[name]
    if name in BLOCK_RULES:
        from .blocks import MissingBlock, block

        try:
            return block(name)
        except MissingBlock:
            raise ValueError(f"update rule {name!r} is notebook 4's answer and no course_blocks.py "
                             f"here holds it: pass the function itself, e.g. update_rule=adam "
                             f"with your own adam") from None
    raise ValueError(f"unknown update rule {name!r}: choose from "
                     f"{sorted(optim.RULES) + list(BLOCK_RULES)} or pass a function")


class Solver:
    """Minibatch training of a model with a pure update rule; keeps the records.

    Inputs:
    - model: follows the model protocol (see the module docstring).
    - data: dict with X_train (N, ...), y_train (N,), X_val, y_val.
    - rng: numpy.random.Generator for the shuffling, the train-accuracy
      subsample and the model's random layers.  Required: the same generator
      state gives the same run.
    - update_rule: a function ``rule(w, dw, config) -> (next_w, config)``
      or its name: "sgd" (the default, ``assignments.optim.sgd``), or
      "sgd_momentum", "rmsprop", "adam": notebook 4's answers, from the
      building blocks (``assignments.blocks``: the ``course_blocks.py`` next
      to a notebook that builds on notebook 4).
    - optim_config: dict of the rule's hyperparameters, e.g.
      {"learning_rate": 0.1}; each parameter gets its own copy.
    - lr_decay: the learning rate is multiplied by this after every epoch.
    - lr_schedule: alternatively a function of the iteration t (from 0)
      returning the factor applied to the configured learning rate.
    - l1_reg: adds l1_reg * sum |W| over the weight matrices to the loss.
    - max_norm: after every update, each column of every weight matrix is
      scaled down to this Euclidean norm if it is longer (None: off).
    - batch_size: examples per minibatch.
    - num_epochs: passes over the training set.
    - num_train_samples: size of the fixed training subsample on which
      training accuracy is measured (None: all training examples).
    - num_val_samples: validation examples used (None: all).
    - checkpoint_name: if given, after every epoch the parameters, state and
      records go to ``{checkpoint_name}_epoch_{epoch}.npz``.
    - divergence_ratio: stop when the minibatch loss exceeds this many times
      max(1, first minibatch loss); None: stop only on nan or inf.
    - progress: show a tqdm progress bar over iterations.
    - verbose: print one line per epoch.
    """

    def __init__(self, model, data, *, rng, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 lr_schedule=None, l1_reg=0.0, max_norm=None, batch_size=100, num_epochs=10,
                 num_train_samples=1000, num_val_samples=None, checkpoint_name=None,
                 divergence_ratio=1e3, progress=True, verbose=False):
        if rng is None or not hasattr(rng, "permutation"):
            raise TypeError("Solver needs rng=np.random.default_rng(seed)")
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise KeyError(f"data is missing {missing}")
        if isinstance(update_rule, str):
            update_rule = _named_rule(update_rule)
        if not callable(update_rule):
            raise TypeError(f"update_rule must be a function rule(w, dw, config), got "
                            f"{type(update_rule).__name__}")
        if batch_size < 1 or num_epochs < 0:
            raise ValueError("batch_size must be >= 1 and num_epochs >= 0")
        if max_norm is not None and max_norm <= 0:
            raise ValueError(f"max_norm must be positive, got {max_norm}")
        self.model = model
        self.X_train, self.y_train = data["X_train"], np.asarray(data["y_train"])
        self.X_val, self.y_val = data["X_val"], np.asarray(data["y_val"])
        if num_val_samples is not None:
            self.X_val, self.y_val = self.X_val[:num_val_samples], self.y_val[:num_val_samples]
        self.rng = rng
        self.update_rule = update_rule
        self.lr_decay = lr_decay
        self.lr_schedule = lr_schedule
        self.l1_reg = l1_reg
        self.max_norm = max_norm
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
        self.base_learning_rates = {}

        self.epoch = 0
        self.iteration = 0
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.learning_rate_history = []
        self.epoch_seconds = []
        self.grad_magnitudes = {name: [] for name in model.params}
        self.update_ratios = {name: [] for name in model.params}
        self.best_val_acc = -1.0
        self.best_epoch = 0
        self.best_params = {}
        self.best_state = {}
        self.diverged = False
        self.train_seconds = 0.0

    # ------------------------------------------------------------------
    @property
    def iterations_per_epoch(self) -> int:
        return max(1, -(-len(self.y_train) // self.batch_size))

    def check_accuracy(self, X, y, batch_size=1000) -> float:
        """Fraction of X classified as y by the current parameters (test mode)."""
        if len(y) == 0:
            return float("nan")
        return float(np.mean(predict(self.model, X, batch_size) == np.asarray(y)))

    def _learning_rate_factor(self) -> float:
        if self.lr_schedule is not None:
            return float(self.lr_schedule(self.iteration))
        return self.lr_decay ** self.epoch

    def _config_for_step(self, name):
        config = self.optim_configs[name]
        base = self.base_learning_rates.get(name, config.get("learning_rate"))
        if base is None:  # the rule fills in its default at the first step
            return config
        self.base_learning_rates[name] = base
        return {**config, "learning_rate": base * self._learning_rate_factor()}

    def step(self, X_batch, y_batch) -> float:
        """One gradient step on a minibatch; returns the minibatch loss."""
        loss, grads = call_loss(self.model, X_batch, y_batch, mode="train", rng=self.rng)
        loss = float(loss)
        params = self.model.params
        if self.l1_reg:
            loss += self.l1_reg * sum(float(np.sum(np.abs(w))) for k, w in params.items()
                                      if is_weight(k))
        self.loss_history.append(loss)
        if not np.isfinite(loss):
            return loss
        first = next(iter(params), None)
        for name, w in params.items():
            dw = grads[name]
            if self.l1_reg and is_weight(name):
                dw = dw + self.l1_reg * np.sign(w)
            config = self._config_for_step(name)
            next_w, self.optim_configs[name] = self.update_rule(w, dw, config)
            if name not in self.base_learning_rates and "learning_rate" in self.optim_configs[name]:
                self.base_learning_rates[name] = self.optim_configs[name]["learning_rate"]
            if self.max_norm is not None and is_weight(name) and next_w.ndim == 2:
                norms = np.sqrt(np.sum(next_w * next_w, axis=0, keepdims=True))
                next_w = next_w * np.minimum(1.0, self.max_norm / np.maximum(norms, 1e-12))
            if name == first:
                self.learning_rate_history.append(config.get(
                    "learning_rate", self.optim_configs[name].get("learning_rate")))
            self.grad_magnitudes[name].append(float(np.mean(np.abs(dw))))
            w_norm = float(np.linalg.norm(w))
            self.update_ratios[name].append(float(np.linalg.norm(next_w - w)) / (w_norm + 1e-12))
            params[name] = next_w
        self.iteration += 1
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
            self.best_params = _copies(self.model.params)
            self.best_state = _copies(getattr(self.model, "state", {}) or {})
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
                epoch_start = time.perf_counter()
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
                self.epoch_seconds.append(time.perf_counter() - epoch_start)
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
            self.model.params = _copies(self.best_params)
            if getattr(self.model, "state", None) is not None:
                self.model.state = _copies(self.best_state)
        return self

    # ------------------------------------------------------------------
    def save_checkpoint(self, path) -> Path:
        """Write parameters, state, update-rule configs and records to an .npz file."""
        path = Path(path)
        arrays = {f"param/{k}": v for k, v in self.model.params.items()}
        arrays.update({f"state/{k}": v for k, v in (getattr(self.model, "state", {}) or {}).items()})
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

    Returns a dict with "params" and "state" (name -> array), "optim_configs"
    (name -> config dict), "epoch", the three histories, "best_val_acc" and
    "best_epoch".
    """
    out = {"params": {}, "state": {}, "optim_configs": {}}
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            value = z[key]
            if key.startswith("param/"):
                out["params"][key[len("param/"):]] = value
            elif key.startswith("state/"):
                out["state"][key[len("state/"):]] = value
            elif key.startswith("config/"):
                _, name, field = key.split("/", 2)
                out["optim_configs"].setdefault(name, {})[field] = (
                    value.item() if value.ndim == 0 else value)
            elif value.ndim == 0:
                out[key] = value.item()
            else:
                out[key] = value
    return out
