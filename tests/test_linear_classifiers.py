"""Notebook 02 (linear classifiers): public checks, adapters, hidden cases, pictures."""


import matplotlib.pyplot as plt
import numpy as np
import pytest

from assignments import data as datasets
from assignments import monitor, vis
from assignments.notebooks import linear_classifiers as L
from assignments.notebooks import linear_classifiers_plots as P
from assignments.notebooks import linear_classifiers_training as TR
from assignments.static import check_no_loops
from assignments.cases import CheckFailed, run_cases
from assignments.data import append_bias
from assignments.gradcheck import eval_numerical_gradient, rel_error
from autograder import tasks as T
from autograder.notebooks import reference_namespace
from autograder.tasks import linear_classifiers as hidden

ASSIGNMENT = "02_linear_classifiers"


@pytest.fixture(scope="module")
def ref():
    return reference_namespace(ASSIGNMENT)


@pytest.fixture(scope="module")
def module():
    return T.load(ASSIGNMENT)


# --------------------------------------------------------------------------
# the reference solution and the visible checks
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["svm_loss_naive", "svm_loss_vectorized"])
def test_reference_svm_passes_visible_checks(ref, name):
    L.check_svm_loss(ref[name])


@pytest.mark.parametrize("name", ["softmax_loss_naive", "softmax_loss_vectorized"])
def test_reference_softmax_passes_visible_checks(ref, name):
    L.check_softmax_loss(ref[name])


def test_reference_classifier_passes_visible_checks(ref):
    TR.check_train(ref["LinearClassifier"])
    TR.check_predict(ref["LinearClassifier"])
    for model in ("svm", "softmax"):
        L.check_best_params(ref["best_params"], model)


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_naive_and_vectorized_agree_on_random_inputs(ref, kind):
    rng = np.random.default_rng(0)
    naive, vec = ref[f"{kind}_loss_naive"], ref[f"{kind}_loss_vectorized"]
    for _ in range(5):
        N, D, C = rng.integers(1, 15), rng.integers(1, 12), rng.integers(2, 8)
        W, X = rng.normal(size=(D, C)), rng.normal(size=(N, D)) * 3
        y, reg = rng.integers(0, C, size=N), float(rng.uniform(0, 1))
        (l1, g1), (l2, g2) = naive(W, X, y, reg), vec(W, X, y, reg)
        assert abs(l1 - l2) < 1e-10 * max(1, abs(l1))
        assert rel_error(g1, g2) < 1e-9


@pytest.mark.parametrize("name", ["svm_loss_vectorized", "softmax_loss_vectorized"])
def test_reference_gradients_match_numerical(ref, name):
    W, X, y = hidden._away_from_kinks(np.random.default_rng(9),
                                      lambda r: L.gradient_problem(int(r.integers(1000)), 10, 6, 5),
                                      1e-2)
    loss, dW = ref[name](W, X, y, 0.4)
    num = eval_numerical_gradient(lambda w: ref[name](w, X, y, 0.4)[0], W.copy(), h=1e-6)
    assert rel_error(dW, num) < 1e-7


def test_hand_computed_svm_values_follow_the_definition():
    # one example, scores (1, 2, 1), label 0: margins 2 and 1
    s = L._X_SVM[:1] @ L._W_SVM
    assert np.array_equal(s, [[1.0, 2.0, 1.0]])
    assert max(0, s[0, 1] - s[0, 0] + 1) + max(0, s[0, 2] - s[0, 0] + 1) == 3.0
    # the second example meets every margin
    s2 = L._X_SVM[1] @ L._W_SVM
    assert all(s2[j] - s2[0] + 1 <= 0 for j in (1, 2))
    assert np.allclose(L._DW_TWO_REG, [[-0.8, 0.5, 0.3], [-2.0, 1.2, 1.2]])


def test_softmax_stability_case_is_exact(ref):
    case = next(c for c in L.softmax_loss_cases() if "1e4" in c.label)
    loss, dW = ref["softmax_loss_vectorized"](*case.args)
    assert np.isfinite(loss) and abs(loss - np.log(4.0)) < 1e-9
    with np.errstate(all="ignore"):
        W, X, y, reg = case.args
        naive_scores = X @ W
        p = np.exp(naive_scores) / np.exp(naive_scores).sum(axis=1, keepdims=True)
    assert not np.all(np.isfinite(p)), "the case must overflow without the shift"


def test_visible_checks_catch_a_wrong_loss(ref):
    def no_reg(W, X, y, reg):
        return ref["svm_loss_vectorized"](W, X, y, 0.0)

    with pytest.raises(CheckFailed, match="reg = 0.1"):
        L.check_svm_loss(no_reg)


def test_no_loop_check_reports_loops(ref):
    check_no_loops(ref["svm_loss_vectorized"])
    with pytest.raises(CheckFailed, match="for loop"):
        check_no_loops(ref["svm_loss_naive"])


# --------------------------------------------------------------------------
# adapters
# --------------------------------------------------------------------------

