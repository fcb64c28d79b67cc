"""The model protocol: the course's FullyConnectedNet (notebook 5's answer), its state, the
Solver around it, the model gradient check and the adapters that swap in the building
blocks."""

import copy

import numpy as np
import pytest

from assignments import adapters
from assignments.fast import optim as fast_optim
from assignments.optim import sgd
from assignments.cases import CheckFailed
from assignments.gradcheck import check_model_gradients, model_gradients
from assignments.solver import Solver, call_loss, load_checkpoint, predict
from course_answers import answers, blocks_of

normalization = answers("05_batchnorm_dropout")
FullyConnectedNet = normalization.FullyConnectedNet
init_weights = normalization.init_weights
RULES = {"sgd": sgd, **{name: getattr(answers("04_optimizers_init"), name)
                       for name in ("sgd_momentum", "rmsprop", "adam")}}
RULES.update({f"fast {name}": fast_optim.RULES[name] for name in fast_optim.RULES})


def _data(rng, n=120, d=12, c=3):
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    return {"X_train": X[:90], "y_train": y[:90], "X_val": X[90:], "y_val": y[90:]}


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep_prob", [1.0, 0.7])
def test_every_gradient_of_the_reference_net_matches(normalization, keep_prob):
    rng = np.random.default_rng(0)
    net = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, activation="tanh",
                            init="gaussian", weight_scale=0.5, reg=0.1,
                            normalization=normalization, keep_prob=keep_prob, rng=rng)
    X, y = rng.normal(size=(7, 6)), rng.integers(0, 3, size=7)
    errors = check_model_gradients(net, X, y, tol=1e-6, verbose=False)
    assert set(errors) == set(net.params)


def test_the_model_owns_its_state_and_the_gradient_check_restores_it():
    rng = np.random.default_rng(1)
    net = FullyConnectedNet([8], input_dim=4, num_classes=2, normalization="batchnorm", rng=rng)
    before = copy.deepcopy(net.state)
    X, y = rng.normal(size=(10, 4)) + 3.0, rng.integers(0, 2, size=10)
    model_gradients(net, X, y)
    assert all(np.array_equal(before[k], net.state[k]) for k in before)
    call_loss(net, X, mode="test")                    # test mode: state untouched
    assert all(np.array_equal(before[k], net.state[k]) for k in before)
    old_arrays = {k: v for k, v in net.state.items()}
    call_loss(net, X, y, mode="train")                # train mode: new arrays, old ones intact
    np.testing.assert_allclose(net.state["running_mean1"],
                               0.1 * (X @ net.params["W1"]).mean(axis=0), rtol=1e-10)
    assert all(np.array_equal(old_arrays[k], before[k]) for k in before)


def test_dropout_is_reproducible_from_its_generator_and_off_in_test_mode():
    rng = np.random.default_rng(2)
    net = FullyConnectedNet([6], input_dim=3, num_classes=2, keep_prob=0.5, rng=rng)
    X, y = rng.normal(size=(4, 3)), np.array([0, 1, 0, 1])
    a = net.loss(X, y, rng=np.random.default_rng(5))[0]
    b = net.loss(X, y, rng=np.random.default_rng(5))[0]
    assert a == b
    np.testing.assert_array_equal(net.loss(X), net.loss(X, mode="test"))


def test_float32_nets_stay_float32():
    rng = np.random.default_rng(3)
    net = FullyConnectedNet([5], input_dim=4, num_classes=3, dtype=np.float32, rng=rng)
    loss, grads = net.loss(rng.normal(size=(6, 4)), rng.integers(0, 3, size=6))
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in net.params.values())


def test_a_model_with_state_round_trips_through_a_checkpoint(tmp_path):
    rng = np.random.default_rng(4)
    data = _data(rng)
    net = FullyConnectedNet([10], input_dim=12, num_classes=3, normalization="batchnorm",
                            keep_prob=0.8, rng=rng)
    solver = Solver(net, data, rng=np.random.default_rng(5), update_rule=RULES["adam"],
                    optim_config={"learning_rate": 1e-2}, batch_size=30, num_epochs=3,
                    checkpoint_name=str(tmp_path / "run"), progress=False)
    solver.train()
    saved = load_checkpoint(tmp_path / "run_epoch_3.npz")
    assert set(saved["state"]) == {"running_mean1", "running_var1"}
    assert saved["optim_configs"]["W1"]["t"] == 9
    fresh = FullyConnectedNet([10], input_dim=12, num_classes=3, normalization="batchnorm",
                              keep_prob=0.8, rng=np.random.default_rng(0))
    fresh.params, fresh.state = saved["params"], saved["state"]
    # the checkpoint of the last epoch holds that epoch's weights and running averages
    last = Solver(fresh, data, rng=np.random.default_rng(6), num_epochs=0, progress=False)
    assert last.check_accuracy(data["X_val"], data["y_val"]) == pytest.approx(
        solver.val_acc_history[-1])


