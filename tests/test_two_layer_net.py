"""Notebook 3's helper modules: visible checks, adapters, data, pictures; the grader's recipe.

Regression tests for issue 9: a correct __init__ with another draw order passes for every
seed; the open gradient check of the losses (section 2.5) passes correct code on any seed.
Delegation to the course's reference is tested in tests/test_delegation.py.
"""

import io
import types
import contextlib

import matplotlib.pyplot as plt
import numpy as np
import pytest

from assignments import adapters
from assignments import layers as library
from assignments.cases import CheckFailed
from assignments.data import make_spiral, prepare_data
from assignments.gradcheck import assert_gradients_close, eval_numerical_gradient
from assignments.notebooks import two_layer_net as T
from assignments.notebooks import two_layer_net_model as M
from assignments.notebooks import two_layer_net_plots as P
from assignments.solver import predict
from assignments.vis import plot_decision_regions
from course_answers import answers, blocks_of

# notebook 3's answers (their one home: the source notebook) and the library's activations
_NB3 = answers("03_two_layer_net")
layers = types.SimpleNamespace(
    **vars(_NB3), **{k: getattr(library, k) for k in library.__all__},
    ACTIVATIONS=library.activations((_NB3.relu_forward, _NB3.relu_backward),
                                    (_NB3.sigmoid_forward, _NB3.sigmoid_backward)))


@pytest.fixture(scope="module")
def ref():
    from autograder.notebooks import reference_namespace

    return reference_namespace("03_two_layer_net")


@pytest.mark.parametrize("name", ["affine_forward", "affine_backward", "relu_forward",
                                  "relu_backward", "sigmoid_forward", "sigmoid_backward",
                                  "softmax_loss", "svm_loss"])
def test_visible_checks_pass_the_library_layers(name):
    getattr(T, f"check_{name}")(getattr(layers, name))


def test_visible_checks_reject_a_wrong_layer():
    def relu_backward_at_zero(dout, cache):
        return dout * (cache >= 0)

    with pytest.raises(CheckFailed, match="x == 0"):
        T.check_relu_backward(relu_backward_at_zero)


def test_network_checks_pass_the_reference(ref):
    M.check_two_layer_init(ref["TwoLayerNet"])
    M.check_two_layer_loss(ref["TwoLayerNet"])
    M.check_hyperparameters(ref["chosen_hyperparameters"])


def _namespace_with_broken_layers():
    """A class defined in its own namespace whose layer names point at broken functions."""
    ns = {"np": np}
    exec("""
def affine_forward(x, w, b):
    raise RuntimeError("broken student layer")

class Net:
    def __init__(self, D, H, C, weight_scale=1e-3, reg=0.0, rng=None, activation=None):
        self.params = {"W1": np.zeros((D, H)), "b1": np.zeros(H),
                       "W2": np.zeros((H, C)), "b2": np.zeros(C)}
        self.reg = reg
        self.activation = activation

    def loss(self, X, y=None):
        a, c1 = affine_forward(X, self.params["W1"], self.params["b1"])
        h, c2 = relu_forward(a)
        s, c3 = affine_forward(h, self.params["W2"], self.params["b2"])
        if y is None:
            return s
        raise RuntimeError("not needed")
""", ns)
    return ns


def test_building_blocks_swap_and_restore_the_names():
    ns = _namespace_with_broken_layers()
    broken = ns["affine_forward"]
    params, X, _ = M.toy_net()
    args, kwargs = M.net_args(params)
    with blocks_of("03_two_layer_net"):   # as the grader hands them to a model's check
        scores = adapters.model_scores(ns["Net"], args, kwargs, params, X)
        np.testing.assert_allclose(scores, M.TOY_SCORES)
        assert ns["affine_forward"] is broken
        assert "relu_forward" not in ns  # names that did not exist are removed again
        with pytest.raises(RuntimeError, match="not needed"):
            adapters.model_loss(ns["Net"], args, kwargs, params, X, np.array([0, 1]))
    assert ns["affine_forward"] is broken