def test_squared_error_loss_gradient(ref):
    softmax = ref["softmax_loss_vectorized"]
    rng = np.random.default_rng(1)
    W, X, y = rng.normal(size=(5, 4)), rng.normal(size=(7, 5)), rng.integers(0, 4, 7)
    loss, dW = L.squared_error_loss(W, X, y, 0.3, softmax)
    num = eval_numerical_gradient(lambda w: L.squared_error_loss(w, X, y, 0.3, softmax)[0],
                                  W.copy())
    assert rel_error(dW, num) < 1e-8
    p = np.exp(X @ W) / np.exp(X @ W).sum(axis=1, keepdims=True)
    p[np.arange(7), y] -= 1
    assert loss == pytest.approx(np.sum(p * p) / 7 + 0.3 * np.sum(W * W), rel=1e-12)


def test_probe_loss_gradient_is_bounded_and_right():
    rng = np.random.default_rng(2)
    W, X, y = rng.normal(size=(5, 4)) * 1e3, rng.normal(size=(7, 5)), rng.integers(0, 4, 7)
    loss, dW = TR.probe_loss(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.abs(dW) <= np.abs(X).sum(axis=0)[:, None] / 7 + 1e-12)
    W = rng.normal(size=(5, 4))
    _, dW = TR.probe_loss(W, X, y, 0.3)
    num = eval_numerical_gradient(lambda w: TR.probe_loss(w, X, y, 0.3)[0], W.copy())
    assert rel_error(dW, num) < 1e-8


def test_scores_loss_returns_the_gradient_wrt_scores(ref):
    S = np.array([[2.0, 2.5, -1.0], [0.0, 1.0, 3.0]])
    y = np.array([0, 2])
    loss, dS = L.scores_loss(ref["softmax_loss_vectorized"], S, y)
    p = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    assert abs(loss - np.mean(-np.log(p[[0, 1], y]))) < 1e-12
    expected = p.copy()
    expected[[0, 1], y] -= 1
    assert np.allclose(dS, expected / 2)


def _trainer(ref, how):
    """A LinearClassifier whose train draws batches as ``how`` says: "shuffle" (a correct
    loop over shuffled epochs), "global" (np.random), "fixed" (the first rows) or
    "step" (a doubled step)."""
    base = ref["LinearClassifier"]

    class Trainer(base):
        def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200,
                  rng=None, verbose=False):
            if self.W is None:
                self.W = 0.001 * rng.standard_normal((X.shape[1], int(np.max(y)) + 1))
            order, history = np.zeros(0, dtype=np.int64), []
            for _ in range(num_iters):
                if how == "global":
                    idx = np.random.randint(0, len(y), size=batch_size)
                elif how == "fixed":
                    idx = np.arange(batch_size)
                elif how == "shuffle":
                    while len(order) < batch_size:
                        order = np.concatenate([order, rng.permutation(len(y))])
                    idx, order = order[:batch_size], order[batch_size:]
                else:
                    idx = rng.integers(0, len(y), size=batch_size)
                loss, dW = self.loss(X[idx], y[idx], reg)
                step = 2 * learning_rate if how == "step" else learning_rate
                self.W = self.W - step * dW
                history.append(loss)
            return history

    return Trainer


@pytest.mark.parametrize("how,message", [("global", "np.random"), ("fixed", "drawn"),
                                         ("step", "W - learning_rate")])
def test_sgd_probe_catches_training_bugs(ref, how, message):
    bad = _trainer(ref, how)
    with pytest.raises(CheckFailed, match=message):
        run_cases(bad, TR.train_cases(), namespace={"LinearClassifier": bad}, quiet=True)


def test_sgd_probe_never_touches_the_global_random_state(ref):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    case = TR.train_cases()[0]
    TR.sgd_probe(ref["LinearClassifier"], **case.kwargs)
    assert np.array_equal(np.random.get_state()[1], before)


def test_accuracy_floor_separates_good_and_bad_settings(ref):
    import functools

    recipe = L.RECIPES["softmax"]
    train = functools.partial(L.train_linear, ref["Softmax"])
    good = recipe.validation_accuracy({"learning_rate": 0.3, "reg": 1e-5}, train)
    bad = recipe.validation_accuracy({"learning_rate": 3e-4, "reg": 1e-5}, train)
    assert good >= recipe.min_val_acc + 0.02 > recipe.min_val_acc > bad


# --------------------------------------------------------------------------
# hidden cases
# --------------------------------------------------------------------------

def test_hidden_cases_cover_the_required_situations(ref, module):
    labels = {tid: [c.label for c in T.hidden_cases(t, ref, 1)]
              for tid, t in module.tasks.items()}
    for tid in ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive",
                "softmax_loss_vectorized"):
        text = " | ".join(labels[tid])
        for needle in ("only classes 0 and 2", "reg = 0", "a single example", "real images",
                       "numerical gradient"):
            assert needle in text, f"{tid}: no hidden case with {needle!r}"
    assert any("1e4" in lab for lab in labels["softmax_loss_vectorized"])
    assert any("floor" in lab for lab in labels["svm_tuned"])
    assert any("floor" in lab for lab in labels["softmax_tuned"])