def test_training_ends_with_the_best_parameters_and_their_state():
    rng = np.random.default_rng(7)
    data = _data(rng)
    net = FullyConnectedNet([10], input_dim=12, num_classes=3, normalization="batchnorm",
                            rng=rng)
    solver = Solver(net, data, rng=np.random.default_rng(8), update_rule=RULES["sgd_momentum"],
                    optim_config={"learning_rate": 0.05}, batch_size=30, num_epochs=4,
                    progress=False).train()
    for k in solver.best_state:
        np.testing.assert_array_equal(net.state[k], solver.best_state[k])
    acc = float(np.mean(predict(net, data["X_val"]) == data["y_val"]))
    assert acc == pytest.approx(solver.best_val_acc)


def test_lr_schedule_l1_and_max_norm():
    rng = np.random.default_rng(9)
    data = _data(rng)
    net = FullyConnectedNet([16], input_dim=12, num_classes=3, rng=rng)
    solver = Solver(net, data, rng=np.random.default_rng(1), optim_config={"learning_rate": 0.1},
                    lr_schedule=lambda t: 1.0 / (1 + t), l1_reg=1e-3, max_norm=0.5,
                    batch_size=30, num_epochs=2, progress=False).train()
    assert solver.learning_rate_history == pytest.approx([0.1 / (1 + t) for t in range(6)])
    for name in ("W1", "W2"):
        norms = np.linalg.norm(net.params[name], axis=0)
        assert norms.max() <= 0.5 + 1e-12


def test_solver_rejects_unknown_rules_and_bad_max_norm():
    net = FullyConnectedNet([3], input_dim=2, num_classes=2, rng=np.random.default_rng(0))
    data = _data(np.random.default_rng(0), d=2, c=2)
    with pytest.raises(ValueError, match="unknown update rule 'adamw'"):
        Solver(net, data, rng=np.random.default_rng(0), update_rule="adamw")
    with pytest.raises(ValueError, match="max_norm"):
        Solver(net, data, rng=np.random.default_rng(0), max_norm=0)


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_is_pure_keeps_dtype_and_carries_its_state(name):
    rule = RULES[name]
    rng = np.random.default_rng(10)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    config = None
    for _ in range(3):
        dw = rng.normal(size=w.shape).astype(np.float32)
        frozen = (w.copy(), dw.copy(), copy.deepcopy(config))
        next_w, next_config = rule(w, dw, config)
        np.testing.assert_array_equal(w, frozen[0])
        np.testing.assert_array_equal(dw, frozen[1])
        if config is not None:
            for k, v in frozen[2].items():
                assert np.array_equal(config[k], v), k
        assert next_w.dtype == np.float32 and next_w.shape == w.shape
        assert not np.array_equal(next_w, w)
        w, config = next_w, next_config


@pytest.mark.parametrize("adam", [RULES["adam"], RULES["fast adam"]])
def test_adam_first_step_moves_every_weight_by_the_learning_rate(adam):
    w, dw = np.zeros(4), np.array([3.0, -1e-3, 50.0, -2.0])
    next_w, config = adam(w, dw, {"learning_rate": 0.01})
    np.testing.assert_allclose(next_w, -0.01 * np.sign(dw), rtol=1e-4)
    assert config["t"] == 1


def test_init_weights_schemes():
    rng = np.random.default_rng(11)
    W = init_weights(400, 300, "he", np.random.default_rng(3))
    np.testing.assert_array_equal(W, np.random.default_rng(3).standard_normal((400, 300))
                                  * np.sqrt(2 / 400))
    assert np.all(init_weights(3, 2, "constant", rng) == 0)
    assert np.all(init_weights(3, 2, "constant", rng, scale=0.5) == 0.5)


def test_batchnorm_backward_versions_agree_and_dropout_keeps_the_mean():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(16, 5)) * 3 + 1
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    out, cache, _ = normalization.batchnorm_forward(x, gamma, beta, np.zeros(5), np.ones(5))
    dout = rng.normal(size=out.shape)
    for a, b in zip(normalization.batchnorm_backward(dout, cache),
                    normalization.batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    big = np.ones((400, 500))
    kept, _ = normalization.dropout_forward(big, 0.3, "train", np.random.default_rng(0))
    assert abs(kept.mean() - 1.0) < 0.02   # 200,000 units: std of the mean 0.0034


def test_library_building_blocks_replace_only_what_the_code_uses():
    ns = {"np": np}
    exec("""
def init_weights(fan_in, fan_out, scheme, rng, scale=None, dtype=np.float64):
    raise RuntimeError("the student's broken init")

class Net:
    def __init__(self, D, C, rng=None):
        self.params = {"W1": init_weights(D, C, "he", rng)}
""", ns)
    with pytest.raises(RuntimeError, match="broken init"):
        ns["Net"](3, 2, rng=np.random.default_rng(0))
    with blocks_of("04_optimizers_init"):
        [(params, state)] = adapters.model_init(ns["Net"], (3, 2), {}, (0,))
    assert params["W1"].shape == (3, 2) and state == {}
    with pytest.raises(RuntimeError, match="broken init"):  # put back afterwards
        ns["Net"](3, 2, rng=np.random.default_rng(0))


def test_model_loss_refuses_a_loss_that_is_not_a_pair():
    class Bad:
        def __init__(self, rng=None):
            self.params = {"W": np.zeros((2, 2))}

        def loss(self, X, y=None):
            return 1.0

    with pytest.raises(CheckFailed, match="must return a tuple"):
        adapters.model_loss(Bad, (), {}, {"W": np.zeros((2, 2))}, np.zeros((1, 2)), np.array([0]))