def test_adapters_return_plain_data(ref):
    params, X, y = M.toy_net()
    args, kwargs = M.net_args(params, 0.1)
    loss, grads, state = adapters.model_loss(ref["TwoLayerNet"], args, kwargs, params, X, y)
    assert isinstance(grads, dict) and set(grads) == set(params) and state == {}
    assert loss == pytest.approx(M.TOY_LOSS + 1.3)
    (first, _), (again, _), (other, _) = adapters.model_init(ref["TwoLayerNet"], (6, 4, 3),
                                                             {"weight_scale": 0.1}, (0, 0, 1))
    assert all(isinstance(v, np.ndarray) for v in first.values())
    np.testing.assert_array_equal(first["W1"], again["W1"])
    assert not np.array_equal(first["W1"], other["W1"])


def test_init_check_accepts_any_draw_order(ref):
    """A correct __init__ that draws W2 before W1 passes for every seed (issue: seed luck)."""
    ns = {"np": np}
    exec("""
class Net:
    def __init__(self, D, H, C, weight_scale=1e-3, reg=0.0, rng=None, activation=None):
        W2 = weight_scale * rng.standard_normal((H, C))
        W1 = weight_scale * rng.standard_normal((D, H))
        self.params = {"W1": W1, "b1": np.zeros(H), "W2": W2, "b2": np.zeros(C)}
""", ns)
    from assignments.cases import run_cases
    from autograder import tasks

    task = tasks.load("03_two_layer_net").tasks["two_layer_init"]
    for seed in range(60):
        cases = tasks.all_cases(task, ref, seed)
        run_cases(None, cases, name="TwoLayerNet", namespace={"TwoLayerNet": ns["Net"]},
                  quiet=True)


def test_prepare_data_centres_on_the_training_mean():
    from assignments.data import load_dataset

    data = prepare_data(load_dataset("fashion_mnist_small"), 500, 200,
                          np.random.default_rng(0), num_test=100)
    assert data["X_train"].shape == (500, 1, 28, 28)
    assert data["X_val"].shape == (200, 1, 28, 28) and data["X_test"].shape == (100, 1, 28, 28)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-12)
    assert data["X_train"].dtype == np.float64
    assert data["mean_image"].shape == (1, 28, 28)
    assert np.abs(data["X_val"].mean()) < 0.05


def test_spiral_and_pictures_print_their_numbers(ref):
    from assignments import monitor
    from assignments.solver import Solver

    rng = np.random.default_rng(0)
    X, y = make_spiral(30, 3, rng)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    runs = {}
    for name, pair in (("relu", None), ("sigmoid", layers.ACTIVATIONS["sigmoid"])):
        net = ref["TwoLayerNet"](2, 8, 3, weight_scale=0.5, reg=0.0,
                                 rng=np.random.default_rng(1), activation=pair)
        runs[name] = Solver(net, data, rng=np.random.default_rng(2),
                            optim_config={"learning_rate": 0.5}, batch_size=30, num_epochs=3,
                            progress=False).train()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        monitor.plot_training(runs["relu"], "relu")
        monitor.compare_runs(runs)
        monitor.plot_update_ratios(runs["relu"])
        monitor.plot_gradient_magnitudes(runs)
        local = {n: P.hidden_layer(r.model.params, X, layers.ACTIVATIONS[n],
                                   layers.affine_forward)[1]
                 for n, r in runs.items()}
        monitor.plot_local_gradients(local)
        monitor.plot_activation_functions(layers.ACTIVATIONS)
        monitor.show_weights(runs["relu"].model.params["W1"], (1, 2, 1))
        plot_decision_regions({"relu": lambda P: predict(runs["relu"].model, P)}, X, y)
    plt.close("all")
    text = out.getvalue()
    for expected in ("best val", "median update ratio", "W1 / W2", "% dead units", "max slope"):
        assert expected in text


def test_grader_recipe_separates_good_from_bad_hyperparameters(ref):
    import functools

    train = functools.partial(M.train_two_layer, ref["TwoLayerNet"])
    good = ref["chosen_hyperparameters"]()
    floor = M.RECIPE.min_val_acc
    assert M.RECIPE.validation_accuracy(good, train) >= floor
    assert M.RECIPE.validation_accuracy({**good, "learning_rate": 0.005}, train) < floor


# --------------------------------------------------------------------------
# issue 9: the open gradient checks, delegation, experiments
# --------------------------------------------------------------------------