# --------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------

def test_pictures_draw(ref):
    rng = np.random.default_rng(0)
    X, y = datasets.make_clusters(20, rng)
    assert X.shape == (60, 2) and set(y) == {0, 1, 2}
    X2, y2 = datasets.make_clusters(20, np.random.default_rng(0))
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    W = rng.normal(size=(3, 3))
    P.plot_linear_scores(W, X, y)
    vis.plot_decision_regions({"a": lambda Q: np.argmax(append_bias(Q) @ W, axis=1)}, X, y)
    monitor.plot_losses({"a": list(np.linspace(3, 1, 50)), "b": [2.0, 1.0]}, window=25,
                        logy=True, events={10: "learning rate / 10"})
    P.plot_correct_score_sweep({"svm": ref["svm_loss_vectorized"]}, (1.0, -0.5))
    P.plot_ce_vs_mse()
    plt.close("all")


def test_templates_shape_and_clipping():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(2 * 3 * 3 + 1, 4))
    W[0, 0] = 100.0
    t = P.templates(W, (2, 3, 3))
    assert t.shape == (4, 2, 3, 3)
    assert t.max() < 100.0
    assert np.array_equal(P.templates(W, (2, 3, 3), clip_percentile=None)[0, 0, 0, 0], 100.0)
    with pytest.raises(ValueError):
        P.templates(W, (3, 3))


# --------------------------------------------------------------------------
# issue 9: no solution lines in the visible helpers, no luck in the hidden cases
# --------------------------------------------------------------------------

def test_visible_gradient_problem_keeps_clear_of_the_kinks():
    W, X, y = L.gradient_problem(3)
    assert hidden._min_margin_gap(W, X, y) > 0.5


def test_visible_helpers_hold_no_svm_or_softmax_solution():
    import inspect

    source = inspect.getsource(L) + inspect.getsource(TR) + inspect.getsource(P)
    for line in ("scores[rows, y][:, np.newaxis]", "np.max(scores, axis=1, keepdims=True)",
                 "s[np.arange(N), y][:, None]", "scores.max(axis=1, keepdims=True)"):
        assert line not in source, line
    assert "np.random.seed" not in source


@pytest.mark.parametrize("task_id", ["svm_loss_naive", "svm_loss_vectorized"])
def test_hidden_svm_problems_keep_every_margin_off_the_kink(ref, module, task_id):
    task = module.tasks[task_id]
    for seed in range(30):
        for case in T.hidden_cases(task, ref, seed):
            W, X, y = case.args[1:4] if case.call is not None else case.args[:3]
            assert hidden._min_margin_gap(W, X, y) > 1e-6, (seed, case.label)


def test_hidden_train_cases_use_two_different_seeds(ref, module):
    task = module.tasks["train"]
    for seed in range(200):
        for case in T.hidden_cases(task, ref, seed):
            seeds = case.kwargs["seeds"]
            if len(seeds) == 3:
                assert seeds[0] == seeds[1] != seeds[2]
                N, B, T_ = len(case.kwargs["y"]), case.kwargs["batch_size"], case.kwargs["num_iters"]
                assert T_ * B / N >= 35


def test_a_shuffling_trainer_passes_every_hidden_case(ref, module):
    """A correct loop that draws batches differently (epochs of shuffled rows) must pass."""
    shuffling = _trainer(ref, "shuffle")
    task = module.tasks["train"]
    for seed in range(20):
        run_cases(None, T.all_cases(task, ref, seed), name="LinearClassifier.train",
                  namespace={"LinearClassifier": shuffling}, quiet=True)


def test_sparse_gradient_check_passes_correct_and_stops_wrong_gradients(ref, capsys):
    data = L.RECIPES["svm"].data()
    X, y = data["X_train"][:500], data["y_train"][:500]
    for seed in range(3):
        W = 0.01 * np.random.default_rng(seed).standard_normal((X.shape[1], 10))
        for name in ("svm_loss_naive", "softmax_loss_vectorized"):
            L.sparse_gradient_check(ref[name], W, X, y, 0.1, seed=seed)

    def half_gradient(W, X, y, reg):
        loss, dW = ref["softmax_loss_vectorized"](W, X, y, reg)
        return loss, dW / 2

    with pytest.raises(CheckFailed, match="at coordinate"):
        L.sparse_gradient_check(half_gradient, W, X, y, 0.1, seed=0)
    capsys.readouterr()


def test_compare_versions_stops_on_disagreement(ref, capsys):
    W, X, y = L.gradient_problem(3)
    assert L.compare_versions(ref["svm_loss_naive"], ref["svm_loss_vectorized"], W, X, y, 0.1) > 0

    def off(W, X, y, reg):
        loss, dW = ref["svm_loss_vectorized"](W, X, y, reg)
        return loss * 1.01, dW

    with pytest.raises(CheckFailed, match="disagree on the loss"):
        L.compare_versions(ref["svm_loss_naive"], off, W, X, y, 0.1)
    capsys.readouterr()
