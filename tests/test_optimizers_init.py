"""Notebook 4's pieces: its answers (update rules, init_weights, FullyConnectedNet: their one
home is the source notebook) and the faster blocked rules of assignments.fast.optim against
the plain formulas, schedules, the Gaussian mixture, the visible checks and adapters of
assignments.notebooks.optimizers_init, and its pictures."""

import copy

import numpy as np
import pytest

from assignments import schedules
from assignments.fast import optim as fast
from assignments.optim import sgd
from assignments.cases import CheckFailed
from assignments.data import make_gaussian_mixture
from assignments.notebooks import optimizers_init as nb
from assignments.notebooks import optimizers_init_network as network
from assignments.notebooks import optimizers_init_plots as plots
from course_answers import answers

NB4 = answers("04_optimizers_init")
FullyConnectedNet, init_weights = NB4.FullyConnectedNet, NB4.init_weights
ANSWERED = ("sgd_momentum", "rmsprop", "adam")          # the notebook's update-rule tasks
RULE_FUNCS = {"sgd": sgd, **fast.RULES, **{f"notebook {n}": getattr(NB4, n) for n in ANSWERED}}
RULES = sorted(RULE_FUNCS)


# --------------------------------------------------------------------------
# the reference rules: pure, same numbers as the plain formulas, dtypes kept
# --------------------------------------------------------------------------