def _softmax_other_formula(scores, y):
    """A correct softmax loss that rounds differently from the reference."""
    log_probs = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    N = len(y)
    probs = np.exp(log_probs)
    onehot = np.zeros_like(scores)
    onehot[np.arange(N), y] = 1.0
    return float(-np.sum(log_probs * onehot) / N), (probs - onehot) / N


def test_open_loss_gradient_check_passes_correct_code_on_any_seed(capsys):
    """Section 2.5's cell: scores N(0, 2^2) of shape (8, 5), tol 1e-6, on 300 seeds."""
    unfloored_failures = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        scores, labels = rng.normal(size=(8, 5)) * 2, rng.integers(0, 5, size=8)
        for loss_fn in (_softmax_other_formula, layers.softmax_loss, layers.svm_loss):
            T.check_loss_gradient(loss_fn, scores, labels, tol=1e-6)
        try:   # the check without a floor (the plain relative error) is not seed-proof
            num = eval_numerical_gradient(lambda s: _softmax_other_formula(s, labels)[0],
                                          scores.copy())
            assert_gradients_close(_softmax_other_formula(scores, labels)[1], num, "d", 1e-6,
                                   floor=1e-30)
        except CheckFailed:
            unfloored_failures += 1
    capsys.readouterr()
    assert unfloored_failures > 0


def test_open_gradient_checks_stop_a_wrong_backward(capsys):
    rng = np.random.default_rng(0)
    x, w, b, dout = (rng.normal(size=(3, 2, 2)), rng.normal(size=(4, 5)), rng.normal(size=5),
                     rng.normal(size=(3, 5)))
    T.check_layer_gradients(layers.affine_forward, layers.affine_backward, (x, w, b), dout,
                            names=("dx", "dw", "db"))
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == \
        ["dx", "dw", "db"]

    def db_averaged(dout, cache):
        dx, dw, db = layers.affine_backward(dout, cache)
        return dx, dw, db / len(dout)

    with pytest.raises(CheckFailed, match="db disagrees"):
        T.check_layer_gradients(layers.affine_forward, db_averaged, (x, w, b), dout,
                                names=("dx", "dw", "db"))

    def half(scores, y):
        loss, d = layers.softmax_loss(scores, y)
        return loss, d / 2

    with pytest.raises(CheckFailed, match="dscores disagrees"):
        T.check_loss_gradient(half, rng.normal(size=(4, 3)), np.array([0, 1, 2, 0]))
    capsys.readouterr()


def test_train_net_is_the_solver_with_the_notebook_settings(ref):
    from assignments.solver import Solver

    rng = np.random.default_rng(0)
    X, y = make_spiral(20, 3, rng)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    run = M.train_net(ref["TwoLayerNet"], data, hidden_dim=6, learning_rate=0.3, num_epochs=2,
                      seed=4)
    net = ref["TwoLayerNet"](2, 6, 3, weight_scale=M.TRAINING_DEFAULTS["weight_scale"],
                             rng=np.random.default_rng(4))
    np.testing.assert_array_equal(run.initial_params["W1"], net.params["W1"])
    by_hand = Solver(net, data, rng=np.random.default_rng(5), optim_config={"learning_rate": 0.3},
                     lr_decay=M.TRAINING_DEFAULTS["lr_decay"],
                     batch_size=M.TRAINING_DEFAULTS["batch_size"], num_epochs=2,
                     progress=False).train()
    np.testing.assert_array_equal(run.model.params["W2"], by_hand.model.params["W2"])


def test_experiment_pictures_print_their_numbers(ref):
    rng = np.random.default_rng(0)
    X, y = make_spiral(20, 3, rng)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    acts = {"relu": layers.ACTIVATIONS["relu"], "sigmoid x 50": layers.ACTIVATIONS["sigmoid"]}
    runs = {name: M.train_net(ref["TwoLayerNet"], data, hidden_dim=5, learning_rate=0.5,
                              num_epochs=2, activation=pair,
                              w1_gain=50.0 if "50" in name else 1.0)
            for name, pair in acts.items()}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        P.plot_activation_experiment(runs, acts, X, layers.affine_forward)
        P.plot_capacity({8: (0.9, 0.8), 32: (1.0, 0.82)}, 500)
    plt.close("all")
    text = out.getvalue()
    for expected in ("W1 moved by", "hidden std", "% dead units", "W1 / W2", "+0.180"):
        assert expected in text, expected
