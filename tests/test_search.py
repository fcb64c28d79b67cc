"""Unit tests for assignments/search.py."""

import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from assignments.search import (Choice, EdgeWarning, IntUniform, LogUniform, SearchResult, Trial,
                                Uniform, plot_search, random_search)

SPACE = {"lr": LogUniform(1e-4, 1e-1), "reg": LogUniform(1e-5, 1e-1)}


def peaked(lr, reg):
    """Best at lr = 10**-2.5 and reg = 10**-3: the middle of both ranges."""
    return 1.0 - (math.log10(lr) + 2.5) ** 2 - (math.log10(reg) + 3) ** 2


def search(evaluate, space=SPACE, n=30, seed=0, **kw):
    return random_search(evaluate, space, n, np.random.default_rng(seed), progress=False, **kw)


def no_edge_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    assert not [w for w in caught if issubclass(w.category, EdgeWarning)]
    return result


# --------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------

def test_log_uniform_samples_are_uniform_in_log_space():
    dist = LogUniform(1e-4, 1e-1)
    rng = np.random.default_rng(0)
    s = np.array([dist.sample(rng) for _ in range(3000)])
    assert np.all((s >= 1e-4) & (s <= 1e-1))
    assert all(isinstance(v, float) for v in s[:5].tolist())
    logs = np.log10(s)
    # each decade holds about a third of the samples (a linear uniform would
    # put < 1 % below 1e-3)
    counts, _ = np.histogram(logs, bins=[-4, -3, -2, -1])
    assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.04)
    assert abs(np.median(logs) + 2.5) < 0.1


def test_log_uniform_position_and_validation():
    dist = LogUniform(1e-4, 1e-1)
    assert dist.position(1e-4) == pytest.approx(0.0)
    assert dist.position(1e-1) == pytest.approx(1.0)
    assert dist.position(10 ** -2.5) == pytest.approx(0.5)
    assert dist.position(1e-3) == pytest.approx(1 / 3)
    for low, high in ((0, 1), (1, 0.5), (-1, 1)):
        with pytest.raises(ValueError, match=f"LogUniform needs 0 < low < high, got {low}, {high}"):
            LogUniform(low, high)


def test_other_distributions():
    rng = np.random.default_rng(1)
    u = [Uniform(2.0, 3.0).sample(rng) for _ in range(500)]
    assert min(u) >= 2.0 and max(u) <= 3.0 and 2.4 < np.mean(u) < 2.6
    assert Uniform(2.0, 4.0).position(3.0) == 0.5
    ints = [IntUniform(1, 3).sample(rng) for _ in range(300)]
    assert set(ints) == {1, 2, 3} and all(type(i) is int for i in ints)
    assert IntUniform(10, 20).position(15) == 0.5
    c = [Choice(("relu", "tanh")).sample(rng) for _ in range(50)]
    assert set(c) == {"relu", "tanh"}
    assert Choice((1, 2)).position(1) is None


# --------------------------------------------------------------------------
# random_search
# --------------------------------------------------------------------------

def test_search_calls_evaluate_with_sampled_params():
    seen = []

    def evaluate(**params):
        seen.append(params)
        return 0.5

    result = no_edge_warnings(lambda: search(evaluate, n=7, warn=False))
    assert len(result.trials) == 7 and len(seen) == 7
    assert [t.params for t in result.trials] == seen
    assert all(set(p) == {"lr", "reg"} for p in seen)
    assert all(1e-4 <= p["lr"] <= 1e-1 and 1e-5 <= p["reg"] <= 1e-1 for p in seen)


def test_search_is_deterministic_per_seed():
    a = search(peaked, seed=5)
    b = search(peaked, seed=5)
    c = search(peaked, seed=6)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


def test_best_trial_is_the_highest_score():
    result = no_edge_warnings(lambda: search(peaked, n=40))
    scores = [t.score for t in result.trials]
    assert result.best.score == max(scores)
    assert result.best is result.trials[int(np.argmax(scores))]
    assert abs(math.log10(result.best.params["lr"]) + 2.5) < 0.6
    assert result.edge_warnings() == []