def plain(name, w, dw, c):
    """The rules written the plain way (the notebook's formulas)."""
    name = name.replace("notebook ", "")
    c = dict(c or {})
    zeros = np.zeros_like(w)
    if name == "sgd":
        c = {"learning_rate": 1e-2, **c}
        return w - c["learning_rate"] * dw, c
    if name in ("sgd_momentum", "nesterov_momentum"):
        c = {"learning_rate": 1e-2, "momentum": 0.9, **c}
        mu, v = c["momentum"], c.get("velocity", zeros)
        v_next = mu * v - c["learning_rate"] * dw
        w_next = w + v_next if name == "sgd_momentum" else w - mu * v + (1 + mu) * v_next
        return w_next, {**c, "velocity": v_next}
    if name in ("adagrad", "rmsprop"):
        c = {"learning_rate": 1e-2, "epsilon": 1e-8, **c}
        if name == "rmsprop":
            c = {"decay_rate": 0.99, **c}
        cache = c.get("cache", zeros)
        if name == "adagrad":
            cache = cache + dw * dw
        else:
            cache = c["decay_rate"] * cache + (1 - c["decay_rate"]) * dw * dw
        return w - c["learning_rate"] * dw / (np.sqrt(cache) + c["epsilon"]), {**c, "cache": cache}
    c = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, **c}
    t = c.get("t", 0) + 1
    m = c["beta1"] * c.get("m", zeros) + (1 - c["beta1"]) * dw
    v = c["beta2"] * c.get("v", zeros) + (1 - c["beta2"]) * dw * dw
    step = c["learning_rate"] * (m / (1 - c["beta1"] ** t)) / (
        np.sqrt(v / (1 - c["beta2"] ** t)) + c["epsilon"])
    return w - step, {**c, "m": m, "v": v, "t": t}


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("shape", [(3,), (5, 7), (fast.BLOCK + 5,), (2, fast.BLOCK + 3)])
def test_reference_rules_match_the_plain_formulas_over_several_steps(name, shape):
    rng = np.random.default_rng(0)
    w = rng.normal(size=shape)
    a, b, ca, cb = w, w, None, None
    for _ in range(4):
        dw = rng.normal(size=shape)
        a, ca = RULE_FUNCS[name](a, dw, ca)
        b, cb = plain(name, b, dw, cb)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for key, value in ca.items():
        np.testing.assert_allclose(value, cb[key], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", RULES)
def test_reference_rules_are_pure_and_keep_float32(name):
    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    dw = rng.normal(size=(4, 3)).astype(np.float32)
    _, config = RULE_FUNCS[name](w, dw, {"learning_rate": 0.1})
    config = {k: (v.astype(np.float32) if isinstance(v, np.ndarray) else v)
              for k, v in config.items()}
    saved = copy.deepcopy((w, dw, config))
    next_w, next_config = RULE_FUNCS[name](w, dw, config)
    np.testing.assert_array_equal(w, saved[0])
    np.testing.assert_array_equal(dw, saved[1])
    assert set(config) == set(saved[2])
    for k, v in saved[2].items():
        np.testing.assert_array_equal(config[k], v)
    assert next_w.dtype == np.float32
    assert next_config is not config and next_w is not w
    assert all(v.dtype == np.float32 for v in next_config.values() if isinstance(v, np.ndarray))


def test_reference_rules_refuse_mismatched_shapes_and_states():
    with pytest.raises(ValueError, match="same shape"):
        fast.adam(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="velocity"):
        fast.sgd_momentum(np.zeros(3), np.zeros(3), {"velocity": np.zeros(2)})
    with pytest.raises(TypeError, match="config"):
        fast.rmsprop(np.zeros(3), np.zeros(3), [("learning_rate", 1.0)])


def test_reference_rules_accept_non_contiguous_parameters():
    rng = np.random.default_rng(2)
    w, dw = rng.normal(size=(6, 5)).T, rng.normal(size=(6, 5)).T
    got, _ = fast.adam(w, dw, {"learning_rate": 0.1})
    want, _ = plain("adam", w, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(got, want, rtol=1e-12)


# --------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------

def test_schedules_formulas():
    assert [schedules.step_decay(every=3, factor=0.5)(t) for t in range(7)] == \
        [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert schedules.exponential_decay(k=0.1)(10) == pytest.approx(np.exp(-1.0))
    assert schedules.inverse_time_decay(k=0.5)(4) == pytest.approx(1 / 3)
    cos = schedules.cosine_decay(total=10, floor=0.1)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.55) and cos(10) == pytest.approx(0.1)
    assert cos(50) == pytest.approx(0.1)
    assert schedules.constant()(123) == 1.0
    f = schedules.factors(schedules.inverse_time_decay(k=1.0), 4)
    np.testing.assert_allclose(f, [1, 1 / 2, 1 / 3, 1 / 4])


@pytest.mark.parametrize("bad", [lambda: schedules.step_decay(every=0),
                                 lambda: schedules.step_decay(every=2, factor=1.5),
                                 lambda: schedules.exponential_decay(k=-1),
                                 lambda: schedules.cosine_decay(total=0)])
def test_schedules_refuse_bad_settings(bad):
    with pytest.raises(ValueError):
        bad()


def test_schedules_refuse_negative_iterations_and_are_data():
    with pytest.raises(ValueError, match="from 0"):
        schedules.exponential_decay(k=0.1)(-1)
    assert schedules.step_decay(4, 0.5) == schedules.step_decay(4, 0.5)
    assert "every=4" in repr(schedules.step_decay(4, 0.5))


def test_the_solver_applies_a_schedule_per_iteration():
    from assignments.solver import Solver

    rng = np.random.default_rng(3)
    data = {"X_train": rng.normal(size=(40, 6)), "y_train": rng.integers(0, 3, 40),
            "X_val": rng.normal(size=(10, 6)), "y_val": rng.integers(0, 3, 10)}
    net = FullyConnectedNet([5], 6, 3, rng=np.random.default_rng(4))
    solver = Solver(net, data, rng=np.random.default_rng(5), update_rule="sgd",
                    optim_config={"learning_rate": 0.2},
                    lr_schedule=schedules.step_decay(every=3, factor=0.5), batch_size=10,
                    num_epochs=2, progress=False).train()
    np.testing.assert_allclose(solver.learning_rate_history,
                               [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])


# --------------------------------------------------------------------------
# the Gaussian mixture
# --------------------------------------------------------------------------

def test_gaussian_mixture_shapes_balance_and_means():
    X, y = make_gaussian_mixture(2000, 12, np.random.default_rng(6))
    assert X.shape == (2000, 12) and y.shape == (2000,) and set(np.unique(y)) == {0, 1}
    assert np.sum(y == 0) == 1000
    gap = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)
    assert np.all(np.abs(gap - 1.0) < 0.25)       # 1000 points per class: std of a mean ~0.03
    X2, y2 = make_gaussian_mixture(2000, 12, np.random.default_rng(6))
    np.testing.assert_array_equal(X, X2)
    cov = np.diag(np.arange(1.0, 4.0))
    X3, y3 = make_gaussian_mixture(3000, 3, np.random.default_rng(7), separation=2.0, cov=cov)
    np.testing.assert_allclose(np.var(X3[y3 == 0], axis=0), [1, 2, 3], rtol=0.15)
    with pytest.raises(ValueError):
        make_gaussian_mixture(10, 3, np.random.default_rng(0), cov=np.eye(2))


# --------------------------------------------------------------------------
# visible checks: the references pass, typical bugs fail with a clear message
# --------------------------------------------------------------------------

@pytest.mark.parametrize("rule", list(nb.RULE_DEFAULTS))
def test_visible_rule_checks_pass_the_library_rules(rule, capsys):
    getattr(nb, f"check_{rule}")(getattr(NB4, rule))
    assert f"passed {len(nb.rule_cases(rule))} checks" in capsys.readouterr().out


def test_run_steps_reports_in_place_changes_and_dtype_changes():
    def in_place(w, dw, config=None):
        config = config or {}
        v = config.get("velocity", np.zeros_like(w))
        v *= 0.9
        v -= 0.01 * dw
        return w + v, {**config, "velocity": v}

    def setdefault(w, dw, config=None):
        config.setdefault("learning_rate", 1e-2)
        return w - config["learning_rate"] * dw, config

    def to_float64(w, dw, config=None):
        return (w - 0.01 * dw).astype(np.float64), dict(config or {})

    w = np.ones(3)
    with pytest.raises(CheckFailed, match=r"step 2: .* changed its input config\['velocity'\]"):
        nb.run_steps(in_place, w, [np.ones(3)] * 2, {})
    with pytest.raises(CheckFailed, match="keys added: 'learning_rate'"):
        nb.run_steps(setdefault, w, [np.ones(3)], {})
    with pytest.raises(CheckFailed, match="dtype float32 but next_w has dtype float64"):
        nb.run_steps(to_float64, w.astype(np.float32), [np.ones(3, np.float32)], None)


def test_visible_checks_pass_the_library_init_and_network(capsys):
    nb.check_init_weights(init_weights)
    network.check_fc_init(FullyConnectedNet)
    network.check_fc_loss(FullyConnectedNet)
    out = capsys.readouterr().out
    assert "init_weights passed 6" in out and "__init__ passed 3" in out and "loss passed 6" in out


def test_init_check_explains_a_wrong_formula_and_a_wrong_draw_order():
    def fan_out_xavier(fan_in, fan_out, scheme, rng, scale=None, dtype=np.float64):
        if scheme == "xavier":
            return (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_out)).astype(dtype)
        return init_weights(fan_in, fan_out, scheme, rng, scale, dtype)

    def transposed(fan_in, fan_out, scheme, rng, scale=None, dtype=np.float64):
        return init_weights(fan_out, fan_in, scheme, rng, scale, dtype).T.copy()

    with pytest.raises(CheckFailed, match=r"std = 1 / sqrt\(fan_in\) = 0.05, but its standard"):
        nb.check_init_weights(fan_out_xavier)
    with pytest.raises(CheckFailed, match="spread is right but the numbers are not"):
        nb.check_init_weights(transposed)


