"""Notebook 3's layers (their one home: the source notebook's answer cells) and the
library's own activations (assignments.layers): gradients and properties."""

import types

import numpy as np
import pytest

from assignments import layers as library
from assignments.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from course_answers import answers

layers = types.SimpleNamespace(**vars(answers("03_two_layer_net")),
                               **{k: getattr(library, k) for k in library.__all__})

def _check_backward(forward, backward, args, dout, tol=1e-8):
    out, cache = forward(*args)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, (arg, g) in enumerate(zip(args, grads)):
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return forward(*a)[0]
        num = eval_numerical_gradient_array(f, np.array(arg, dtype=float), dout)
        assert g.shape == np.shape(arg)
        assert rel_error(g, num) < tol, (forward.__name__, i, rel_error(g, num))


def test_affine_gradients_with_extra_dimensions():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=(8, 5)), rng.normal(size=5)
    _check_backward(layers.affine_forward, layers.affine_backward, (x, w, b),
                    rng.normal(size=(3, 5)))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_activation_gradients(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 2)) * 2
    x += np.sign(x) * 0.1  # stay away from the kinks of ReLU and leaky ReLU
    fwd, bwd = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    _check_backward(fwd, bwd, (x,), rng.normal(size=x.shape))


def test_activation_table_follows_the_layer_contract():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    table = library.activations((layers.relu_forward, layers.relu_backward),
                                (layers.sigmoid_forward, layers.sigmoid_backward))
    for name, (fwd, bwd) in table.items():
        out, cache = fwd(x)
        dx = bwd(np.ones_like(out), cache)
        assert out.shape == dx.shape == x.shape, name
        assert np.all(dx >= 0), name
    assert layers.relu_backward(np.ones(3), np.array([-1.0, 0.0, 1.0])).tolist() == [0, 0, 1]
    assert layers.leaky_relu_backward(np.ones(2), (np.array([0.0, 1.0]), 0.1)).tolist() == [0.1, 1]


@pytest.mark.parametrize("loss_name", ["softmax_loss", "svm_loss"])
def test_loss_gradients_and_properties(loss_name):
    rng = np.random.default_rng(3)
    loss_fn = getattr(layers, loss_name)
    scores = rng.normal(size=(6, 5)) * 2
    y = rng.integers(0, 5, size=6)
    loss, dscores = loss_fn(scores, y)
    num = eval_numerical_gradient(lambda s: loss_fn(s, y)[0], scores.copy())
    assert rel_error(dscores, num) < 1e-6
    assert loss >= 0
    np.testing.assert_allclose(dscores.sum(axis=1), 0, atol=1e-12)  # both losses: rows sum to 0


def test_losses_at_zero_scores():
    y = np.array([0, 2, 1])
    assert layers.softmax_loss(np.zeros((3, 4)), y)[0] == pytest.approx(np.log(4))
    assert layers.svm_loss(np.zeros((3, 4)), y)[0] == pytest.approx(3.0)


def test_sigmoid_and_softmax_do_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, _ = layers.sigmoid_forward(np.array([-1e4, -700.0, 0.0, 700.0, 1e4]))
        loss, d = layers.softmax_loss(np.array([[1e4, 0.0, -1e4]]), np.array([2]))
    assert s[0] == 0.0 and s[2] == 0.5 and s[-1] == 1.0
    assert np.isfinite(loss) and np.all(np.isfinite(d))


def test_layers_do_not_modify_their_inputs():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    dout = rng.normal(size=(3, 2))
    args = [x, w, b, dout]
    before = [a.copy() for a in args]
    layers.affine_backward(dout, layers.affine_forward(x, w, b)[1])
    layers.relu_backward(x, layers.relu_forward(x)[1])
    layers.sigmoid_backward(x, layers.sigmoid_forward(x)[1])
    scores = rng.normal(size=(3, 4))
    kept = scores.copy()
    layers.softmax_loss(scores, np.array([0, 1, 2]))
    layers.svm_loss(scores, np.array([0, 1, 2]))
    for a, c in zip(args + [scores], before + [kept]):
        np.testing.assert_array_equal(a, c)
