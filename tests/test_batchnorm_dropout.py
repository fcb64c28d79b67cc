"""Notebook 5's pieces: its answers (their one home is the source notebook) against its
checks, the library's dropconnect and contracts, its measurements and plots, and the Solver's
loop-level regularizers (L1, max-norm) it compares."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import types

from assignments import normalization as library
from assignments.cases import CheckFailed, run_cases
from assignments.gradcheck import assert_gradients_close, eval_numerical_gradient_array
from assignments.notebooks import batchnorm_dropout as nb
from assignments.notebooks import batchnorm_dropout_network as network
from assignments.notebooks import batchnorm_dropout_plots as lab
from assignments.solver import Solver
from course_answers import answers

# notebook 5's answers and the library's dropconnect and contracts
norm = types.SimpleNamespace(**vars(answers("05_batchnorm_dropout")),
                             **{k: getattr(library, k) for k in library.__all__})
FullyConnectedNet = norm.FullyConnectedNet


def _data(rng, n=120, d=12, c=3):
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    return {"X_train": X[:90], "y_train": y[:90], "X_val": X[90:], "y_val": y[90:]}


# --------------------------------------------------------------------------
# the reference layers
# --------------------------------------------------------------------------

def test_every_visible_check_passes_with_the_course_answers():
    nb.check_batchnorm_forward(norm.batchnorm_forward)
    nb.check_batchnorm_backward(norm.batchnorm_backward)
    nb.check_batchnorm_backward_alt(norm.batchnorm_backward_alt)
    nb.check_layernorm_forward(norm.layernorm_forward)
    nb.check_layernorm_backward(norm.layernorm_backward)
    nb.check_dropout_forward(norm.dropout_forward)
    nb.check_dropout_backward(norm.dropout_backward)
    network.check_block_forward(norm.hidden_block_forward)
    network.check_block_backward(norm.hidden_block_backward)
    network.check_net_init(FullyConnectedNet)
    network.check_net_loss(FullyConnectedNet)


def test_batchnorm_returns_new_running_averages_and_keeps_float32():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    g, b = np.ones(4, np.float32), np.zeros(4, np.float32)
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    out, cache, (m, v) = norm.batchnorm_forward(x, g, b, rm, rv, "train")
    assert out.dtype == np.float32 and m.dtype == np.float32
    assert np.all(rm == 0) and np.all(rv == 1)           # inputs untouched
    np.testing.assert_allclose(m, 0.1 * x.mean(axis=0), rtol=1e-6)
    _, _, (m2, v2) = norm.batchnorm_forward(x, g, b, m, v, "test")
    assert m2 is m and v2 is v
    for dx in norm.batchnorm_backward_alt(rng.normal(size=(6, 4)).astype(np.float32), cache):
        assert dx.dtype == np.float32


def test_dropout_keep_prob_one_and_test_mode_need_no_generator():
    x = np.arange(6.0).reshape(2, 3)
    for mode, keep in (("train", 1.0), ("test", 0.3)):
        out, cache = norm.dropout_forward(x, keep, mode, None)
        assert out is x and cache is None
    np.testing.assert_array_equal(norm.dropout_backward(x, None), x)


def test_dropout_draws_its_mask_as_documented():
    x = np.ones((30, 40), dtype=np.float32)
    out, mask = norm.dropout_forward(x, 0.3, "train", np.random.default_rng(4))
    expected = (np.random.default_rng(4).random(x.shape) < 0.3) / 0.3
    np.testing.assert_allclose(mask, expected, rtol=1e-6)
    np.testing.assert_allclose(out, x * expected, rtol=1e-6)


def test_dropconnect_gradients_and_test_mode():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))

    def f(x_, w_, b_):
        return norm.dropconnect_forward(x_, w_, b_, 0.6, "train", np.random.default_rng(2),
                                        affine_forward=norm.affine_forward)[0]

    _, cache = norm.dropconnect_forward(x, w, b, 0.6, "train", np.random.default_rng(2),
                                        affine_forward=norm.affine_forward)
    dx, dw, db = norm.dropconnect_backward(dout, cache, affine_backward=norm.affine_backward)
    assert_gradients_close(dx, eval_numerical_gradient_array(lambda v: f(v, w, b), x, dout), "dx")
    assert_gradients_close(dw, eval_numerical_gradient_array(lambda v: f(x, v, b), w, dout), "dw")
    assert_gradients_close(db, eval_numerical_gradient_array(lambda v: f(x, w, v), b, dout), "db")
    out, (_, _, _, mask) = norm.dropconnect_forward(x, w, b, 0.6, "test",
                                                    affine_forward=norm.affine_forward)
    assert mask is None
    np.testing.assert_allclose(out, x.reshape(4, -1) @ w + b)


def test_activation_pair_takes_a_name_or_a_pair_and_names_what_is_unknown():
    pair = norm.activation_pair("tanh", norm.ACTIVATIONS)
    assert pair == norm.ACTIVATIONS["tanh"] == norm.activation_pair(pair, norm.ACTIVATIONS)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        norm.activation_pair("swish", norm.ACTIVATIONS)


# --------------------------------------------------------------------------
# the checks reject what they should, and only that
# --------------------------------------------------------------------------

def _dropout_variant(kind):
    def fn(x, keep_prob, mode="train", rng=None):
        if mode == "test" or keep_prob == 1.0:
            return x, None
        if kind == "drop":
            mask = (rng.random(x.shape) < 1 - keep_prob) / keep_prob
        elif kind == "no rescale":
            mask = (rng.random(x.shape) < keep_prob) * 1.0
        elif kind == "global rng":
            mask = (np.random.random(x.shape) < keep_prob) / keep_prob
        else:   # another correct draw order: uniform numbers compared from above
            mask = (rng.random(x.shape) >= 1 - keep_prob) / keep_prob
        return x * mask, mask
    return fn


@pytest.mark.parametrize("kind, message", [
    ("drop", "fraction of units kept"), ("no rescale", "x / keep_prob"),
    ("global rng", "same seed")])
def test_dropout_check_catches_each_bug_with_its_own_message(kind, message):
    with pytest.raises(CheckFailed, match=message):
        nb.check_dropout_forward(_dropout_variant(kind))


def test_dropout_check_accepts_another_correct_way_of_drawing():
    nb.check_dropout_forward(_dropout_variant("other draw"))


def test_init_check_reports_extra_entries():
    class Extra(FullyConnectedNet):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.params["gamma9"] = np.ones(2)

    with pytest.raises(CheckFailed, match="should not have"):
        network.check_net_init(Extra)


def test_hyperparameter_format():
    good = {"hidden_dim": 64, "learning_rate": 1e-3, "reg": 0.0, "keep_prob": 1.0,
            "normalization": None, "num_epochs": 3}
    network.check_hyperparameters(lambda: good)
    for bad in ({**good, "keep_prob": 0.0}, {**good, "normalization": "batch"},
                {k: v for k, v in good.items() if k != "reg"}):
        with pytest.raises(CheckFailed):
            network.check_hyperparameters(lambda bad=bad: bad)
    assert "at most 100" in network.RECIPE.describe()


# --------------------------------------------------------------------------
# the Solver's loop-level regularizers
# --------------------------------------------------------------------------

class _Linear:
    """loss = mean of X @ W1 + b1 (a plain linear function, so the gradients are known)."""

    def __init__(self, W, b):
        self.params = {"W1": W.copy(), "b1": b.copy()}

    def loss(self, X, y=None):
        if y is None:
            return X @ self.params["W1"] + self.params["b1"]
        scores = X @ self.params["W1"] + self.params["b1"]
        return float(scores.mean()), {"W1": X.T @ np.full(scores.shape, 1 / scores.size),
                                      "b1": np.full(scores.shape[1], 1 / scores.shape[1])}


def test_l1_adds_its_term_and_its_subgradient_to_weights_only():
    rng = np.random.default_rng(5)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    X = rng.normal(size=(4, 3))
    data = {"X_train": X, "y_train": np.zeros(4, int), "X_val": X, "y_val": np.zeros(4, int)}
    model = _Linear(W, b)
    data_loss, grads = model.loss(X, np.zeros(4, int))
    solver = Solver(model, data, rng=np.random.default_rng(0), optim_config={"learning_rate": 0.1},
                    l1_reg=0.2, batch_size=4, num_epochs=0, progress=False)
    loss = solver.step(X, np.zeros(4, int))
    assert loss == pytest.approx(data_loss + 0.2 * np.abs(W).sum())
    np.testing.assert_allclose(model.params["W1"], W - 0.1 * (grads["W1"] + 0.2 * np.sign(W)))
    np.testing.assert_allclose(model.params["b1"], b - 0.1 * grads["b1"])


def test_max_norm_projects_long_columns_and_leaves_short_ones():
    W = np.array([[3.0, 0.1], [4.0, 0.2]])          # column norms 5 and ~0.22
    model = _Linear(W, np.zeros(2))
    X = np.zeros((1, 2))                            # zero data gradient for W
    data = {"X_train": X, "y_train": np.zeros(1, int), "X_val": X, "y_val": np.zeros(1, int)}
    solver = Solver(model, data, rng=np.random.default_rng(0), optim_config={"learning_rate": 0.1},
                    max_norm=1.0, batch_size=1, num_epochs=0, progress=False)
    solver.step(X, np.zeros(1, int))
    np.testing.assert_allclose(model.params["W1"][:, 0], [0.6, 0.8])
    np.testing.assert_allclose(model.params["W1"][:, 1], [0.1, 0.2])


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------

def test_gaussian_mixture_has_the_documented_shape_and_means():
    from assignments.data import make_gaussian_mixture

    X, y = make_gaussian_mixture(4000, 12, np.random.default_rng(6))
    assert X.shape == (4000, 12) and np.sum(y == 0) == 2000
    gap = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)
    # 2,000 points per class: the difference of means has std 0.032 per dimension
    assert np.all(np.abs(gap - 1.0) < 0.2)
    np.testing.assert_allclose(np.cov(X[y == 0].T), np.eye(12), atol=0.2)


def test_weight_recorder_trains_the_wrapped_model_and_records_every_step():
    rng = np.random.default_rng(7)
    data = _data(rng)
    net = FullyConnectedNet([8], input_dim=12, num_classes=3, rng=rng)
    start = net.params["W1"].ravel()[[0, 5, 7]].copy()
    rec = lab.WeightRecorder(net, {"W1": np.array([0, 5, 7])})
    solver = Solver(rec, data, rng=np.random.default_rng(8), batch_size=30, num_epochs=2,
                    progress=False).train()
    paths = rec.paths("W1")
    assert paths.shape == (solver.iteration, 3)
    np.testing.assert_array_equal(paths[0], start)
    assert not np.array_equal(paths[0], paths[-1])
    assert rec.params is net.params
    np.testing.assert_array_equal(rec.last["W1"].ravel()[[0, 5, 7]], paths[-1])


def test_recalibrated_statistics_are_those_of_the_test_time_inputs():
    rng = np.random.default_rng(9)
    net = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                            keep_prob=0.5, rng=rng)
    X = rng.normal(size=(50, 4)) * 2 + 1
    state = lab.recalibrate_batchnorm(net, X, norm.affine_forward, norm.hidden_block_forward,
                                      batch_size=7)
    assert set(state) == set(net.state)
    inputs = lab.normalization_inputs(net, X, norm.affine_forward, norm.hidden_block_forward,
                                      state=state)
    for i, a in enumerate(inputs, 1):
        np.testing.assert_allclose(state[f"running_mean{i}"], a.mean(axis=0), rtol=1e-10)
        np.testing.assert_allclose(state[f"running_var{i}"], a.var(axis=0), rtol=1e-10)
    acc, loss = lab.accuracy_and_loss(net, X, rng.integers(0, 3, size=50), norm.softmax_loss,
                                      state)
    assert 0 <= acc <= 1 and loss > 0
    assert net.state is not state


def test_ensemble_accuracy_equals_test_mode_without_dropout_and_refuses_batch_norm():
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, size=40)
    net = FullyConnectedNet([7], input_dim=5, num_classes=3, rng=rng)
    acc = lab.ensemble_accuracy(net, X, y, 3, np.random.default_rng(0))
    test_acc = np.mean(np.argmax(net.loss(X), axis=1) == y)
    np.testing.assert_allclose(acc, test_acc)
    bn = FullyConnectedNet([7], input_dim=5, num_classes=3, normalization="batchnorm", rng=rng)
    with pytest.raises(ValueError, match="without batch norm"):
        lab.ensemble_accuracy(bn, X, y, 2, np.random.default_rng(0))


def test_near_zero_fraction_and_helpers():
    params = {"W1": np.array([[0.0, 1e-4], [0.5, -2.0]]), "b1": np.zeros(5)}
    assert lab.near_zero_fraction(params, 1e-3) == 0.5
    x = lab.skewed_features(1000, np.random.default_rng(11))
    assert x.shape == (1000, 8) and np.all(np.diff(x.mean(axis=0)) > 0)
    d = lab.first_images({"X_train": np.zeros((5, 2)), "y_train": np.zeros(5),
                          "X_val": np.zeros((4, 2)), "y_val": np.zeros(4)}, 3, 2)
    assert len(d["X_train"]) == 3 and len(d["y_val"]) == 2


def test_every_plot_draws_and_prints(capsys):
    rng = np.random.default_rng(12)
    data = _data(rng)
    runs = {}
    for name, keep in (("a", 1.0), ("b", 0.5)):
        net = FullyConnectedNet([6], input_dim=12, num_classes=3, keep_prob=keep, rng=rng)
        runs[name] = Solver(net, data, rng=np.random.default_rng(1), batch_size=30,
                            num_epochs=1, progress=False).train()
    recs = {"x": lab.WeightRecorder(runs["a"].model, {"W1": np.arange(3)})}
    recs["x"].history["W1"] = [np.zeros(3), np.ones(3)]
    figs = [
        lab.plot_feature_statistics({"p": rng.normal(size=(20, 3))},
                                    {"p": (np.zeros(3), np.ones(3))}),
        lab.plot_backward_timing({"slow": 2e-3, "fast": 1e-3}).figure,
        lab.plot_scale_sweep([1e-2, 1e-1], {"v": [dict(best_val_acc=0.2, best_train_acc=0.3,
                                                       final_loss=2.0)] * 2}, 0.5),
        lab.plot_accuracy_bars({"a": {"train": 0.9, "val": 0.8}}, "t"),
        lab.plot_dropout_moments(np.abs(rng.normal(size=10)), rng.normal(size=(50, 10)), 0.5),
        lab.plot_variance_shift([np.ones(4)], [np.full(4, 0.5)], ["BN 1"], {"a": 0.8, "b": 0.7}),
        lab.plot_ensemble({"a": np.array([0.5, 0.6])}, {"a": 0.62}),
        lab.plot_weight_paths(recs, "W1", 1),
        lab.plot_weight_histograms({"a": rng.normal(size=50)}, 1e-3, "t"),
        lab.plot_reg_sweep(runs),
    ]
    out = capsys.readouterr().out
    for text in ("largest |mean - target|", "speed-up", "best validation accuracy >=", "gap", "median",
                 "test mode", "at the end", "|w| < 0.001"):
        assert text in out, text
    for fig in figs:
        plt.close(fig)


def test_visible_cases_run_through_run_cases_with_the_student_names():
    # the block checks resolve the student's function by name in the given namespace
    run_cases(None, network.block_forward_cases()[:1], name="hidden_block_forward",
              namespace={"hidden_block_forward": norm.hidden_block_forward}, quiet=True)
