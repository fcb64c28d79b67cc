"""Notebook 02 (linear classifiers): public checks, adapters, hidden cases, pictures."""


import matplotlib.pyplot as plt
import numpy as np
import pytest

from assignments import data as datasets
from assignments import vis
from assignments.notebooks import linear_classifiers as L
from assignments.static import check_no_loops
from assignments.cases import CheckFailed, run_cases
from assignments.data import append_bias
from assignments.gradcheck import eval_numerical_gradient, rel_error
from autograder import tasks as T
from autograder.notebooks import reference_namespace

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
    L.check_train(ref["LinearClassifier"])
    L.check_predict(ref["LinearClassifier"])
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
    W, X, y = L._safe_svm_problem(9, N=10, D=6, C=5)
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

def test_squared_error_loss_gradient():
    rng = np.random.default_rng(1)
    W, X, y = rng.normal(size=(5, 4)), rng.normal(size=(7, 5)), rng.integers(0, 4, 7)
    _, dW = L.squared_error_loss(W, X, y, 0.3)
    num = eval_numerical_gradient(lambda w: L.squared_error_loss(w, X, y, 0.3)[0], W.copy())
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


def _bad_trainer(ref, how):
    base = ref["LinearClassifier"]

    class Bad(base):
        def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200,
                  rng=None, verbose=False):
            if self.W is None:
                self.W = 0.001 * rng.standard_normal((X.shape[1], int(np.max(y)) + 1))
            history = []
            for _ in range(num_iters):
                if how == "global":
                    idx = np.random.randint(0, len(y), size=batch_size)
                elif how == "fixed":
                    idx = np.arange(batch_size)
                else:
                    idx = rng.integers(0, len(y), size=batch_size)
                loss, dW = self.loss(X[idx], y[idx], reg)
                step = 2 * learning_rate if how == "step" else learning_rate
                self.W = self.W - step * dW
                history.append(loss)
            return history

    return Bad


@pytest.mark.parametrize("how,message", [("global", "np.random"), ("fixed", "drawn"),
                                         ("step", "W - learning_rate")])
def test_sgd_probe_catches_training_bugs(ref, how, message):
    bad = _bad_trainer(ref, how)
    with pytest.raises(CheckFailed, match=message):
        run_cases(bad, L.train_cases(), namespace={"LinearClassifier": bad}, quiet=True)


def test_sgd_probe_restores_the_global_random_state(ref):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    case = L.train_cases()[0]
    L.sgd_probe(ref["LinearClassifier"], **case.kwargs)
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
    L.plot_linear_scores(W, X, y)
    vis.plot_decision_regions({"a": lambda P: np.argmax(append_bias(P) @ W, axis=1)}, X, y)
    L.plot_loss_histories({"a": list(np.linspace(3, 1, 50)), "b": [2.0, 1.0]})
    L.plot_correct_score_sweep({"svm": ref["svm_loss_vectorized"]}, (1.0, -0.5))
    L.plot_ce_vs_mse()
    plt.close("all")


def test_templates_shape_and_clipping():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(2 * 3 * 3 + 1, 4))
    W[0, 0] = 100.0
    t = L.templates(W, (2, 3, 3))
    assert t.shape == (4, 2, 3, 3)
    assert t.max() < 100.0
    assert np.array_equal(L.templates(W, (2, 3, 3), clip_percentile=None)[0, 0, 0, 0], 100.0)
    with pytest.raises(ValueError):
        L.templates(W, (3, 3))