def test_recipe_describes_itself_and_refuses_bad_values():
    assert "num_layers at most 4" in network.RECIPE.describe()
    good = {"update_rule": "adam", "learning_rate": 1e-3, "reg": 0.0, "init": "he",
            "hidden_dim": 10, "num_layers": 2, "num_epochs": 1}
    network.RECIPE.verify_format(good)
    with pytest.raises(CheckFailed, match="update_rule must be one of"):
        network.RECIPE.verify_format({**good, "update_rule": "lbfgs"})
    assert network.RECIPE.settings({**good, "hidden_dim": 500})["hidden_dim"] == 64


# --------------------------------------------------------------------------
# the pictures draw and print their numbers
# --------------------------------------------------------------------------

@pytest.fixture
def plt():
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_surfaces_gradients_match_numerical_ones():
    from assignments.gradcheck import eval_numerical_gradient

    for surface in plots.SURFACES.values():
        p = np.array([0.3, -0.7])
        np.testing.assert_allclose(surface.grad(p), eval_numerical_gradient(surface.f, p.copy()),
                                   rtol=1e-6)
        assert surface.f(np.array(surface.start)) > surface.f_min


def test_descend_stops_when_a_rule_diverges():
    path, diverged = plots.descend(sgd, plots.SURFACES["rosenbrock"],
                                   {"learning_rate": 1.0}, 50)
    assert diverged and np.all(np.isfinite(path))
    path, diverged = plots.descend(sgd, plots.SURFACES["bowl"], {"learning_rate": 0.5}, 20)
    assert not diverged and path.shape == (21, 2)


