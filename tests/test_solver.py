"""assignments.optim (pure update rules) and assignments.solver (the training loop)."""

import copy

import numpy as np
import pytest

from assignments import optim
from assignments.solver import Solver, load_checkpoint, predict


# --------------------------------------------------------------------------
# update rules
# --------------------------------------------------------------------------

def test_sgd_step_and_defaults():
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    next_w, config = optim.sgd(w, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, [0.95, -2.05])
    assert config == {"learning_rate": 0.1}
    _, default = optim.sgd(w, dw)
    assert default == {"learning_rate": 1e-2}


def test_sgd_is_pure():
    w, dw = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    config = {"learning_rate": 0.5, "extra": np.zeros(2)}
    saved = (w.copy(), dw.copy(), copy.deepcopy(config))
    next_w, next_config = optim.sgd(w, dw, config)
    np.testing.assert_array_equal(w, saved[0])
    np.testing.assert_array_equal(dw, saved[1])
    assert set(config) == set(saved[2]) and config["learning_rate"] == 0.5
    np.testing.assert_array_equal(config["extra"], saved[2]["extra"])
    assert next_w is not w and next_config is not config


# --------------------------------------------------------------------------
# a tiny model following the protocol: a linear softmax classifier
# --------------------------------------------------------------------------

class Linear:
    def __init__(self, D, C, rng):
        self.params = {"W": 0.01 * rng.standard_normal((D, C)), "b": np.zeros(C)}
        self.seen = []  # labels of every training batch, in order

    def loss(self, X, y=None):
        scores = X.reshape(len(X), -1) @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        self.seen.append(np.array(y))
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.mean(np.log(p[np.arange(n), y]))
        d = p.copy()
        d[np.arange(n), y] -= 1
        d /= n
        return loss, {"W": X.reshape(n, -1).T @ d, "b": d.sum(axis=0)}


def blobs(n, rng, D=5, C=3):
    centres = rng.normal(size=(C, D)) * 3
    y = rng.integers(0, C, size=n)
    return centres[y] + rng.normal(size=(n, D)), y


@pytest.fixture
def data():
    X, y = blobs(290, np.random.default_rng(0))
    return {"X_train": X[:230], "y_train": y[:230], "X_val": X[230:], "y_val": y[230:]}


def make(data, seed=1, **kw):
    model = Linear(5, 3, np.random.default_rng(seed))
    kw.setdefault("optim_config", {"learning_rate": 0.5})
    kw.setdefault("progress", False)
    return model, Solver(model, data, rng=np.random.default_rng(seed + 1), **kw)


def test_training_lowers_the_loss_and_records_histories(data):
    _, s = make(data, batch_size=50, num_epochs=4)
    s.train()
    assert s.iterations_per_epoch == 5  # 230 / 50 rounded up
    assert len(s.loss_history) == 20
    assert len(s.train_acc_history) == len(s.val_acc_history) == 5  # before training + 4
    assert np.mean(s.loss_history[-5:]) < np.mean(s.loss_history[:5])
    assert s.val_acc_history[-1] > 0.8
    assert all(len(v) == 20 for v in s.update_ratios.values())
    assert all(len(v) == 20 for v in s.grad_magnitudes.values())


def test_every_example_once_per_epoch(data):
    model, s = make(data, batch_size=40, num_epochs=3)
    s.train()
    per_epoch = s.iterations_per_epoch
    sizes = [len(b) for b in model.seen]
    assert sizes == [40, 40, 40, 40, 40, 30] * 3
    for e in range(3):
        labels = np.concatenate(model.seen[e * per_epoch:(e + 1) * per_epoch])
        np.testing.assert_array_equal(np.bincount(labels, minlength=3),
                                      np.bincount(data["y_train"], minlength=3))
    assert not all(np.array_equal(a, b) for a, b in zip(model.seen[:6], model.seen[6:12]))