def test_edge_warning_when_best_is_at_an_edge():
    # accuracy grows with the learning rate: the best lr sits at the high end
    space = {"lr": LogUniform(1e-4, 1e-1), "depth": Choice((1, 2))}  # a Choice has no edge
    with pytest.warns(EdgeWarning) as record:
        result = search(lambda lr, depth: lr, space, n=30)
    messages = [str(w.message) for w in record if w.category is EdgeWarning]
    assert len(messages) == 1
    best_lr = result.best.params["lr"]
    assert LogUniform(1e-4, 1e-1).position(best_lr) >= 0.9
    assert messages[0] == (f"best lr = {best_lr:.3g} is at the high end of the searched range "
                           "[0.0001, 0.1]; widen the range")


def test_edge_warning_low_end_and_no_warning_when_disabled():
    space = {"reg": LogUniform(1e-5, 1e-1), "act": Choice(("relu", "tanh"))}
    with pytest.warns(EdgeWarning) as record:
        search(lambda reg, act: -math.log10(reg), space, n=40)
    messages = [str(w.message) for w in record if w.category is EdgeWarning]
    assert len(messages) == 1
    assert messages[0].startswith("best reg = ")
    assert "is at the low end of the searched range [1e-05, 0.1]" in messages[0]
    no_edge_warnings(lambda: search(lambda lr, reg: lr, n=10, warn=False))


def test_diverged_trials_are_kept_as_minus_inf():
    def evaluate(lr, reg):
        return float("nan") if lr > 1e-2 else peaked(lr, reg)

    result = search(evaluate, n=30, warn=False)
    assert len(result.trials) == 30
    diverged = [t for t in result.trials if t.params["lr"] > 1e-2]
    assert diverged and all(t.score == -np.inf for t in diverged)
    assert np.isfinite(result.best.score) and result.best.params["lr"] <= 1e-2
    # the table lists diverged trials last
    lines = result.table(top=30).splitlines()
    assert lines[-1].split()[-1] == "-inf"
    assert "lr" in lines[0] and "val_acc" in lines[0]

    inf_result = search(lambda lr, reg: np.inf, n=3, warn=False)
    assert all(t.score == -np.inf for t in inf_result.trials)


def test_all_trials_diverging_still_returns_them():
    result = search(lambda lr, reg: float("nan"), n=4)
    assert len(result.trials) == 4
    with pytest.raises(ValueError, match="no trial produced a finite score"):
        result.best


def test_dict_results_keep_extra_values():
    def evaluate(lr, reg):
        return {"val_acc": peaked(lr, reg), "train_acc": 0.9, "history": [1, 2]}

    result = search(evaluate, n=5)
    t = result.trials[0]
    assert t.score == peaked(**t.params)
    assert t.extra == {"train_acc": 0.9, "history": [1, 2]}
    loss = search(lambda lr, reg: {"neg_loss": -lr}, n=5, metric="neg_loss", warn=False)
    assert loss.metric == "neg_loss" and loss.best.score == max(-t.params["lr"] for t in loss.trials)


def test_missing_metric_key_raises():
    with pytest.raises(KeyError) as info:
        search(lambda lr, reg: {"acc": 0.5, "loss": 1.0}, n=2)
    assert "evaluate returned a dict without 'val_acc': ['acc', 'loss']" in str(info.value)


def test_search_needs_a_generator():
    with pytest.raises(TypeError, match="default_rng"):
        random_search(peaked, SPACE, 3, None, progress=False)
    with pytest.raises(TypeError, match="default_rng"):
        random_search(peaked, SPACE, 3, 42, progress=False)


def test_plot_search():
    result = search(lambda lr, reg: float("nan") if lr > 3e-2 else peaked(lr, reg), n=20,
                    warn=False)
    ax = plot_search(result, "lr", "reg")
    try:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "lr" and ax.get_ylabel() == "reg"
        assert ax.get_title() == (f"random search: 20 trials, best val_acc "
                                  f"{result.best.score:.3f}")
        assert "diverged" in [t.get_text() for t in ax.get_legend().get_texts()]
    finally:
        plt.close(ax.figure)
    linear = SearchResult([Trial({"a": 0.5, "b": 1}, 0.3), Trial({"a": 0.7, "b": 2}, 0.6)],
                          {"a": Uniform(0, 1), "b": IntUniform(1, 3)})
    ax = plot_search(linear, "a", "b")
    assert ax.get_xscale() == "linear"
    plt.close(ax.figure)