def test_sweep_heatmaps_and_trajectories_print_their_numbers(plt, capsys):
    rules = {"sgd": sgd, "adam": NB4.adam}
    lrs = np.logspace(-3, 0, 4)
    tables = {k: plots.lr_sweep(rules, s, lrs, 20) for k, s in plots.SURFACES.items()}
    assert all(t.shape == (2, 4) for t in tables.values())
    plots.plot_lr_heatmaps(tables, list(rules), lrs, 20)
    plots.plot_trajectories(rules, plots.SURFACES, 20,
                            plots.best_learning_rates(tables, list(rules), lrs))
    out = capsys.readouterr().out
    assert "learning rates that reach" in out and "f - min f after 20 steps" in out
    assert "rosenbrock" in out


def test_activation_grid_and_gradient_norms_print_their_numbers(plt, capsys):
    X = np.random.default_rng(8).normal(size=(50, 20))
    acts = {"tanh": NB4.ACTIVATIONS["tanh"], "relu": NB4.ACTIVATIONS["relu"]}
    plots.plot_activation_grid(X, acts, {"xavier": ("xavier", None),
                                         "std 1": ("gaussian", 1.0)}, 3, 10, init_weights)
    norms = plots.gradient_norms_at_init(
        FullyConnectedNet, {"relu he": dict(hidden_dims=[10] * 3, input_dim=20, num_classes=3)}, X,
        np.random.default_rng(9).integers(0, 3, 50))
    assert norms["relu he"].shape == (4,)
    plots.plot_gradient_norms(norms)
    out = capsys.readouterr().out
    assert "std / %sat" in out and "first/last" in out


def test_column_spread_is_zero_for_equal_units():
    assert plots.column_spread(np.full((4, 3), 0.2)) == 0.0
    assert plots.column_spread(np.eye(3)) > 0


def test_snapshots_and_weight_convergence(plt, capsys):
    rng = np.random.default_rng(10)
    X, y = make_gaussian_mixture(60, 4, rng)
    data = {"X_train": X[:40], "y_train": y[:40], "X_val": X[40:], "y_val": y[40:]}
    net = FullyConnectedNet([5, 5], 4, 2, rng=np.random.default_rng(11))
    start = net.params["W1"].copy()
    solver, snaps = plots.train_with_snapshots(net, data, rng=np.random.default_rng(12),
                                               update_rule="sgd",
                                               optim_config={"learning_rate": 0.1},
                                               batch_size=10, num_epochs=3, progress=False)
    assert len(snaps) == 4 and np.array_equal(snaps[0]["W1"], start)
    assert not np.array_equal(snaps[1]["W1"], snaps[0]["W1"])
    assert plots.relative_changes(snaps, ["W1", "W2", "W3"]).shape == (3, 3)
    plots.plot_weight_convergence(snaps, num=5)
    assert "settled after" in capsys.readouterr().out


def test_schedule_plot_prints_the_learning_rates(plt, capsys):
    plots.plot_schedules({"1/t": schedules.inverse_time_decay(k=1.0)}, 8, base_lr=0.1)
    out = capsys.readouterr().out
    assert "1.00e-01" in out and "1.25e-02" in out