def test_same_generator_same_run(data):
    runs = []
    for _ in range(2):
        model, s = make(data, seed=7, batch_size=32, num_epochs=2)
        s.train()
        runs.append((s.loss_history, model.params["W"]))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_learning_rate_decays_every_epoch_per_parameter(data):
    _, s = make(data, batch_size=100, num_epochs=3, lr_decay=0.5,
                optim_config={"learning_rate": 0.8})
    s.train()
    per_epoch = s.iterations_per_epoch
    expected = [0.8 * 0.5 ** (t // per_epoch) for t in range(3 * per_epoch)]
    assert s.learning_rate_history == pytest.approx(expected)
    for name, config in s.optim_configs.items():  # the last step ran at epoch 2's rate
        assert config["learning_rate"] == pytest.approx(0.8 * 0.5 ** 2), name
    assert s.optim_configs["W"] is not s.optim_configs["b"]


def test_per_parameter_state_and_custom_rule(data):
    def counting_sgd(w, dw, config):
        config = {**config, "steps": config.get("steps", 0) + 1}
        return w - 0.1 * dw, config

    _, s = make(data, update_rule=counting_sgd, batch_size=100, num_epochs=2, optim_config={})
    s.train()
    assert s.optim_configs["W"]["steps"] == s.optim_configs["b"]["steps"] == 6


def test_best_parameters_are_restored(data):
    model, s = make(data, batch_size=50, num_epochs=5)
    s.train()
    assert s.best_val_acc == max(s.val_acc_history)
    assert s.val_acc_history[s.best_epoch] == s.best_val_acc
    for k in model.params:
        np.testing.assert_array_equal(model.params[k], s.best_params[k])
    assert s.check_accuracy(data["X_val"], data["y_val"]) == pytest.approx(s.best_val_acc)


def test_train_accuracy_uses_a_fixed_subsample(data):
    _, s = make(data, num_train_samples=50, num_epochs=1)
    sample = s.train_sample.copy()
    s.train()
    assert len(sample) == 50 and len(np.unique(sample)) == 50
    np.testing.assert_array_equal(sample, s.train_sample)


def test_divergence_stops_training(data):
    def exploding(w, dw, config):
        return w * 1e200, config

    _, s = make(data, update_rule=exploding, batch_size=50, num_epochs=5)
    with np.errstate(all="ignore"):
        s.train()
    assert s.diverged
    assert len(s.loss_history) < 25
    assert not np.isfinite(s.loss_history[-1])


def test_a_loss_far_above_its_start_stops_training(data):
    def growing(w, dw, config):
        return w * 3.0, config

    _, s = make(data, update_rule=growing, batch_size=10, num_epochs=3, divergence_ratio=50)
    with np.errstate(all="ignore"):
        s.train()
    assert s.diverged
    assert np.isfinite(s.loss_history[-1]) and s.loss_history[-1] > 50 * s.loss_history[0]
    _, s = make(data, update_rule=growing, batch_size=10, num_epochs=1, divergence_ratio=None)
    with np.errstate(all="ignore"):
        s.train()
    assert len(s.loss_history) == 23 or not np.isfinite(s.loss_history[-1])


def test_checkpoint_round_trip(data, tmp_path):
    model, s = make(data, batch_size=100, num_epochs=2, checkpoint_name=str(tmp_path / "run"))
    s.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["run_epoch_1.npz", "run_epoch_2.npz"]
    ck = load_checkpoint(tmp_path / "run_epoch_2.npz")
    assert ck["epoch"] == 2
    assert set(ck["params"]) == {"W", "b"}
    assert ck["optim_configs"]["W"]["learning_rate"] == pytest.approx(0.5)
    np.testing.assert_array_equal(ck["val_acc_history"], s.val_acc_history)


def test_arguments_are_checked(data):
    model = Linear(5, 3, np.random.default_rng(0))
    with pytest.raises(TypeError):
        Solver(model, data, rng=None)
    with pytest.raises(ValueError):
        Solver(model, data, rng=np.random.default_rng(0), update_rule="no_such_rule")
    with pytest.raises(KeyError):
        Solver(model, {"X_train": data["X_train"]}, rng=np.random.default_rng(0))


def test_predict_in_batches(data):
    model = Linear(5, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(predict(model, data["X_val"], batch_size=7),
                                  np.argmax(model.loss(data["X_val"]), axis=1))
